"""Jamba (JambaForCausalLM): Mamba-1 with attention every few layers and MoE feed-forwards; transformers'
configuration_jamba.py."""

from __future__ import annotations

from ..config import LayerSpec, ModelConfig, build_config
from ..errors import ModelError
from ._family import Family, name_table
from ._fields import common, mamba1_fields

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
    return build_config(
        **base,
        layers=layers,
        max_context=raw.get("max_position_embeddings", 262144),
        norm_eps=eps,
        num_attention_heads=heads,
        num_key_value_heads=int(heads if kv_heads is None else kv_heads),
        head_dim=hidden // heads,
        rope_theta=None,
        **mamba1_fields(raw, hidden, ("mamba_d_state", "mamba_expand", "mamba_d_conv", "mamba_conv_bias",
                                      "mamba_proj_bias", "mamba_dt_rank")),
        bcdt_norm="learned",
        bcdt_norm_eps=eps,
        intermediate_size=int(raw.get("intermediate_size", 14336)),
        mlp_activation=raw.get("hidden_act", "silu"),
        num_experts=num_experts if num_experts > 1 else 0,
        num_experts_per_tok=int(raw.get("num_experts_per_tok", 2)) if num_experts > 1 else 0,
    )


JAMBA_NAMES = name_table(r"""
    model\.embed_tokens\.weight                                     embed.weight
    model\.final_layernorm\.weight                                  norm_f.weight
    {L}\.input_layernorm\.weight                                    layers.\1.norm.weight
    {L}\.pre_ff_layernorm\.weight                                   layers.\1.ffn_norm.weight
    {L}\.(?:mamba|self_attn)\.(.+)                                  layers.\1.mixer.\2
    # experts: per-expert tensors (Hub) or fused (E, 2f, d) / (E, d, f) tensors (transformers 5 layout)
    {L}\.feed_forward\.experts\.(\d+)\.(gate|up|down)_proj\.weight  layers.\1.ffn.\3[\2]
    {L}\.feed_forward\.experts\.gate_up_proj                        layers.\1.ffn.gate+up
    {L}\.feed_forward\.experts\.down_proj                           layers.\1.ffn.down
    {L}\.feed_forward\.router\.weight                               layers.\1.ffn.router.weight
    {L}\.feed_forward\.(.+)                                         layers.\1.ffn.\2
    lm_head\.weight                                                 lm_head.weight
""", L=r"model\.layers\.(\d+)")


FAMILIES = [Family("JambaForCausalLM", "jamba", parse_jamba, JAMBA_NAMES,
                   layout="Mamba-1 + attention every few layers, MoE feed-forward (Jamba)", rank=3,
                   recommended=(("ai21labs/Jamba-v0.1",
                                  "Jamba: Mamba + attention + MoE, large (tens of GB); a base model", 5),))]
