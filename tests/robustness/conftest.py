"""The robustness suite: hostile and broken inputs around the documents, each a small generated fixture.

Every case ends in exit 0 where success is right, or in exactly one `error:` line (and at most one `hint:`)
with exit 2: never a traceback, never `internal error`, never a temporary file left behind, never an input
modified. Cases run in-process through Typer's CliRunner; only signals and pipes need a real process, and
each of those is bounded by a timeout. See contract.py for the checks.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))

from task_fixtures import _offline, mamba_ckpt  # noqa: E402,F401
