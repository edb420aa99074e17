"""Loading checkpoints: layouts that must load, and refusals that must name what is wrong."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from checkpoints import reference_model, tiny_checkpoint
from ssmdoc.errors import ModelError
from ssmdoc.models import HybridLM, load_pretrained


@pytest.fixture(scope="module")
def jamba_dir(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("jamba"), "jamba")


@pytest.fixture(scope="module")
def jamba_logits(jamba_dir):
    ids = torch.arange(3, 40)[None]
    with torch.no_grad():
        return ids, reference_model(jamba_dir)(ids).logits


def copy_checkpoint(src, dst, edit=None):
    """Copy a checkpoint, passing its tensors through `edit(dict) -> dict`."""
    shutil.copytree(src, dst)
    if edit is not None:
        tensors = load_file(dst / "model.safetensors")
        save_file(edit(dict(tensors)), dst / "model.safetensors")
    return dst


def assert_same_logits(model: HybridLM, ids_and_logits):
    ids, want = ids_and_logits
    assert torch.allclose(model(ids), want, atol=1e-4 * want.abs().max().item(), rtol=0)


def test_fused_expert_layout_loads(jamba_dir, jamba_logits, tmp_path):
    """transformers 5's in-memory layout: experts.gate_up_proj (E, 2f, d) and experts.down_proj (E, d, f)."""
    def fuse(tensors):
        for key in [k for k in tensors if k.endswith("experts.0.gate_proj.weight")]:
            base = key.removesuffix("0.gate_proj.weight")
            n = len([k for k in tensors if k.startswith(base) and k.endswith(".gate_proj.weight")])
            gate = [tensors.pop(f"{base}{j}.gate_proj.weight") for j in range(n)]
            up = [tensors.pop(f"{base}{j}.up_proj.weight") for j in range(n)]
            down = [tensors.pop(f"{base}{j}.down_proj.weight") for j in range(n)]
            tensors[base + "gate_up_proj"] = torch.stack([torch.cat([g, u]) for g, u in zip(gate, up)])
            tensors[base + "down_proj"] = torch.stack(down)
        return tensors

    path = copy_checkpoint(jamba_dir, tmp_path / "fused", fuse)
    assert "model.layers.0.feed_forward.experts.gate_up_proj" in load_file(path / "model.safetensors")
    assert_same_logits(load_pretrained(path), jamba_logits)


def test_sharded_checkpoint_loads(jamba_dir, jamba_logits, tmp_path):
    tensors = load_file(jamba_dir / "model.safetensors")
    shutil.copytree(jamba_dir, tmp_path / "sharded")
    (tmp_path / "sharded" / "model.safetensors").unlink()
    names = sorted(tensors)
    weight_map = {}
    for i, part in enumerate((names[::2], names[1::2])):
        shard = f"model-0000{i + 1}-of-00002.safetensors"
        save_file({k: tensors[k] for k in part}, tmp_path / "sharded" / shard)
        weight_map |= {k: shard for k in part}
    (tmp_path / "sharded" / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    assert_same_logits(load_pretrained(tmp_path / "sharded"), jamba_logits)


def test_bfloat16_load_is_close(jamba_dir, jamba_logits):
    model = load_pretrained(jamba_dir, dtype=torch.bfloat16)
    assert model.dtype == torch.bfloat16
    ids, want = jamba_logits
    got = model(ids)
    assert got.dtype == torch.float32  # logits always come back in float32
    assert (got - want).abs().max() < 0.1 * want.abs().max()


def test_tied_embeddings_share_one_matrix(tmp_path):
    path = tiny_checkpoint(tmp_path, "mamba")  # tie_word_embeddings defaults to True for Mamba
    assert "lm_head.weight" not in load_file(path / "model.safetensors")
    model = load_pretrained(path)
    assert model.lm_head.weight is model.embed.weight
    assert model.weights_nbytes() == sum(p.nbytes for p in model.parameters())  # counted once
    assert model.weights_nbytes() < sum(p.nbytes for p in model.state_dict().values())


def test_pickle_only_checkpoint_refused(jamba_dir, tmp_path):
    path = copy_checkpoint(jamba_dir, tmp_path / "pickled")
    (path / "model.safetensors").unlink()
    (path / "pytorch_model.bin").write_bytes(b"\x80\x04not really a pickle")
    with pytest.raises(ModelError, match="pytorch_model.bin.*safetensors only.*arbitrary code"):
        load_pretrained(path)


def test_no_weights_at_all(jamba_dir, tmp_path):
    path = copy_checkpoint(jamba_dir, tmp_path / "empty")
    (path / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="no weights"):
        load_pretrained(path)


def test_missing_tensor_named(jamba_dir, tmp_path):
    def drop(tensors):
        del tensors["model.layers.0.mamba.D"]
        del tensors["model.layers.2.feed_forward.experts.3.up_proj.weight"]
        return tensors

    with pytest.raises(ModelError) as info:
        load_pretrained(copy_checkpoint(jamba_dir, tmp_path / "missing", drop))
    assert "layers.0.mixer.D" in str(info.value)
    assert "layers.2.ffn.up[3]" in str(info.value)


def test_unexpected_tensor_named(jamba_dir, tmp_path):
    def add(tensors):
        tensors["model.layers.0.mamba.surprise"] = torch.zeros(3)
        tensors["vision_tower.weight"] = torch.zeros(3)
        return tensors

    with pytest.raises(ModelError) as info:
        load_pretrained(copy_checkpoint(jamba_dir, tmp_path / "unexpected", add))
    assert "model.layers.0.mamba.surprise" in str(info.value)
    assert "vision_tower.weight" in str(info.value)


def test_misshapen_tensor_named(jamba_dir, tmp_path):
    def squash(tensors):
        tensors["model.layers.0.mamba.A_log"] = tensors["model.layers.0.mamba.A_log"][:, :3].contiguous()
        return tensors

    with pytest.raises(ModelError, match="model.layers.0.mamba.A_log has shape"):
        load_pretrained(copy_checkpoint(jamba_dir, tmp_path / "shape", squash))


def test_unsupported_architecture_refused_before_weights(jamba_dir, tmp_path):
    path = copy_checkpoint(jamba_dir, tmp_path / "llama")
    raw = json.loads((path / "config.json").read_text())
    raw["architectures"] = ["LlamaForCausalLM"]
    (path / "config.json").write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="unsupported model architecture LlamaForCausalLM.*JambaForCausalLM"):
        load_pretrained(path)


def test_cuda_without_device_refused(jamba_dir):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(ModelError, match="cuda"):
        load_pretrained(jamba_dir, device="cuda")


def test_non_directory_goes_through_the_hub(monkeypatch, jamba_dir):
    import ssmdoc.models.checkpoint

    asked = []

    def fake_resolve(name):
        asked.append(name)
        return jamba_dir

    monkeypatch.setattr(ssmdoc.models.checkpoint, "resolve_checkpoint", fake_resolve)
    model = load_pretrained("someone/tiny-jamba")
    assert asked == ["someone/tiny-jamba"] and isinstance(model, HybridLM)


@pytest.mark.parametrize("arch, fp32_stream", [("mamba", True), ("mamba2", True), ("jamba", False)])
def test_bfloat16_residual_stream_follows_transformers(arch, fp32_stream, tmp_path):
    """Mamba and Mamba-2 keep the residual stream in float32 under bf16 weights (residual_in_fp32, default
    on); Jamba does not. Checked on the final norm's input, and the logits stay close to transformers'."""
    path = tiny_checkpoint(tmp_path, arch)
    model = load_pretrained(path, dtype=torch.bfloat16)
    dtypes = []
    hook = model.norm_f.register_forward_hook(lambda mod, args, out: dtypes.append(args[0].dtype))
    ids = torch.arange(3, 30)[None]
    got = model(ids)
    hook.remove()
    assert dtypes == [torch.float32 if fp32_stream else torch.bfloat16]
    with torch.no_grad():
        want = reference_model(path).to(torch.bfloat16)(ids).logits.float()
    assert (got - want).abs().max() < 0.05 * want.abs().max()
