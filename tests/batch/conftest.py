import fcntl
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
for sub in ("cli", "ingest"):  # the tiny checkpoints and example inputs, and the hand-made PDFs
    if str(TESTS / sub) not in sys.path:
        sys.path.insert(0, str(TESTS / sub))

from task_fixtures import _offline, examples, mamba_ckpt  # noqa: E402,F401


@pytest.fixture
def one_ray_at_a_time(tmp_path_factory):
    """Tests that start a local Ray take turns, across xdist workers: two clusters on 2 cores would each
    run at half speed. A file lock in the directory all workers' temp dirs share. (xdist's loadgroup would
    do this by scheduling, but with pytest 9.2 it does not group: xdist 3.8 renames items through
    `_nodeid`, which pytest 9's `Node.nodeid` no longer reads.)"""
    with open(tmp_path_factory.getbasetemp().parent / "ssmdoc-ray.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
