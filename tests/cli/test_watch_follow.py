"""`watch FILE` follows a file like `tail -F`: what is there, then what is appended, across rotation
(rename + create) and truncation (copytruncate), until Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

from ssmdoc.ingest.follow import FollowedFile, stoppable
from ssmdoc.models.tokenizer import Tokenizer


def lines(start, n):
    return "".join(f"2024-03-14 02:{i // 60:02d}:{i % 60:02d} INFO step {i} done\n" for i in range(start, start + n))


def read_until(stream, n_bytes, timeout=10.0):
    got, deadline = b"", time.monotonic() + timeout
    while len(got) < n_bytes and time.monotonic() < deadline:
        got += stream.read(1 << 16)
    return got


def test_followed_file_sees_growth_rotation_and_truncation(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("one\n")
    stop = threading.Event()
    f = stoppable(FollowedFile(str(log), poll=0.01), stop)
    assert read_until(f, 4) == b"one\n"
    with open(log, "a") as fh:
        fh.write("two\n")
    assert read_until(f, 4) == b"two\n"
    os.rename(log, tmp_path / "app.log.1")  # logrotate: rename, then a new file under the old name
    (tmp_path / "app.log.1").open("a").write("late\n")  # written to the old file before the switch
    log.write_text("three\n")
    assert read_until(f, 11) == b"late\nthree\n"
    log.write_text("")  # copytruncate: the same file, emptied
    time.sleep(0.05)
    with open(log, "a") as fh:
        fh.write("four\n")
    assert read_until(f, 5) == b"four\n"
    stop.set()
    assert f.read(10) == b""  # stopped: EOF, the reader thread can end


def test_a_missing_file_is_an_error_before_the_model_loads(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ssmdoc", "watch", str(tmp_path / "nope.log"), "--model",
                           str(tmp_path / "no-model")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error: no such file: ")


def test_watch_file_follows_appends_and_rotation_until_ctrl_c(mamba_ckpt, tmp_path):
    log = tmp_path / "app.log"
    first, second, third = lines(0, 6), lines(6, 6), lines(12, 6)
    log.write_text(first)
    proc = subprocess.Popen([sys.executable, "-m", "ssmdoc", "watch", str(log), "--every", "6", "--json",
                             "--model", str(mamba_ckpt), "--max-new-tokens", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # a digest's JSON line is printed when it is complete, i.e. when the next one starts
        with open(log, "a") as fh:
            fh.write(second)  # appended lines
        digests = [json.loads(proc.stdout.readline())]
        os.rename(log, tmp_path / "app.log.1")
        log.write_text(third)  # the new file after rotation
        digests.append(json.loads(proc.stdout.readline()))
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err.decode()
    rows = digests + [json.loads(line) for line in out.decode().splitlines()]
    assert [(d["digest"], d["lines"]) for d in rows[:-1]] == [(1, 6), (2, 12), (3, 18)]
    final = rows[-1]
    tok = Tokenizer.from_dir(mamba_ckpt)
    expected = len(tok.encode(first, parse_special=False)) + len(tok.encode(second + third, parse_special=False))
    counted = final["report"]["input_tokens"]
    assert counted == sum(s["tokens"] for s in final["sources"])
    assert abs(counted - expected) <= 2  # tokenized in the pieces they arrived in: a boundary may differ
    assert final["sources"][0]["address"] == str(log) and final["interrupted"] == "reading"
