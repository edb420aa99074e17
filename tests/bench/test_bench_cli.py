"""`ssmdoc bench` end to end on a tiny random Mamba checkpoint, its caps, and its user errors.

The end-to-end run spawns one worker per (engine, length): 2 lengths x 3 engines, single-threaded torch
(on a loaded 2-core machine torch's spinning threads only slow tiny models down).
"""

import csv
import json
import math
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ssmdoc.bench import BenchSpec, run_bench
from ssmdoc.cli import app

PNG = b"\x89PNG\r\n\x1a\n"
LENGTHS = [64, 128]
ENGINES = ["ssmdoc", "transformers", "attention"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from checkpoints import tiny_checkpoint

    return tiny_checkpoint(tmp_path_factory.mktemp("bench") / "tiny-mamba", "mamba")


def test_end_to_end(checkpoint, tmp_path):
    """One run, checked from several sides (one test, so that pytest -n 2 does not run it twice)."""
    run = _run(checkpoint, tmp_path / "out")
    check_every_engine_at_every_length_with_positive_numbers(run)
    check_state_sizes_are_what_each_engine_holds(run, checkpoint)
    check_fit_has_a_finite_exponent_per_engine(run)
    check_csv_plots_and_table(run)


def _run(checkpoint, out):
    proc = subprocess.run(
        [sys.executable, "-m", "ssmdoc", "bench", "-m", str(checkpoint), "--lengths", ",".join(map(str, LENGTHS)),
         "--compare", "transformers", "--baseline-attention", "--out", str(out), "--threads", "1",
         "--decode-tokens", "4"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "100"},
    )
    assert proc.returncode == 0, proc.stderr
    return proc, out, json.loads((out / "bench.json").read_text())


def check_every_engine_at_every_length_with_positive_numbers(run):
    _, _, data = run
    rows = data["rows"]
    assert sorted((r["engine"], r["tokens"]) for r in rows) == sorted((e, n) for e in ENGINES for n in LENGTHS)
    for row in rows:
        assert row["seconds"] > 0 and 0 < row["ready_rss_bytes"] <= row["peak_memory_bytes"]
        assert row["tokens_per_second"] == pytest.approx(row["tokens"] / row["seconds"])
        assert row["decode_tokens_per_second"] > 0
        assert set(row["state_bytes"]) == {"ssm", "conv", "kv"}
    assert data["stopped"] == {}
    assert {"cpu", "cores", "ram_bytes", "torch", "date"} <= set(data["machine"])


def check_state_sizes_are_what_each_engine_holds(run, checkpoint):
    from ssmdoc.bench.engines import attention_config
    from ssmdoc.models import load_config

    rows = {(r["engine"], r["tokens"]): r["state_bytes"] for r in run[2]["rows"]}
    for n in LENGTHS:
        # a pure Mamba state: no KV, the same float32 SSM state in ssmdoc and transformers, whatever the length
        assert rows[("ssmdoc", n)]["kv"] == 0 and rows[("ssmdoc", n)]["ssm"] > 0
        assert rows[("ssmdoc", n)] == rows[("ssmdoc", LENGTHS[0])]
        assert rows[("transformers", n)]["ssm"] == rows[("ssmdoc", n)]["ssm"]
        # the attention baseline's KV cache: 2 x layers x kv heads x head dim x tokens x 4 bytes (float32)
        llama = attention_config(load_config(checkpoint), n)
        expected = 2 * llama.num_hidden_layers * llama.num_key_value_heads * llama.head_dim * n * 4
        assert rows[("attention", n)]["kv"] == expected


def check_fit_has_a_finite_exponent_per_engine(run):
    fit = run[2]["fit"]
    assert set(fit) == set(ENGINES)
    for engine_fit in fit.values():
        assert math.isfinite(engine_fit["exponent"]) and engine_fit["points"] == len(LENGTHS)


def check_csv_plots_and_table(run):
    proc, out, data = run
    with (out / "bench.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(data["rows"])
    assert {(r["engine"], int(r["tokens"])) for r in rows} == {(r["engine"], r["tokens"]) for r in data["rows"]}
    for name in ("time.png", "memory.png"):
        assert (out / name).read_bytes().startswith(PNG)
    assert {(r["other"], r["tokens"]) for r in data["ratios"]} == {
        (e, n) for e in ENGINES[1:] for n in LENGTHS}
    for engine in ENGINES:
        assert engine in proc.stdout
    assert "time ~ tokens^" in proc.stdout and "Traceback" not in proc.stderr


def test_time_cap_stops_the_series(checkpoint):
    spec = BenchSpec(checkpoint=str(checkpoint), lengths=[64, 128], max_seconds=1e-9, threads=1, decode_tokens=1)
    result = run_bench(spec)
    # killed during the prefill or measured past the cap: either way no longer length is tried
    assert "--max-seconds" in result.stopped["ssmdoc"]
    assert all(row["tokens"] == 64 for row in result.rows)
    assert any("--max-seconds" in note for note in result.notes)


def test_memory_cap_kills_the_worker(checkpoint):
    spec = BenchSpec(checkpoint=str(checkpoint), lengths=[64, 128], max_memory=1 << 20, threads=1)
    result = run_bench(spec)
    assert result.rows == []
    assert "stopped at 64 tokens" in result.stopped["ssmdoc"] and "--max-memory" in result.stopped["ssmdoc"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lengths", "4096,lots"], "not a token count"),
        (["--lengths", "0"], "at least 1 token"),
        (["--lengths", ""], "no lengths"),
        (["--max-memory", "plenty"], "not a memory size"),
        (["--compare-max-tokens", "many"], "not a token count"),
        (["--compare", "vllm"], "unknown --compare"),
        (["--device", "tpu"], "unknown --device"),
        (["--dtype", "int3"], "unknown --dtype"),
        (["-m", "/no/such/dir"], "model"),
    ],
)
def test_user_errors_are_one_error_line_and_exit_2(args, message, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = CliRunner().invoke(app, ["bench", "-m", "/no/such/dir", "--lengths", "64", *args])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in result.output


def test_transformers_missing_is_a_clear_error(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "transformers" else real(name, *a))
    result = CliRunner().invoke(app, ["bench", "-m", "/no/such/dir", "--lengths", "64", "--compare", "transformers"])
    assert result.exit_code == 2
    assert "transformers is not installed" in result.stderr
