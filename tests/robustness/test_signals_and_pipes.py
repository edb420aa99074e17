"""Why, bullet 8: signals and pipes, on a real process — SIGINT/SIGTERM at any moment, a second SIGINT, a
reader of stdout that leaves, watch with stdin closed or a writer that stops mid-line. Every wait is bounded."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from contract import cli, finish, leftovers, process

from ssmdoc.statefile import read_state

LINES = "".join(f"2024-03-14 02:00:{i:02d} INFO worker: step {i} done\n" for i in range(30))


def clean_interrupt(run) -> None:
    """Ended by the signal: exit 130 with `error: interrupted`; or, having answered from what was read, exit 3
    (README: an answer from part of the input); or, for `read`, exit 0 having saved what was read."""
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    assert "Exception ignored" not in run.stderr, run.stderr
    if run.code == 130:
        assert "error: interrupted" in run.stderr, run.stderr
    else:
        assert run.code in (0, 3) and "warning: interrupted" in run.stderr, (run.code, run.stderr)


def wait_for_handlers(proc, timeout: float = 30) -> None:
    """Until ssmdoc's own code runs: its entry point catches SIGTERM (bit 15 of SigCgt in /proc/PID/status).
    Before that the interpreter itself is starting, which no program can make clean."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{proc.pid}/status") as fh:
                caught = next(int(line.split()[1], 16) for line in fh if line.startswith("SigCgt:"))
        except (OSError, StopIteration):
            caught = 0
        if caught & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.005)
    raise AssertionError("ssmdoc never installed its signal handlers")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc to see the handlers installed")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("delay", [0.0, 0.3, 2.0])  # importing, loading the model, reading
def test_a_signal_at_any_moment_ends_cleanly(mamba_ckpt, sig, delay):
    proc = process(["summarize", "-", "--model", mamba_ckpt, "--max-new-tokens", "3"], stdin=subprocess.PIPE)
    proc.stdin.write(LINES.encode())
    proc.stdin.flush()  # and left open: reading never ends by itself
    wait_for_handlers(proc)
    time.sleep(delay)
    proc.send_signal(sig)
    clean_interrupt(finish(proc))


def test_counts_in_the_report_equal_the_saved_state(mamba_ckpt, tmp_path):
    state = tmp_path / "log.state"
    proc = process(["read", "-", "--save", state, "--model", mamba_ckpt, "--json"], stdin=subprocess.PIPE)
    proc.stdin.write(LINES.encode())
    proc.stdin.flush()
    wait_until_read(proc)  # the pipe stays open: reading goes on
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)  # handled as Ctrl-C: what was read is saved
    run = finish(proc)
    clean_interrupt(run)
    assert leftovers(tmp_path) == []
    if run.code == 0:
        report = json.loads(run.stdout)["report"]
        _, meta = read_state(state)
        assert meta.token_count == report["input_tokens"] > 0


def wait_until_read(proc, timeout: float = 30) -> None:
    """Until the process has taken everything written to its stdin (Linux answers FIONREAD on a pipe)."""
    import fcntl
    import termios

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not int.from_bytes(fcntl.ioctl(proc.stdin.fileno(), termios.FIONREAD, b"\0\0\0\0"), "little"):
            return
        time.sleep(0.05)
    raise AssertionError("the input was never read")


def test_a_second_sigint_exits_at_once(mamba_ckpt):
    proc = process(["watch", "--model", mamba_ckpt, "--max-new-tokens", "5000"], stdin=subprocess.PIPE)
    proc.stdin.write(LINES.encode())
    proc.stdin.flush()
    wait_until_read(proc)
    time.sleep(1.0)  # tokenized and fed
    proc.send_signal(signal.SIGINT)  # on to the final summary: 5000 tokens would take a while
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    run = finish(proc, timeout=30)
    assert time.monotonic() - started < 10
    assert run.code == 130 and "Traceback" not in run.stderr, run.stderr
    assert "error: interrupted" in run.stderr


def test_a_reader_that_leaves_is_not_an_error(mamba_ckpt, tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text(LINES)
    proc = process(["summarize", doc, "--model", mamba_ckpt, "--max-new-tokens", "8"], stdin=subprocess.DEVNULL)
    proc.stdout.close()  # `| head -c 0`: the reader is gone before the first byte
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    err = err.decode(errors="replace")
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err and "error:" not in err, err


def test_watch_with_stdin_closed(mamba_ckpt):
    run = finish(process(["watch", "--model", mamba_ckpt], preexec_fn=lambda: os.close(0)))
    run.error("closed")


def test_watch_when_the_writer_stops_mid_line(mamba_ckpt):
    run = cli("watch", "--model", mamba_ckpt, "--max-new-tokens", "2", "--json", "--every", "5",
              input=LINES + "2024-03-14 02:01:00 ERROR half a li").ok()
    final = json.loads(run.stdout.splitlines()[-1])
    assert final["report"]["input_tokens"] > 0 and final["task"] == "watch"


def test_a_signal_while_the_handlers_are_installed_ends_cleanly():
    """SIGINT's handler is live before the call that installs SIGTERM's returns: a SIGTERM in between raises
    inside `signals.install` (seen once in CI). Simulated: install raises as that handler would."""
    code = ("import sys, ssmdoc.signals as s\n"
            "def install():\n    raise KeyboardInterrupt\n"
            "s.install = install\nsys.argv = ['ssmdoc', 'version']\nfrom ssmdoc.entry import main\nmain()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr == "error: interrupted\n"
