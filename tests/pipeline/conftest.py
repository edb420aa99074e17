import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))

from task_fixtures import _offline, examples, jamba_ckpt, mamba_ckpt, short_jamba_ckpt  # noqa: E402,F401
