"""Fixtures for the eval tests: the packaged recall checkpoints, a random one of the same shape, offline."""

import shutil
from pathlib import Path

import pytest
import torch

from ssmdoc.eval import packaged_checkpoint


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path_factory):
    torch.set_num_threads(1)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf_home")))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("SSMDOC_MODEL", raising=False)


@pytest.fixture(scope="session")
def hybrid() -> Path:
    return packaged_checkpoint("recall-hybrid")


@pytest.fixture(scope="session")
def pure() -> Path:
    return packaged_checkpoint("recall-mamba")


@pytest.fixture(scope="session")
def random_hybrid(tmp_path_factory, hybrid) -> Path:
    """The trained hybrid's shape and tokenizer with freshly initialised weights (transformers' own init)."""
    from transformers import BambaConfig, BambaForCausalLM

    out = tmp_path_factory.mktemp("ckpt") / "random-hybrid"
    torch.manual_seed(1234)
    BambaForCausalLM(BambaConfig.from_pretrained(hybrid)).save_pretrained(out, safe_serialization=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(hybrid / name, out / name)
    return out
