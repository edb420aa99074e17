"""Fixtures for the CLI and pipeline tests: tiny random checkpoints (built once per session) and example inputs.

Every test here runs offline: HF_HUB_OFFLINE=1 and a private, empty Hugging Face home, so that nothing
can reach for the Hub (the network is closed anyway; a test must not depend on that).
"""

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from checkpoints import tiny_checkpoint  # noqa: E402


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path_factory):
    # One torch thread, here and in subprocesses: with `pytest -n 2` on a small machine, torch's default
    # thread pool per process oversubscribes the cores and tiny models run 10x slower (measured).
    torch.set_num_threads(1)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf_home")))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("SSMDOC_MODEL", raising=False)


@pytest.fixture(scope="session")
def mamba_ckpt(tmp_path_factory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "mamba", "mamba")


@pytest.fixture(scope="session")
def jamba_ckpt(tmp_path_factory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "jamba", "jamba")


@pytest.fixture(scope="session")
def short_jamba_ckpt(tmp_path_factory) -> Path:
    """A hybrid whose stated context (320 tokens) a short test input exceeds several times. 320 leaves room
    for the tiny tokenizer's ~150-token prompts and two parts to combine (map-reduce refuses less)."""
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "jamba320", "jamba", max_position_embeddings=320)


def example_script(name: str):
    """A script under examples/ (not a package) imported as a module: examples/<name>.py."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def examples(tmp_path_factory) -> dict[str, Path]:
    """A fresh copy of examples/ (contract.pdf, repo/, app.log), written by the examples' own generator."""
    return example_script("make_examples").write_examples(tmp_path_factory.mktemp("examples"))
