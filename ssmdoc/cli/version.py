"""`ssmdoc version` (and `ssmdoc --version` / `-V`): the installed version and the engines underneath.

The versions come from the installed packages' metadata, not from importing them: importing torch takes
seconds, and a version line must not.
"""

from __future__ import annotations

from importlib import metadata

import typer

from ssmdoc import __version__
from ssmdoc.cli import app


def _installed(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def version_line() -> str:
    return f"ssmdoc {__version__} (torch {_installed('torch')}, triton {_installed('triton')})"


@app.command()
def version() -> None:
    """Print ssmdoc's version and the torch / triton it runs on.

    Examples:

        ssmdoc version

        ssmdoc --version
    """
    typer.echo(version_line())
