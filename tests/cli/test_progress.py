"""Progress on stderr: plain lines every N seconds off a terminal (with the size, percentage and ETA when the
input's size is known), map-reduce announced, generation progress when the answer is not on a terminal,
and nothing with --progress none or --quiet."""

import io
import json
import subprocess
import sys

import pytest

from ssmdoc.ingest import iter_segments
from ssmdoc.progress import Progress, Sizes


def run(args, env_extra=None, input=None):
    import os

    env = dict(os.environ, SSMDOC_PROGRESS_INTERVAL="0", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "ssmdoc", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env, input=input)


def test_lines_off_a_terminal_with_size_percentage_and_eta(mamba_ckpt, examples):
    proc = run(["summarize", examples["log"], "--model", mamba_ckpt, "--max-new-tokens", "2", "--chunk-tokens", "64"])
    assert proc.returncode == 0, proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.startswith("progress: reading")]
    assert len(lines) >= 2, proc.stderr
    size = examples["log"].stat().st_size
    for line in lines:
        assert "% of " in line and "ETA" in line and "tokens/s" in line and "peak memory" in line
    percents = [int(l.split("reading ")[1].split("%")[0]) for l in lines]
    assert percents == sorted(percents) and percents[-1] <= 99  # 100% only once reading is over
    assert f"of {size / 1024:.1f} KiB" in lines[0]
    # tokens only grow
    counts = [int(l.split("ETA ")[1].split(", ")[1].split(" tokens")[0].replace(",", "")) for l in lines]
    assert counts == sorted(counts)


@pytest.mark.parametrize("flag", [["--progress", "none"], ["--quiet"]])
def test_no_progress_when_asked(mamba_ckpt, examples, flag):
    proc = run(["summarize", examples["log"], "--model", mamba_ckpt, "--max-new-tokens", "2", "--chunk-tokens", "64",
                *flag])
    assert proc.returncode == 0 and "progress:" not in proc.stderr


def test_piped_input_has_no_invented_total(mamba_ckpt, examples):
    proc = run(["summarize", "-", "--model", mamba_ckpt, "--max-new-tokens", "2", "--chunk-tokens", "64"],
               input=examples["log"].read_text())
    lines = [l for l in proc.stderr.splitlines() if l.startswith("progress: reading")]
    assert lines and all("%" not in l and "ETA" not in l for l in lines)


def test_map_reduce_is_announced_and_generation_reported_under_json(short_jamba_ckpt, examples):
    text = "".join(examples["log"].read_text().splitlines(keepends=True)[:16])
    proc = run(["summarize", "-", "--model", short_jamba_ckpt, "--max-new-tokens", "4", "--chunk-tokens", "64",
                "--json"], input=text)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["report"]["strategy"] == "map-reduce"
    events = [l for l in proc.stderr.splitlines() if l.startswith("map-reduce:")]
    assert "longer than the model's context (320 tokens)" in events[0]
    assert any("window 1 read" in e for e in events) and any("combining" in e and "round 1" in e for e in events)
    assert any(l.startswith("progress: answering: ") and "of at most 4 tokens" in l
               for l in proc.stderr.splitlines())


def test_sizes_count_files_directories_and_pdf_pages(examples):
    inputs = [str(examples["log"]), str(examples["repo"]), str(examples["pdf"])]
    sizes = Sizes.measure(inputs)
    assert sizes.known
    assert sizes.inputs[str(examples["pdf"])].unit == "pages" and sizes.inputs[str(examples["pdf"])].total == 4
    assert sizes.fraction() == 0.0
    for segment in iter_segments(inputs):
        sizes.note(segment)
    assert sizes.inputs[str(examples["pdf"])].done == 4
    assert sizes.fraction() == 0.999  # everything read: capped until the run says reading is over


def test_progress_lines_interval(monkeypatch):
    out = io.StringIO()
    p = Progress("lines", interval=3600, stream=out)
    p.tokens(100, 1.0)
    assert out.getvalue() == ""  # not yet: once per interval
    p.interval = 0
    p.tokens(200, 1.0)
    assert out.getvalue().startswith("progress: reading, 200 tokens, 200 tokens/s")


def test_bar_on_a_terminal_has_percentage_total_eta_and_rates(mamba_ckpt, tmp_path):
    """stderr on a pseudo-terminal: the rich bar, drawn as it reads (frames captured from the pty)."""
    import os
    import pty
    import re
    import select

    log = tmp_path / "big.log"
    log.write_text("".join(f"line {i} of the log with some words\n" for i in range(3000)))
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "ssmdoc", "summarize", str(log), "--model", str(mamba_ckpt),
                             "--max-new-tokens", "2", "--chunk-tokens", "64"], stdout=subprocess.PIPE,
                            stderr=slave, env=dict(os.environ, COLUMNS="160", NO_COLOR="1"))
    os.close(slave)
    raw = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 1 << 16)
            except OSError:
                break
            if not data:
                break
            raw += data
        elif proc.poll() is not None:
            break
    proc.wait(timeout=120)
    os.close(master)
    assert proc.returncode == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw.decode(errors="replace"))
    frames = [line for line in re.split(r"[\r\n]", text) if "reading" in line and "tokens/s" in line]
    assert frames, text[-2000:]
    size = f"{log.stat().st_size / 1024:.1f} KiB"
    assert all(re.search(rf"\d+% of {re.escape(size)}", f) and "peak memory" in f for f in frames)
    assert re.search(r"\d+:\d\d:\d\d", frames[-1])  # the ETA / elapsed column
