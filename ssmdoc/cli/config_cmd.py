"""`ssmdoc config`: each setting's value and where it comes from (flag > environment > config file > default)."""

from __future__ import annotations

from typing import Annotated

import typer

from ssmdoc.cli import app


@app.command("config")
def config(
    json_out: Annotated[bool, typer.Option("--json", help='One JSON object: {"file", "file_exists", '
                                           '"settings": [{"key", "value", "source", "env"}, ...]}.')] = False,
) -> None:
    """Show the settings every command starts from, and where each value comes from.

    Precedence, highest first: a flag on the command line, the SSMDOC_* environment variable,
    the config file ($XDG_CONFIG_HOME/ssmdoc/config.toml, or SSMDOC_CONFIG), the built-in default.
    The file is TOML with the keys listed here, e.g. `model = "ibm-granite/granite-4.0-h-1b"`.

    Examples:

        ssmdoc config

        SSMDOC_DEVICE=cpu ssmdoc config --json
    """
    from ssmdoc.cli.common import print_json
    from ssmdoc.settings import BY_KEY, config_path, resolve_all

    path = config_path()
    rows = resolve_all()
    if json_out:
        print_json({"file": str(path), "file_exists": path.is_file(),
                    "settings": [{"key": r.key, "value": r.value, "source": r.source.split(" ")[0],
                                  "env": BY_KEY[r.key].env} for r in rows]})
        return
    typer.echo(f"config file: {path}" + ("" if path.is_file() else " (none)"))
    width = max(len(r.key) for r in rows)
    vwidth = max(len(str(r.value)) for r in rows)
    for r in rows:
        typer.echo(f"{r.key:<{width}}  {str(r.value):<{vwidth}}  {r.source}")
    typer.echo("a flag on the command line overrides all of these; environment variables: SSMDOC_<KEY>")
