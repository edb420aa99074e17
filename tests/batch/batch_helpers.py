"""Running `ssmdoc batch` for real: a subprocess with its own local Ray (2 CPUs), as a user would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from ssmdoc.cli import app



def batch_env(**extra) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", SSMDOC_RAY_NUM_CPUS="2", PYTHONUNBUFFERED="1")
    env.pop("RAY_ADDRESS", None)
    return env | extra


def batch_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "ssmdoc", "batch", *map(str, args)]


def run_batch_cli(*args, cwd, timeout=240, **env) -> subprocess.CompletedProcess:
    return subprocess.run(batch_cmd(*args), cwd=cwd, env=batch_env(**env), capture_output=True, text=True,
                          timeout=timeout)


def rows(path: Path) -> list[dict]:
    """Every line of a results file, each checked to be one complete JSON row."""
    data = path.read_bytes()
    assert data.endswith(b"\n"), "a results file always ends with a complete line"
    return [json.loads(line) for line in data.decode().splitlines()]


def summarize_json(*args, cwd) -> dict:
    """`ssmdoc summarize ... --json` in this process (the reference a batch row must equal)."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, ["summarize", *map(str, args), "--json"])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def assert_row_equals_summarize(row: dict, reference: dict) -> None:
    assert row["output"] == reference["output"]
    assert row["sources"] == reference["sources"]
    assert row["task"] == reference["task"] and row["model"] == reference["model"]
    for key in ("input_tokens", "chunks", "strategy", "state_bytes", "transformer_kv_equivalent_bytes"):
        assert row["report"][key] == reference["report"][key], key
