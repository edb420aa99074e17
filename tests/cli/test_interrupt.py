"""A real Ctrl-C (SIGINT) while ssmdoc reads a pipe that is still open: what was read is answered, with the report."""

import fcntl
import json
import signal
import subprocess
import sys
import termios
import time

import pytest

from ssmdoc.models.tokenizer import Tokenizer

LINES = "".join(f"2024-03-14 02:00:{i:02d} INFO worker: step {i} done\n" for i in range(12))


def unread_bytes(pipe) -> int:
    """Bytes written to the pipe that the reader has not taken yet (Linux answers FIONREAD on either end)."""
    return int.from_bytes(fcntl.ioctl(pipe.fileno(), termios.FIONREAD, b"\0\0\0\0"), "little")


def interrupt_after_reading(args, checkpoint) -> subprocess.CompletedProcess:
    proc = subprocess.Popen([sys.executable, "-m", "ssmdoc", *args, "--model", str(checkpoint), "--json"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(LINES.encode())
        proc.stdin.flush()  # and keep the pipe open: like `tail -f`, no EOF comes
        deadline = time.monotonic() + 60
        while unread_bytes(proc.stdin) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # the lines are taken; let them be tokenized and fed
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return subprocess.CompletedProcess(args, proc.returncode, out.decode(), err.decode())


@pytest.mark.skipif(sys.platform != "linux", reason="FIONREAD on a pipe's write end is Linux behaviour")
@pytest.mark.parametrize("command", [["summarize", "-", "--max-new-tokens", "3"],
                                     ["watch", "--max-new-tokens", "3"]])
def test_sigint_while_reading_answers_what_was_read(mamba_ckpt, command):
    proc = interrupt_after_reading(command, mamba_ckpt)
    # summarize: a partial answer, exit 3; watch: Ctrl-C is how it ends, its summary covers all that came
    watch = command[0] == "watch"
    assert proc.returncode == (0 if watch else 3), proc.stderr
    assert "warning: interrupted" in proc.stderr and "Traceback" not in proc.stderr
    final = json.loads(proc.stdout.splitlines()[-1])
    expected = len(Tokenizer.from_dir(mamba_ckpt).encode(LINES, parse_special=False))
    assert final["report"]["input_tokens"] == expected == sum(s["tokens"] for s in final["sources"])
    assert final["interrupted"] == "reading" and final["complete"] is watch
