"""Refusals before any tensor is read: a quantized checkpoint, an unknown architecture and a mamba-ssm-native
config each end in one `error:` line (exit status 2) although their weights file is garbage; auto_map is noted
once and its code never run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from checkpoints import tiny_checkpoint
from ssmdoc.cli import app
from ssmdoc.errors import ModelError
from ssmdoc.models import load_pretrained, parse_config

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf_home")))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)


def _checkpoint(tmp_path: Path, config: dict) -> Path:
    """config.json beside a model.safetensors that is not a safetensors file at all: reading any tensor fails."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 64)
    return tmp_path


def _real(name: str) -> dict:
    return json.loads((REAL / name / "config.json").read_text(encoding="utf-8"))


CASES = {
    "quantized": (_real("tiiuae__falcon-mamba-7b-instruct-4bit"),
                  r"quantized \(bitsandbytes, 4-bit\)", "tiiuae/falcon-mamba-7b-instruct"),
    "unknown": ({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64},
                r"unsupported model architecture LlamaForCausalLM; ssmdoc runs MambaForCausalLM", "pick a checkpoint"),
    "native": (_real("state-spaces__mamba-130m"), r"mamba-ssm's own format \(d_model / n_layer\)",
               "state-spaces/mamba-130m-hf"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_before_any_tensor_is_read(case, tmp_path):
    config, message, hint = CASES[case]
    path = _checkpoint(tmp_path / case, config)
    with pytest.raises(ModelError, match=message) as info:
        load_pretrained(path)
    assert hint in (info.value.hint or "")


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_says_it_in_one_error_line(case, tmp_path):
    config, message, _ = CASES[case]
    path = _checkpoint(tmp_path / case, config)
    result = CliRunner().invoke(app, ["summarize", "-", "--model", str(path)], input="some text\n")
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    import re

    assert re.search(message, errors[0])


def test_mlx_quantization_without_a_method_is_refused():
    with pytest.raises(ModelError, match=r"quantized \(MLX, 2-bit\)"):
        parse_config(_real("mlx-community__Mamba-Codestral-7B-v0.1-2bit"))


def test_auto_map_is_noted_once_and_its_code_never_run(tmp_path, capsys, monkeypatch):
    from ssmdoc.models import refusals

    monkeypatch.setattr(refusals, "_NOTED", set())
    checkpoint = tiny_checkpoint(tmp_path / "jamba", "jamba")
    config = json.loads((checkpoint / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_evil.JambaForCausalLM"}
    (checkpoint / "config.json").write_text(json.dumps(config))
    (checkpoint / "modeling_evil.py").write_text("raise SystemExit('shipped code ran')\n")
    load_pretrained(checkpoint)
    load_pretrained(checkpoint)
    err = capsys.readouterr().err
    assert err.count("note: the checkpoint ships its own modelling code (auto_map)") == 1
    assert "ssmdoc uses its own JambaForCausalLM implementation" in err
