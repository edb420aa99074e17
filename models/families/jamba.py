"""Jamba (JambaForCausalLM): Mamba-1 with attention every few layers and MoE feed-forwards; transformers'
configuration_jamba.py."""

from __future__ import annotations

from ..config import LayerSpec, ModelConfig
from ..errors import ModelError
from ._family import Family
from ._fields import common, dt_rank

def parse_jamba(raw: dict, architecture: str) -> ModelConfig:
    base = common(raw, architecture, vocab_size=65536, hidden_size=4096, bos_token_id=1, eos_token_id=2,
                   pad_token_id=0, tie_word_embeddings=False)
    hidden = base["hidden_size"]
    n_layers = int(raw.get("num_hidden_layers", 32))
    attn_period, attn_offset = int(raw.get("attn_layer_period", 8)), int(raw.get("attn_layer_offset", 4))
    exp_period, exp_offset = int(raw.get("expert_layer_period", 2)), int(raw.get("expert_layer_offset", 1))
    num_experts = int(raw.get("num_experts", raw.get("num_local_experts", 16)))
    if attn_offset >= attn_period or exp_offset >= exp_period:
        raise ModelError("inconsistent Jamba config: a layer offset is not smaller than its period")
    layers = [
        LayerSpec(
            "attention" if i % attn_period == attn_offset else "mamba1",
            "moe" if num_experts > 1 and i % exp_period == exp_offset else "mlp",
        )
        for i in range(n_layers)
    ]
    heads = int(raw.get("num_attention_heads", 32))
    kv_heads = raw.get("num_key_value_heads", 8)
    eps = float(raw.get("rms_norm_eps", 1e-6))
    return ModelConfig(
        **base,
        layers=layers,
        max_context=raw.get("max_position_embeddings", 262144),
        norm_eps=eps,
        num_attention_heads=heads,
        num_key_value_heads=int(heads if kv_heads is None else kv_heads),
        head_dim=hidden // heads,
        rope_theta=None,
        ssm_state_size=int(raw.get("mamba_d_state", 16)),
        ssm_inner_size=int(raw.get("mamba_expand", 2) * hidden),
        conv_kernel=int(raw.get("mamba_d_conv", 4)),
        conv_bias=bool(raw.get("mamba_conv_bias", True)),
        ssm_proj_bias=bool(raw.get("mamba_proj_bias", False)),
        ssm_activation=raw.get("hidden_act", "silu"),
        time_step_rank=dt_rank(raw.get("mamba_dt_rank", "auto"), hidden),
        bcdt_norm="learned",
        bcdt_norm_eps=eps,
        intermediate_size=int(raw.get("intermediate_size", 14336)),
        mlp_activation=raw.get("hidden_act", "silu"),
        num_experts=num_experts if num_experts > 1 else 0,
        num_experts_per_tok=int(raw.get("num_experts_per_tok", 2)) if num_experts > 1 else 0,
    )


JAMBA_NAMES = [
    (r"model\.embed_tokens\.weight", "embed.weight"),
    (r"model\.final_layernorm\.weight", "norm_f.weight"),
    (r"model\.layers\.(\d+)\.input_layernorm\.weight", r"layers.\1.norm.weight"),
    (r"model\.layers\.(\d+)\.pre_ff_layernorm\.weight", r"layers.\1.ffn_norm.weight"),
    (r"model\.layers\.(\d+)\.(?:mamba|self_attn)\.(.+)", r"layers.\1.mixer.\2"),
    # experts: per-expert tensors (Hub) or fused (E, 2f, d) / (E, d, f) tensors (transformers 5 layout)
    (r"model\.layers\.(\d+)\.feed_forward\.experts\.(\d+)\.(gate|up|down)_proj\.weight", r"layers.\1.ffn.\3[\2]"),
    (r"model\.layers\.(\d+)\.feed_forward\.experts\.gate_up_proj", r"layers.\1.ffn.gate+up"),
    (r"model\.layers\.(\d+)\.feed_forward\.experts\.down_proj", r"layers.\1.ffn.down"),
    (r"model\.layers\.(\d+)\.feed_forward\.router\.weight", r"layers.\1.ffn.router.weight"),
    (r"model\.layers\.(\d+)\.feed_forward\.(.+)", r"layers.\1.ffn.\2"),
    (r"lm_head\.weight", "lm_head.weight"),
]


FAMILIES = [
    Family(
        architecture="JambaForCausalLM",
        model_type="jamba",
        parse=parse_jamba,
        weight_names=JAMBA_NAMES,
        layout="Mamba-1 + attention every few layers, MoE feed-forward (Jamba)",
        recommended=(("ai21labs/AI21-Jamba2-3B",
                      "Jamba hybrid (Mamba + attention + MoE), 256K context, chat template — the default", 1),),
        rank=3,
    )
]
