"""Nemotron-H (NemotronHForCausalLM): Mamba-2, attention, MLP and MoE blocks in a pattern;
transformers' configuration_nemotron_h.py."""

from __future__ import annotations

import math

from ..config import LayerSpec, ModelConfig, build_config
from ..errors import ModelError
from ._family import Family, name_table
from ._fields import LEGACY_TYPES, as_float, attention_fields, common, mamba2_fields

_NEMOTRON_PATTERN = {"M": "linear_attention", "E": "moe", "*": "full_attention", "-": "mlp"}
_NEMOTRON_BLOCKS = {
    "linear_attention": LayerSpec("mamba2"),
    "full_attention": LayerSpec("attention"),
    "mlp": LayerSpec("none", "mlp"),  # a block of its own: norm + MLP, no sequence mixer
    "moe": LayerSpec("none", "moe"),
}



def parse_nemotron_h(raw: dict, architecture: str) -> ModelConfig:
    """NemotronHForCausalLM: one mixer per block (Mamba-2, attention without positional encoding, a plain
    relu2 MLP or a sigmoid-routed MoE with a shared expert), from layers_block_type or the older
    hybrid_override_pattern string ("M" Mamba-2, "*" attention, "-" MLP, "E" MoE)."""
    base = common(raw, architecture, vocab_size=131072, hidden_size=4096, bos_token_id=1, eos_token_id=2,
                  pad_token_id=0, tie_word_embeddings=False)
    hidden = base["hidden_size"]
    if raw.get("layers_block_type") is not None:
        types = [LEGACY_TYPES.get(t, t) for t in raw["layers_block_type"]]
    elif raw.get("hybrid_override_pattern") is not None:
        pattern = raw["hybrid_override_pattern"]
        if set(pattern) - set(_NEMOTRON_PATTERN):
            raise ModelError(f"unsupported characters in hybrid_override_pattern {pattern!r}")
        types = [_NEMOTRON_PATTERN[c] for c in pattern]
    else:
        types = ["linear_attention", "moe", "full_attention", "mlp"]
    unknown = set(types) - set(_NEMOTRON_BLOCKS)
    if unknown:
        raise ModelError(f"unsupported Nemotron-H block types {sorted(unknown)}")
    if raw.get("moe_latent_size") is not None:
        raise ModelError("Nemotron-H checkpoints with a latent MoE projection (moe_latent_size) are not supported")
    # older key names; as in transformers' NemotronHConfig, the older one wins when a file has both
    get = lambda key, alias, default: raw.get(alias, raw.get(key, default))  # noqa: E731
    heads, head_dim = int(raw.get("mamba_num_heads", 128)), int(raw.get("mamba_head_dim", 64))
    num_experts = int(raw.get("n_routed_experts", raw.get("num_local_experts", 8)))
    has_moe = "moe" in types
    base["tie_word_embeddings"] = False  # NemotronHForCausalLM ties nothing, whatever the config says
    return build_config(
        **base,
        layers=[_NEMOTRON_BLOCKS[t] for t in types],
        max_context=raw.get("max_position_embeddings", 4096),
        norm_eps=float(raw.get("layer_norm_epsilon", 1e-5)),
        norm_fp32_weight=True,
        # the class defaults (8 kv heads, head_dim 128) rather than values derived from hidden_size
        **attention_fields(raw, hidden) | {"head_dim": int(raw.get("head_dim") or 128)},
        rope_theta=None,  # NemotronHAttention applies no positional encoding (and no biases)
        ssm_state_size=int(raw.get("ssm_state_size", 128)),
        conv_kernel=int(get("conv_kernel", "mamba_d_conv", 4)),
        conv_bias=bool(get("use_conv_bias", "mamba_conv_bias", True)),
        ssm_proj_bias=bool(raw.get("use_bias", False)),
        ssm_activation=raw.get("mamba_hidden_act", "silu"),
        # d_inner is heads x head_dim (expand is not used); dt is clamped below at time_step_min only
        **mamba2_fields(raw, hidden, heads=heads, head_dim=head_dim, inner=heads * head_dim,
                        groups=int(get("n_groups", "mamba_n_groups", 8)),
                        ssm_chunk_size=int(get("chunk_size", "mamba_chunk_size", 128)),
                        time_step_limit=(as_float(get("time_step_min", "mamba_dt_min", 0.001)), math.inf)),
        intermediate_size=int(raw.get("intermediate_size", 21504)),
        mlp_activation=raw.get("mlp_hidden_act", "relu2"),
        mlp_gated=False,
        mlp_bias=bool(raw.get("mlp_bias", False)),
        num_experts=num_experts if has_moe else 0,
        num_experts_per_tok=int(raw.get("num_experts_per_tok", 2)) if has_moe else 0,
        expert_size=int(raw.get("moe_intermediate_size", 7688)),
        moe_router="sigmoid_grouped",
        # transformers builds the shared expert whatever n_shared_experts says
        moe_shared_size=int(raw.get("moe_shared_expert_intermediate_size", 7688)) if has_moe else 0,
        moe_n_group=int(raw.get("n_group", 1)),
        moe_topk_group=int(raw.get("topk_group", 1)),
        moe_norm_topk=bool(raw.get("norm_topk_prob", True)),
        moe_routed_scaling=float(raw.get("routed_scaling_factor", 1.0)),
    )


# Nemotron-H: the Hub says "backbone.", transformers 5 "model."; MLP / MoE blocks keep their feed-forward
# under "mixer." too, told apart from Mamba-2 / attention by the parameter names
_NEMOTRON_H_NAMES = name_table(r"""
    {P}\.embeddings?\.weight                     embed.weight
    {P}\.norm_f\.weight                          norm_f.weight
    {P}\.layers\.(\d+)\.norm\.weight             layers.\1.norm.weight
    {M}\.experts\.(\d+)\.(up|down)_proj\.weight  layers.\1.ffn.\3[\2]
    {M}\.experts\.(up|down)_proj                 layers.\1.ffn.\2
    {M}\.gate\.weight                            layers.\1.ffn.router.weight
    {M}\.gate\.e_score_correction_bias           layers.\1.ffn.router_bias
    {M}\.shared_experts\.(.+)                    layers.\1.ffn.shared.\2
    {M}\.((?:up|down)_proj\..+)                  layers.\1.ffn.\2
    {M}\.(.+)                                    layers.\1.mixer.\2
    lm_head\.weight                              lm_head.weight
""", M=r"(?:backbone|model)\.layers\.(\d+)\.mixer", P="(?:backbone|model)")


FAMILIES = [Family("NemotronHForCausalLM", "nemotron_h", parse_nemotron_h, _NEMOTRON_H_NAMES,
                   layout="Mamba-2, attention, MLP and MoE blocks in a pattern (Nemotron-H)", rank=6,
                   # transformers' _keep_in_fp32_modules_strict: routing is computed in float32 from the
                   # unrounded router weight and score-correction bias
                   fp32_params=(r"layers\.\d+\.ffn\.router\.weight", r"layers\.\d+\.ffn\.router_bias"),
                   # recommended: none yet (no complete stored copy of an nvidia Nemotron-H config.json to check)
                   )]
