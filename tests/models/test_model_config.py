"""config.json parsing against transformers' own config classes, and the state-size arithmetic."""

from __future__ import annotations

import json
import math

import pytest
import torch
import transformers

from ssmdoc.errors import ModelError
from ssmdoc.models import LayerSpec, estimate_state_bytes, load_config, parse_config, transformer_kv_equivalent_bytes


def hf_config_dict(cls_name: str, **kwargs) -> dict:
    """What save_pretrained writes for a transformers config, as a dict."""
    config = getattr(transformers, cls_name)(**kwargs)
    raw = json.loads(config.to_json_string())
    raw["architectures"] = [cls_name.replace("Config", "ForCausalLM")]
    return raw


@pytest.mark.parametrize("cls_name", ["MambaConfig", "FalconMambaConfig"])
@pytest.mark.parametrize("rank", ["auto", 7])
def test_mamba_fields_follow_transformers(cls_name, rank):
    hf = getattr(transformers, cls_name)(hidden_size=40, num_hidden_layers=3, time_step_rank=rank, expand=3)
    cfg = parse_config(hf_config_dict(cls_name, hidden_size=40, num_hidden_layers=3, time_step_rank=rank, expand=3))
    assert cfg.ssm.time_step_rank == hf.time_step_rank == (math.ceil(40 / 16) if rank == "auto" else 7)
    assert cfg.ssm.inner_size == hf.intermediate_size == 120
    assert cfg.layers == [LayerSpec("mamba1", "none")] * 3
    assert cfg.max_context is None
    assert cfg.tie_word_embeddings is True
    assert cfg.ssm.bcdt_norm == ("weightless" if cls_name.startswith("Falcon") else "none")


def test_mamba2_fields_follow_transformers():
    raw = hf_config_dict("Mamba2Config", hidden_size=64, num_heads=16, head_dim=8, n_groups=4, chunk_size=32,
                         state_size=32, num_hidden_layers=2)
    cfg = parse_config(raw)
    assert (cfg.ssm.num_heads, cfg.ssm.head_dim, cfg.ssm.n_groups, cfg.ssm.chunk_size) == (16, 8, 4, 32)
    assert cfg.ssm.inner_size == 128 and cfg.ssm.norm_group_size == 32
    assert cfg.ssm.time_step_limit == (0.0, math.inf)  # transformers writes inf as {"__float__": "Infinity"}
    # the layer declares its conv width: x, B and C share the conv
    from ssmdoc.models.mamba2 import Mamba2Mixer

    assert Mamba2Mixer.init_state(cfg, 1, "cpu", torch.float32).conv.shape == (1, 128 + 2 * 4 * 32, 3)
    assert cfg.eos_token_ids == [2] and cfg.max_context is None


def test_mamba2_inconsistent_heads_refused():
    raw = hf_config_dict("Mamba2Config", hidden_size=64, num_heads=16, head_dim=8, n_groups=4)
    raw["num_heads"] = 15
    with pytest.raises(ModelError, match="num_heads"):
        parse_config(raw)


@pytest.mark.parametrize("layout", [dict(attn_layer_period=8, attn_layer_offset=4, expert_layer_period=2,
                                         expert_layer_offset=1, num_experts=16),
                                    dict(attn_layer_period=3, attn_layer_offset=0, expert_layer_period=3,
                                         expert_layer_offset=2, num_experts=4),
                                    dict(attn_layer_period=4, attn_layer_offset=1, num_experts=1)])
def test_jamba_layout_follows_transformers(layout):
    kwargs = dict(num_hidden_layers=10, hidden_size=64, num_attention_heads=8, num_key_value_heads=2) | layout
    hf = transformers.JambaConfig(**kwargs)
    cfg = parse_config(hf_config_dict("JambaConfig", **kwargs))
    assert [s.mixer for s in cfg.layers] == ["attention" if t == "attention" else "mamba1"
                                             for t in hf.layers_block_type]
    assert [s.ffn for s in cfg.layers] == ["moe" if n > 1 else "mlp" for n in hf.layers_num_experts]
    assert cfg.max_context == hf.max_position_embeddings == 262144
    assert cfg.attention.head_dim == 8 and cfg.attention.num_kv_heads == 2
    assert cfg.ssm.time_step_rank == 4  # "auto": ceil(64 / 16)
    assert cfg.moe.num_experts_per_tok == (2 if layout["num_experts"] > 1 else 0)


def test_token_ids_normalised():
    raw = hf_config_dict("JambaConfig", num_hidden_layers=2, eos_token_id=[2, 5])
    assert parse_config(raw).eos_token_ids == [2, 5]
    raw["eos_token_id"] = None
    assert parse_config(raw).eos_token_ids == []


def test_unsupported_architecture_names_the_supported_ones(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "hidden_size": 8}))
    with pytest.raises(ModelError) as info:
        load_config(tmp_path)
    message = str(info.value)
    assert "LlamaForCausalLM" in message
    for name in ("MambaForCausalLM", "FalconMambaForCausalLM", "Mamba2ForCausalLM", "JambaForCausalLM"):
        assert name in message


def test_model_type_without_architectures(tmp_path):
    raw = hf_config_dict("MambaConfig", num_hidden_layers=2)
    del raw["architectures"]
    (tmp_path / "config.json").write_text(json.dumps(raw))
    assert load_config(tmp_path).architecture == "MambaForCausalLM"


def test_missing_or_broken_config(tmp_path):
    with pytest.raises(ModelError, match="no config.json"):
        load_config(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot read"):
        load_config(tmp_path)


def test_state_estimates_by_hand():
    cfg = parse_config(hf_config_dict("JambaConfig", num_hidden_layers=8, hidden_size=64, num_attention_heads=8,
                                      num_key_value_heads=2, attn_layer_period=8, attn_layer_offset=4,
                                      mamba_d_state=16, mamba_d_conv=4, mamba_expand=2))
    est = estimate_state_bytes(cfg, 1000, "bfloat16", batch_size=3)
    assert est["ssm"] == 7 * 128 * 16 * 4 * 3  # 7 Mamba layers, d_inner 128, float32 state
    assert est["conv"] == 7 * 128 * 3 * 2 * 3
    assert est["kv"] == 2 * 2 * 8 * 1000 * 2 * 3  # k and v, 2 kv heads of 8 dims, 1000 tokens, bf16
    assert estimate_state_bytes(cfg, 1000, "bfloat16", kv_window=100)["kv"] == 2 * 2 * 8 * 100 * 2
    assert transformer_kv_equivalent_bytes(cfg, 1000, "float32") == 2 * 8 * 16 * 1000 * 4
    mamba = parse_config(hf_config_dict("MambaConfig", num_hidden_layers=4, hidden_size=48))
    assert transformer_kv_equivalent_bytes(mamba, 10, "float16") == 2 * 4 * 48 * 10 * 2  # hidden stands in
