import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for sub in ("cli", "ingest"):  # the tiny checkpoints and example inputs, and the hand-made PDFs
    if str(TESTS / sub) not in sys.path:
        sys.path.insert(0, str(TESTS / sub))

from task_fixtures import _offline, examples, mamba_ckpt  # noqa: E402,F401
