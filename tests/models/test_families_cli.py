"""`ssmdoc summarize` end to end on a tiny random checkpoint of each Mamba-2 hybrid family (issue 7).

The models are random, so their text is noise; what is checked is that the whole pipeline runs on the
family (load, chat prompt, streamed prefill, decode) and that its report agrees with the engine: every
input token counted, the state the family carries (SSM and KV parts) sized as the config predicts.
"""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from checkpoints import tiny_checkpoint
from ssmdoc.cli import app
from ssmdoc.models import estimate_state_bytes, load_config
from ssmdoc.models.tokenizer import Tokenizer

FAMILIES = ["bamba", "granite_hybrid", "nemotron_h", "falcon_h1", "zamba2"]
TEXT = "The nightly export failed at 03:12 because the disk holding /var/spool was full.\n" * 12


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf_home")))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("SSMDOC_MODEL", raising=False)


@pytest.mark.parametrize("arch", FAMILIES)
def test_summarize_runs_end_to_end(arch, tmp_path):
    checkpoint = tiny_checkpoint(tmp_path / arch, arch)
    result = CliRunner().invoke(app, ["summarize", "-", "--model", str(checkpoint), "--max-new-tokens", "4",
                                      "--json"], input=TEXT, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    report = out["report"]
    assert report["input_tokens"] == len(Tokenizer.from_dir(checkpoint).encode(TEXT)) > 0
    config = load_config(checkpoint)
    assert report["model_context_tokens"] == config.max_context
    # the SSM part does not depend on the length; the KV part is a whole number of tokens for every
    # attention use (Falcon-H1: each layer, Zamba2: each use of a shared block, Nemotron-H: attention blocks)
    state = report["state_bytes"]
    fixed = estimate_state_bytes(config, 0, torch.float32)
    per_token = estimate_state_bytes(config, 1, torch.float32)["kv"]
    assert (state["ssm"], state["conv"]) == (fixed["ssm"], fixed["conv"]) and state["ssm"] > 0
    assert per_token > 0 and state["kv"] % per_token == 0
    assert state["kv"] == estimate_state_bytes(config, state["kv"] // per_token, torch.float32)["kv"]
    assert state["kv"] // per_token >= report["input_tokens"]
