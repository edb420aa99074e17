"""config.json parsing of the Mamba-2 hybrids against transformers' config classes, older key spellings,
refusals, and the hybrid layer states (both SSM and KV, or none) through clone / save / restore."""

from __future__ import annotations

import math

import pytest
import torch

from checkpoints import tiny_checkpoint
from ssmdoc.errors import ModelError
from ssmdoc.models import InferenceState, LayerSpec, load_pretrained, parse_config, transformer_kv_equivalent_bytes
from test_model_config import hf_config_dict


def test_nemotron_pattern_and_block_list_agree():
    raw = hf_config_dict("NemotronHConfig", hidden_size=64, layers_block_type=["mamba", "attention", "mlp", "moe"])
    from_list = parse_config(raw)
    del raw["layers_block_type"]
    raw["hybrid_override_pattern"] = "M*-E"
    from_pattern = parse_config(raw)
    assert from_list.layers == from_pattern.layers == [
        LayerSpec("mamba2"), LayerSpec("attention"), LayerSpec("none", "mlp"), LayerSpec("none", "moe")]
    assert from_pattern.ssm.inner_size == 128 * 64  # mamba_num_heads x mamba_head_dim, not expand x hidden
    assert from_pattern.ssm.time_step_limit == (0.001, math.inf) and from_pattern.mlp.gated is False
    raw["hybrid_override_pattern"] = "M*X"
    with pytest.raises(ModelError, match="hybrid_override_pattern"):
        parse_config(raw)


def test_bamba_older_export_keeps_half_rotary_and_top_level_theta():
    import transformers

    hf = transformers.BambaConfig(rope_theta=5e5, attn_layer_indices=[2], num_hidden_layers=4)
    raw = hf_config_dict("BambaConfig", attn_layer_indices=[2], num_hidden_layers=4)
    del raw["rope_parameters"]
    raw["rope_theta"] = 5e5  # how exports before transformers 5 spell it
    cfg = parse_config(raw)
    assert cfg.attention.rope_theta == hf.rope_parameters["rope_theta"] == 5e5
    assert cfg.attention.partial_rotary_factor == hf.rope_parameters["partial_rotary_factor"] == 0.5
    assert [s.mixer for s in cfg.layers] == ["mamba2", "mamba2", "attention", "mamba2"]
    raw["rope_scaling"] = {"rope_type": "yarn", "factor": 4.0}
    with pytest.raises(ModelError, match="RoPE type 'yarn'"):
        parse_config(raw)


@pytest.mark.parametrize("experts", [0, 4])
def test_granite_dense_or_moe(experts):
    raw = hf_config_dict("GraniteMoeHybridConfig", hidden_size=64, num_local_experts=experts, intermediate_size=48,
                         shared_intermediate_size=80, layer_types=["mamba", "attention"], num_hidden_layers=2,
                         mamba_n_heads=8, attention_multiplier=0.125, logits_scaling=8.0)
    cfg = parse_config(raw)
    assert [s.ffn for s in cfg.layers] == (["moe", "moe"] if experts else ["mlp", "mlp"])
    assert (cfg.mlp.intermediate_size, cfg.moe.shared_size) == ((48, 80) if experts else (80, 0))
    assert cfg.attention.rope_theta is None  # position_embedding_type unset: no positional encoding
    assert (cfg.attention.scale, cfg.multipliers.logits_scaling) == (0.125, 8.0)


def test_falcon_h1_head_dim_key_and_lm_head_multiplier():
    raw = hf_config_dict("FalconH1Config", hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                         mamba_d_ssm=96, mamba_n_heads=6, lm_head_multiplier=0.25, num_hidden_layers=2)
    raw["head_dim"] = 8  # real Falcon-H1 configs state a head_dim apart from hidden / heads
    cfg = parse_config(raw)
    assert cfg.attention.head_dim == 8 and cfg.multipliers.logits_scaling == 4.0
    assert (cfg.ssm.inner_size, cfg.ssm.head_dim) == (96, 16)
    assert cfg.layers == [LayerSpec("parallel", "mlp")] * 2 and cfg.ssm.norm == "none"


def test_zamba2_default_layout_follows_transformers():
    import transformers

    hf = transformers.Zamba2Config(num_mem_blocks=2)
    raw = hf_config_dict("Zamba2Config", num_mem_blocks=2)
    del raw["layers_block_type"]  # absent: the class default layout
    cfg = parse_config(raw)
    hybrid = [i for i, s in enumerate(cfg.layers) if s.shared_block is not None]
    assert hybrid == hf.hybrid_layer_ids and len(cfg.layers) == hf.num_hidden_layers
    assert [cfg.layers[i].shared_block for i in hybrid] == [u % 2 for u in range(len(hybrid))]
    assert cfg.attention.head_dim == hf.attention_head_dim and cfg.ssm.head_dim == hf.mamba_headdim


def test_kv_equivalent_counts_blocks_with_a_sequence_mixer():
    raw = hf_config_dict("NemotronHConfig", hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                         head_dim=16, layers_block_type=["mamba", "mlp", "attention", "moe"])
    cfg = parse_config(raw)
    assert transformer_kv_equivalent_bytes(cfg, 10, torch.float32) == 2 * 2 * (2 * 16) * 10 * 4


@pytest.mark.parametrize("arch", ["falcon_h1", "zamba2", "nemotron_h"])
def test_hybrid_states_clone_save_and_restore(arch, tmp_path):
    """A state with both parts per layer (or none) continues identically after clone and after a
    to_tensors / from_tensors round trip, with a KV window shorter than the prefix (rotary positions
    must continue from the whole sequence, not from the keys kept)."""
    model = load_pretrained(tiny_checkpoint(tmp_path, arch))
    ids = torch.randint(0, 512, (1, 23), generator=torch.Generator().manual_seed(3))
    state = model.new_state(kv_window=6)
    model(ids[:, :17], state, logits="none")
    cloned = state.clone()
    restored = InferenceState.from_tensors(model, state.to_tensors(), seen_tokens=state.seen_tokens, kv_window=6)
    assert restored.nbytes() == state.nbytes()
    want = model(ids[:, 17:], state)
    for other in (cloned, restored):
        torch.testing.assert_close(model(ids[:, 17:], other), want, rtol=0, atol=1e-6)
