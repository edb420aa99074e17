"""`ssmdoc version`: the installed version and the versions of the engines underneath."""

from __future__ import annotations

import typer

from ssmdoc import __version__
from ssmdoc.cli import app


@app.command()
def version() -> None:
    """Print ssmdoc's version and the torch / triton it runs on."""
    import torch

    try:
        import triton

        triton_version = triton.__version__
    except ImportError:
        triton_version = "not installed"
    typer.echo(f"ssmdoc {__version__} (torch {torch.__version__}, triton {triton_version})")
