"""`inspect --model` predicts how a run reads the inputs with the run's own arithmetic: the strategy, the
number of map-reduce windows and the state at its peak agree with what the run then reports."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ssmdoc.cli import app


def inspect_json(*args):
    result = CliRunner().invoke(app, ["inspect", *map(str, args), "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["model"]


@pytest.mark.parametrize("lines, strategy", [(1, "stream"), (16, "map-reduce")])
def test_inspect_predicts_what_the_run_does(short_jamba_ckpt, examples, tmp_path, lines, strategy):
    doc = tmp_path / "part.log"
    doc.write_text("".join(examples["log"].read_text().splitlines(keepends=True)[:lines]))
    model = inspect_json(doc, "--model", short_jamba_ckpt, "--max-new-tokens", "4")
    plan = model["plan"]
    assert plan["strategy"] == strategy
    env = dict(os.environ, SSMDOC_PROGRESS_INTERVAL="3600")
    proc = subprocess.run([sys.executable, "-m", "ssmdoc", "summarize", str(doc), "--model", str(short_jamba_ckpt),
                           "--max-new-tokens", "4", "--chunk-tokens", "64", "--json"], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)["report"]
    assert report["strategy"] == strategy
    windows = [l for l in proc.stderr.splitlines() if l.startswith("map-reduce: window")]
    assert len(windows) == (plan["windows"] if strategy == "map-reduce" else 0)
    # the state peak: the run's KV never exceeds the prediction and is close to it (a few answer tokens)
    predicted, actual = plan["state_peak_bytes"], report["state_bytes"]
    assert actual["ssm"] == predicted["ssm"] and actual["conv"] == predicted["conv"]
    per_token = predicted["kv"] // plan["peak_sequence_tokens"]
    assert predicted["kv"] - 8 * per_token <= actual["kv"] <= predicted["kv"]
    if strategy == "map-reduce":
        # what the old inspect said (the whole input in one state) is far above what the run held
        assert model["state_bytes"]["kv"] > 2 * actual["kv"]
