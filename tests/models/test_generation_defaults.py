"""generation_config.json read as transformers' generate() reads it: every EOS id, bos, pad (defaulting to the
first EOS id), and the sampling settings applied when the caller gives none; real files and synthetic ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ssmdoc.models.generation_defaults import read_generation_defaults

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
WITH_GENERATION = sorted(p.parent.name for p in REAL.glob("*/generation_config.json"))
SYNTHETIC = {
    "sampling": {"do_sample": True, "temperature": 0.6, "top_p": 0.95, "eos_token_id": [2, 32000]},
    "sampling-defaults": {"do_sample": True, "eos_token_id": 5, "pad_token_id": 0},
    "greedy-with-temperature": {"temperature": 0.7, "top_p": 0.8, "repetition_penalty": 1.1, "eos_token_id": 3},
    "top-k": {"do_sample": True, "top_k": 20, "bos_token_id": 1},
    "nothing": {},
}


def _transformers_view(directory: Path) -> dict:
    """What generate() would use: the loaded generation config completed with transformers' global defaults."""
    import transformers

    if (directory / "generation_config.json").is_file():
        config = transformers.GenerationConfig.from_pretrained(directory)
    else:
        raw = json.loads((directory / "config.json").read_text())
        model_config = transformers.CONFIG_MAPPING[raw["model_type"]].from_dict(raw)
        config = transformers.GenerationConfig.from_model_config(model_config)
    config.update(**config._get_default_generation_params(), defaults_only=True)
    eos = config.eos_token_id
    eos = [] if eos is None else [eos] if isinstance(eos, int) else list(eos)
    return dict(eos=eos, bos=config.bos_token_id, pad=config.pad_token_id if config.pad_token_id is not None else
                (eos[0] if eos else None), do_sample=config.do_sample, temperature=config.temperature,
                top_p=config.top_p, top_k=config.top_k, repetition_penalty=config.repetition_penalty)


def _ours(directory: Path) -> dict:
    g = read_generation_defaults(directory)
    return dict(eos=list(g.eos_token_ids), bos=g.bos_token_id, pad=g.pad_token_id, do_sample=g.do_sample,
                temperature=g.temperature, top_p=g.top_p, top_k=g.top_k, repetition_penalty=g.repetition_penalty)


@pytest.mark.parametrize("name", WITH_GENERATION)
def test_real_generation_config_reads_like_transformers(name, tmp_path):
    directory = tmp_path / name
    directory.mkdir()
    shutil.copy(REAL / name / "generation_config.json", directory)
    assert _ours(directory) == _transformers_view(directory)


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_synthetic_generation_config_reads_like_transformers(name, tmp_path):
    (tmp_path / "generation_config.json").write_text(json.dumps(SYNTHETIC[name]))
    assert _ours(tmp_path) == _transformers_view(tmp_path)


@pytest.mark.parametrize("name", ["ibm-fms__Bamba-9B", "tiiuae__falcon-mamba-tiny-dev", "AntonV__mamba2-130m-hf"])
def test_without_generation_config_the_model_config_speaks(name, tmp_path):
    shutil.copy(REAL / name / "config.json", tmp_path)
    assert _ours(tmp_path) == _transformers_view(tmp_path)
    assert read_generation_defaults(tmp_path).source == "config.json"


def test_every_eos_id_and_the_shipped_sampling_are_used():
    instruct = read_generation_defaults(REAL / "tiiuae__falcon-mamba-7b-instruct")
    assert instruct.eos_token_ids == (11, 10) and instruct.sampling()["temperature"] == 0.0  # greedy: no do_sample


def test_sampling_defaults_when_the_checkpoint_asks_for_sampling(tmp_path):
    (tmp_path / "generation_config.json").write_text(json.dumps(SYNTHETIC["sampling"]))
    assert read_generation_defaults(tmp_path).sampling() == dict(temperature=0.6, top_p=0.95, top_k=50,
                                                                 repetition_penalty=1.0)
