"""The contract every robustness case is held to, and small helpers to run ssmdoc in-process or as a process."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from ssmdoc.cli import app

TIMEOUT = 60  # seconds any one subprocess may take; a hang fails the case instead of the suite


def snapshot(*roots: Path) -> dict[str, str]:
    """SHA-256 of every regular file under `roots` (files or directories), to prove inputs are untouched."""
    out = {}
    for root in roots:
        paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
        for p in paths:
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def leftovers(*dirs: Path) -> list[str]:
    """Temporary files ssmdoc's safe writes would leave (`.name.XXXX.tmp`) or the old `name.tmp` ones."""
    found = []
    for d in dirs:
        found += [p.name for p in Path(d).iterdir() if p.name.endswith(".tmp")]
    return found


def assert_clean_error(stderr: str, code: int, fragment: str | None = None) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert code == 2, (code, stderr)
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    after = lines[lines.index(errors[0]) + 1 :]
    assert all(line.startswith("hint: ") for line in after) and len(after) <= 1, stderr
    if fragment is not None:
        assert fragment.lower() in stderr.lower(), stderr


def assert_ok(stderr: str, code: int) -> None:
    assert code == 0, (code, stderr)
    assert "Traceback" not in stderr and "internal error" not in stderr and "error: " not in stderr, stderr


class Hang(Exception):
    pass


@contextlib.contextmanager
def bounded(seconds: int = TIMEOUT):
    """Fail instead of hanging: an in-process case that blocks (a FIFO opened twice) gets SIGALRM, whose
    handler raises Hang out of the blocking call (PEP 475 retries system calls only when a handler returns).
    The timer repeats: a handler that runs inside a gc callback has its exception swallowed."""
    active = [True]

    def fire(signum, frame):
        if active[0]:
            raise Hang(f"hung past {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        active[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Run:
    def __init__(self, code: int, stdout: str, stderr: str):
        self.code, self.stdout, self.stderr = code, stdout, stderr

    def error(self, fragment: str | None = None) -> "Run":
        assert_clean_error(self.stderr, self.code, fragment)
        return self

    def ok(self) -> "Run":
        assert_ok(self.stderr, self.code)
        return self


def cli(*args, input=None, env=None) -> Run:
    """ssmdoc in-process (the CliRunner), as the error boundary sees it."""
    result = CliRunner().invoke(app, [str(a) for a in args], input=input, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"escaped the boundary: {result.exception!r}\n{result.stderr}")
    return Run(result.exit_code, result.stdout, result.stderr)


def process(args, *, stdin=None, input: bytes | None = None, timeout: float = TIMEOUT, **kw) -> subprocess.Popen:
    """ssmdoc as a real process (`python -m ssmdoc`), for signals, pipes and /dev/stdin."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.update(kw.pop("env", {}))
    return subprocess.Popen([sys.executable, "-m", "ssmdoc", *map(str, args)], stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, **kw)


def finish(proc: subprocess.Popen, input: bytes | None = None, timeout: float = TIMEOUT) -> Run:
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"hung past {timeout} s: {err.decode(errors='replace')[-2000:]}") from None
    return Run(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))
