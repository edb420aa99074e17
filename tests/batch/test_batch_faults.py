"""Nothing lost, nothing done twice: the driver SIGKILLed mid-batch, then resumed; a worker killed mid-document."""

import importlib.util
import json
import os
import signal
import subprocess
import time
import uuid

import psutil
import pytest
from batch_helpers import (
    assert_row_equals_summarize,
    batch_cmd,
    batch_env,
    rows,
    run_batch_cli,
    summarize_json,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_ray_at_a_time"),
              pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the ray extra is not installed")]


def _write_docs(root, n: int, lines: int) -> list[str]:
    (root / "docs").mkdir(exist_ok=True)
    names = []
    for i in range(n):
        path = root / "docs" / f"doc{i:02d}.txt"
        path.write_text("".join(f"Document {i}, clause {k}: payment is due within 30 days.\n" for k in range(lines)))
        names.append(f"docs/{path.name}")
    return names


def _wait_for(predicate, timeout: float, what: str, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the batch ended (status {proc.returncode}) before {what}: {proc.stderr.read()}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _processes_with(marker: str) -> list[psutil.Process]:
    """Our own processes that carry `marker` in their environment: the batch's driver, Ray and its workers."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("SSMDOC_TEST_MARKER") == marker:
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def test_driver_killed_then_rerun_completes_every_document_exactly_once(tmp_path, mamba_ckpt):
    names = _write_docs(tmp_path, 8, 30)
    out = tmp_path / "results.jsonl"
    # Slow on purpose (small chunks, long answers) so that the kill lands while documents are in flight.
    args = [*names, "--out", out, "--model", mamba_ckpt, "--max-new-tokens", "60", "--chunk-tokens", "16",
            "--replicas", "2"]
    marker = uuid.uuid4().hex
    proc = subprocess.Popen(batch_cmd(*args), cwd=tmp_path, env=batch_env(SSMDOC_TEST_MARKER=marker),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: out.exists() and out.read_bytes().count(b"\n") >= 2, 180, "two rows", proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    before = rows(out)
    assert 2 <= len(before) < 8, "the kill must land mid-batch"
    # The local Ray it started goes with it (its processes share the driver's fate).
    _wait_for(lambda: not _processes_with(marker), 30, "the killed driver's Ray processes to exit")

    # A machine that dies mid-write leaves a partial last line: the re-run must cut it off, not keep it.
    with open(out, "ab") as fh:
        fh.write(b'{"input": "docs/doc09.txt", "content_hash": "ab')
    again = run_batch_cli(*args, "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "dropped a partial last line" in again.stderr
    summary = json.loads(again.stdout)
    assert summary["skipped"] == len(before) and summary["processed"] == 8 - len(before)

    after = rows(out)  # every line complete JSON (rows() checks), the earlier ones untouched
    assert after[: len(before)] == before
    assert sorted(r["input"] for r in after) == sorted(names)  # each document exactly once
    assert len({r["key"] for r in after}) == 8 and not any("error" in r for r in after)
    reference = summarize_json(names[3], "--model", mamba_ckpt, "--max-new-tokens", "60", "--chunk-tokens", "16",
                               cwd=tmp_path)
    assert_row_equals_summarize(next(r for r in after if r["input"] == names[3]), reference)


def test_worker_killed_mid_document_is_retried_and_completes(tmp_path, mamba_ckpt):
    names = _write_docs(tmp_path, 2, 10)
    long_doc = tmp_path / "docs" / "long.txt"
    long_doc.write_text("".join(f"Schedule B, item {k}: the landlord repairs the roof.\n" for k in range(1200)))
    names.append("docs/long.txt")
    out = tmp_path / "results.jsonl"
    args = [*names, "--out", out, "--model", mamba_ckpt, "--max-new-tokens", "8", "--chunk-tokens", "32",
            "--replicas", "2", "--json"]
    marker = uuid.uuid4().hex
    proc = subprocess.Popen(batch_cmd(*args), cwd=tmp_path, env=batch_env(SSMDOC_TEST_MARKER=marker),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Ray titles a map worker `ray::MapWorker(MapBatches(DocumentWorker)).submit` while it runs a document.
        # The short documents take a fraction of a second; one busy for 1 s straight is on the long one.
        busy_since: dict[int, float] = {}

        def long_running_worker():
            now = time.monotonic()
            for p in _processes_with(marker):
                try:
                    title = (p.cmdline() or [""])[0]  # the title is argv[0]; the rest is padding
                except psutil.Error:
                    continue
                if "MapWorker" in title and title.endswith(".submit"):
                    if now - busy_since.setdefault(p.pid, now) > 1.0:
                        return p
                else:
                    busy_since.pop(p.pid, None)
            return None

        victim = _wait_for(long_running_worker, 180, "a worker busy on the long document", proc)
        victim_pid = victim.pid
        victim.send_signal(signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert not psutil.pid_exists(victim_pid) or psutil.Process(victim_pid).status() == psutil.STATUS_ZOMBIE
    result = rows(out)
    assert sorted(r["input"] for r in result) == sorted(names) and not any("error" in r for r in result)
    long_row = next(r for r in result if r["input"] == "docs/long.txt")
    assert long_row["worker"]["pid"] != victim_pid  # finished by a restarted or another replica's process
    reference = summarize_json("docs/long.txt", "--model", mamba_ckpt, "--max-new-tokens", "8", "--chunk-tokens",
                               "32", cwd=tmp_path)
    assert_row_equals_summarize(long_row, reference)
    summary = json.loads(stdout)
    assert summary["succeeded"] == 3 and summary["failed"] == 0
