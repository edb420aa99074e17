"""`ssmdoc models`: the architectures ssmdoc runs, the checkpoints we recommend, and what is cached locally.

Architectures, their layouts and the recommended checkpoints come from the model-family registry
(ssmdoc.models.families)."""

from __future__ import annotations

from typing import Annotated

import typer

from ssmdoc.cli import app


def _cached_architecture(snapshot) -> str:
    """The checkpoint's architecture, or why ssmdoc cannot run it."""
    from ssmdoc.models import ModelError, load_config

    try:
        return load_config(snapshot).architecture
    except ModelError as exc:
        return f"not supported: {exc.message}"


def models_info() -> dict:
    """Everything `ssmdoc models` shows, as data (also its --json output)."""
    from ssmdoc.hub import CONFIG_CHECKED, DEFAULT_MODEL, cached_models, recommended_models
    from ssmdoc.models.families import all_families

    cached = cached_models()
    cached_ids = {m.repo_id for m in cached if m.has_weights}
    return {
        "default": DEFAULT_MODEL,
        "architectures": [{"architecture": f.architecture, "layers": f.layout} for f in all_families()],
        "default_config_checked": CONFIG_CHECKED.get(DEFAULT_MODEL),
        "recommended": [
            {"repo_id": repo, "note": note, "cached": repo in cached_ids, "config_checked": CONFIG_CHECKED.get(repo)}
            for repo, note in recommended_models()
        ],
        "cached": [
            {
                "repo_id": m.repo_id,
                "size_bytes": m.size_on_disk,
                "path": str(m.snapshot),
                "has_weights": m.has_weights,
                "architecture": _cached_architecture(m.snapshot),
            }
            for m in cached
        ],
    }


@app.command("models")
def models(
    json_out: Annotated[bool, typer.Option("--json", help="The same information as one JSON object.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Tracebacks for errors.")] = False,
) -> None:
    """List supported architectures, recommended checkpoints, and the models in the local Hugging Face cache.

    Examples:

        ssmdoc models

        hf download ai21labs/AI21-Jamba2-3B && ssmdoc models --json
    """
    from rich.console import Console
    from rich.table import Table

    from ssmdoc.cli.common import print_json
    from ssmdoc.hub import hub_cache_dir
    from ssmdoc.report import human_bytes

    info = models_info()
    if json_out:
        print_json(info)
        return
    console = Console()
    table = Table(title="Supported architectures", title_justify="left")
    table.add_column("architecture")
    table.add_column("layers")
    for row in info["architectures"]:
        table.add_row(row["architecture"], row["layers"])
    console.print(table)

    table = Table(title="Recommended checkpoints (config.json checked against transformers)", title_justify="left")
    table.add_column("repo id")
    table.add_column("cached")
    table.add_column("config checked")
    table.add_column("notes")
    checked = {"exact": "yes", "partial": "yes (partial copy)", None: "no"}
    for row in info["recommended"]:
        table.add_row(row["repo_id"], "yes" if row["cached"] else "no", checked[row["config_checked"]], row["note"])
    console.print(table)
    if info["default_config_checked"] is None:
        console.print(f"The default model, {info['default']}, has not had its config checked this way.",
                      markup=False, highlight=False)

    if not info["cached"]:
        console.print(f"No models in the local cache ({hub_cache_dir()}).", markup=False, highlight=False)
        console.print(f"Download one with: hf download {info['default']}", markup=False, highlight=False)
        return
    table = Table(title=f"In the local cache ({hub_cache_dir()})", title_justify="left")
    table.add_column("repo id")
    table.add_column("size", justify="right")
    table.add_column("architecture")
    for row in info["cached"]:
        arch = row["architecture"] if row["has_weights"] else row["architecture"] + " (no weights)"
        table.add_row(row["repo_id"], human_bytes(row["size_bytes"]), arch)
    console.print(table)
