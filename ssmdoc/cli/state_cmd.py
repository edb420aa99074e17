"""`ssmdoc state info|rm`: look inside a saved document state, or clear it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ssmdoc.cli import app
from ssmdoc.state_info import read_meta_verified
from ssmdoc.statefile import remove_states
from ssmdoc.terminal import safe

state_app = typer.Typer(
    help="Saved document states (written with --save): inspect their provenance, or remove them.",
    no_args_is_help=True,
)
app.add_typer(state_app, name="state")


class _SafeTable(Table):
    """Values from a state file (source paths, the model name) are shown as text: no markup, no escapes."""

    def add_row(self, *cells, **kwargs):
        super().add_row(*(Text(safe(str(c))) for c in cells), **kwargs)


def _human(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


@state_app.command("info")
def info(
    file: Path = typer.Argument(..., help="A state file written by --save."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
) -> None:
    """Show what a saved state stands for: model, sources, tokens, and its size split ssm/conv/kv.

    The content hash is verified first; a modified or truncated file is refused.

    Example: ssmdoc state info contract.state --json
    """
    meta = read_meta_verified(file)
    record = dataclasses.asdict(meta)
    record["file"] = str(file)
    record["file_bytes"] = file.stat().st_size
    if as_json:
        typer.echo(json.dumps(record, indent=2))
        return
    table = _SafeTable(title=f"saved state {safe(str(file))}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("model", meta.model + (f" @ {meta.model_revision}" if meta.model_revision else ""))
    table.add_row("architecture", f"{meta.architecture} ({meta.dtype})")
    table.add_row("tokens read", f"{meta.token_count:,} (chunks of {meta.chunk_tokens})")
    sizes = meta.state_bytes
    table.add_row("state bytes", ", ".join(f"{k} {_human(int(sizes.get(k, 0)))}" for k in ("ssm", "conv", "kv")))
    for src in meta.sources:
        table.add_row("source", f"{src.get('kind')}: {src.get('path')} ({src.get('size', '?')} B, sha256 {str(src.get('sha256'))[:12]})")
    table.add_row("created", f"{meta.created} by ssmdoc {meta.ssmdoc_version} (format {meta.format_version})")
    table.add_row("secrets read", "yes (--include-secrets, or named)" if meta.secrets_included else "no")
    table.add_row("content hash", meta.content_hash)
    Console().print(table)


@state_app.command("rm")
def rm(
    files: list[Path] = typer.Argument(..., help="State files to delete."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
) -> None:
    """Delete saved states. Each file is checked to be an ssmdoc state first; nothing else is ever removed.

    A saved state can reveal the documents it was read from: remove it when you no longer need it.

    Example: ssmdoc state rm contract.state notes.state
    """
    for path, size in remove_states(files):
        typer.echo(f"removed {safe(str(path))} ({_human(size)})")
