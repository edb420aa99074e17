"""Weight names of the Mamba-2 hybrids: a checkpoint in transformers 5's in-memory layout (renamed modules,
fused expert tensors) loads to the same model as the Hub layout; a foreign tensor is named in the error."""

from __future__ import annotations

import re

import pytest
import torch
from safetensors.torch import load_file, save_file

from checkpoints import tiny_checkpoint
from ssmdoc.errors import ModelError
from ssmdoc.models import load_pretrained


def _granite_v5(tensors: dict) -> dict:
    renames = [(r"block_sparse_moe\.input_linear\.weight", "block_sparse_moe.experts.gate_up_proj"),
               (r"block_sparse_moe\.output_linear\.weight", "block_sparse_moe.experts.down_proj"),
               (r"block_sparse_moe\.router\.layer\.weight", "block_sparse_moe.router.weight")]
    out = {}
    for name, tensor in tensors.items():
        for pattern, new in renames:
            name = re.sub(pattern, new, name)
        out[name] = tensor
    return out


def _nemotron_v5(tensors: dict) -> dict:
    """backbone. -> model., per-expert up/down matrices stacked into (E, out, in) tensors."""
    out, experts = {}, {}
    for name, tensor in tensors.items():
        name = name.replace("backbone.", "model.", 1)
        match = re.fullmatch(r"(.+\.experts)\.(\d+)\.(up|down)_proj\.weight", name)
        if match:
            experts.setdefault((match[1], match[3]), {})[int(match[2])] = tensor
        else:
            out[name] = tensor
    for (prefix, kind), per_expert in experts.items():
        out[f"{prefix}.{kind}_proj"] = torch.stack([per_expert[j] for j in sorted(per_expert)])
    return out


@pytest.mark.parametrize("arch, convert", [("granite_hybrid", _granite_v5), ("nemotron_h", _nemotron_v5)])
def test_transformers5_layout_loads_the_same_model(arch, convert, tmp_path):
    path = tiny_checkpoint(tmp_path, arch)
    ids = torch.randint(0, 512, (1, 13), generator=torch.Generator().manual_seed(1))
    want = load_pretrained(path)(ids)
    tensors = load_file(str(path / "model.safetensors"))
    converted = convert(tensors)
    assert set(converted) != set(tensors)  # the conversion did rename something
    save_file(converted, str(path / "model.safetensors"), metadata={"format": "pt"})
    torch.testing.assert_close(load_pretrained(path)(ids), want, rtol=0, atol=0)


def test_unknown_tensor_is_named(tmp_path):
    path = tiny_checkpoint(tmp_path, "falcon_h1")
    tensors = load_file(str(path / "model.safetensors"))
    tensors["model.layers.0.mamba.mystery"] = torch.zeros(3)
    save_file(tensors, str(path / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(ModelError, match=r"unexpected tensors: model\.layers\.0\.mamba\.mystery"):
        load_pretrained(path)
