"""Fixtures for the eval tests: a random checkpoint of the recall checkpoints' shape (built here with
transformers and the training script's own tokenizer), the packaged trained ones when present, offline."""

import shutil
import sys
from pathlib import Path

import pytest
import torch

from ssmdoc.eval import packaged_checkpoint

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "cli"))

from task_fixtures import _offline, example_script  # noqa: E402,F401  (offline, one torch thread, as every CLI test)


@pytest.fixture(scope="session")
def random_hybrid(tmp_path_factory) -> Path:
    """The recall hybrid's shape and tokenizer (examples/train_recall.py's defaults) with untrained weights."""
    from types import SimpleNamespace

    module = example_script("train_recall")
    out = tmp_path_factory.mktemp("ckpt") / "random-hybrid"
    tokenizer = module.build_tokenizer(out, 4096, 0)
    shape = SimpleNamespace(hidden=64, heads=1, attention_layer=2, context=16384, seed=1234)
    model = module.make_model("hybrid", tokenizer, shape)
    model.save_pretrained(out, safe_serialization=True)
    return out


def _packaged(name: str) -> Path:
    path = packaged_checkpoint(name)
    if not (path / "model.safetensors").is_file():
        pytest.skip(f"no trained {name} checkpoint is packaged (examples/train_recall.py; docs/eval.md)")
    return path


@pytest.fixture(scope="session")
def hybrid() -> Path:
    return _packaged("recall-hybrid")


@pytest.fixture(scope="session")
def pure() -> Path:
    return _packaged("recall-mamba")


@pytest.fixture(scope="session")
def random_like_hybrid(tmp_path_factory, hybrid) -> Path:
    """The packaged hybrid's config and tokenizer with freshly initialised weights (transformers' init)."""
    from transformers import BambaConfig, BambaForCausalLM

    out = tmp_path_factory.mktemp("ckpt") / "random-like-hybrid"
    torch.manual_seed(1234)
    BambaForCausalLM(BambaConfig.from_pretrained(hybrid)).save_pretrained(out, safe_serialization=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(hybrid / name, out / name)
    return out
