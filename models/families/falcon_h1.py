"""Falcon-H1 (FalconH1ForCausalLM): attention and Mamba-2 side by side in every layer, muP multipliers;
transformers' configuration_falcon_h1.py."""

from __future__ import annotations

from ..config import LayerSpec, ModelConfig, build_config
from ..errors import ModelError
from ._family import Family, name_table
from ._fields import attention_fields, common, mamba_prefixed_fields, parse_rope_theta

_L = r"model\.layers\.(\d+)"

def parse_falcon_h1(raw: dict, architecture: str) -> ModelConfig:
    """FalconH1ForCausalLM: every layer runs attention and Mamba-2 in parallel (mixer "parallel"), then an
    MLP; muP multipliers on the embeddings, both branches, the Mamba-2 in_proj slices, the MLP, the keys
    and the LM head."""
    base = common(raw, architecture, vocab_size=128000, hidden_size=4096, bos_token_id=1, eos_token_id=2,
                  pad_token_id=0, tie_word_embeddings=False)
    hidden = base["hidden_size"]
    inner = raw.get("mamba_d_ssm", 1024)  # None: expand x hidden
    norm = "none"
    if raw.get("mamba_rms_norm", False):
        norm = "gated_norm_first" if raw.get("mamba_norm_before_gate", True) else "gated"
    ssm_mults = raw.get("ssm_multipliers") or [1.0] * 5
    mlp_mults = raw.get("mlp_multipliers") or [1.0, 1.0]
    if len(ssm_mults) != 5 or len(mlp_mults) != 2:
        raise ModelError("Falcon-H1 config: ssm_multipliers needs 5 values (z, x, B, C, dt), mlp_multipliers 2")
    return build_config(
        **base,
        layers=[LayerSpec("parallel", "mlp")] * int(raw.get("num_hidden_layers", 32)),
        max_context=raw.get("max_position_embeddings", 8192),
        norm_eps=float(raw.get("rms_norm_eps", 1e-5)),
        **attention_fields(raw, hidden),
        rope_theta=parse_rope_theta(raw),
        attention_bias=bool(raw.get("attention_bias", False)),
        ssm_out_proj_bias=bool(raw.get("projectors_bias", False)),
        ssm_norm=norm,
        **mamba_prefixed_fields(raw, hidden, inner=inner),
        intermediate_size=int(raw.get("intermediate_size", 14336)),
        mlp_activation=raw.get("hidden_act", "silu"),
        mlp_bias=bool(raw.get("mlp_bias", False)),
        embedding_multiplier=float(raw.get("embedding_multiplier", 1.0)),
        # logits = lm_head(h) x lm_head_multiplier, expressed as the engine's divisor
        logits_scaling=1.0 / float(raw.get("lm_head_multiplier", 1.0)),
        key_multiplier=float(raw.get("key_multiplier", 1.0)),
        attention_in_multiplier=float(raw.get("attention_in_multiplier", 1.0)),
        attention_out_multiplier=float(raw.get("attention_out_multiplier", 1.0)),
        ssm_in_multiplier=float(raw.get("ssm_in_multiplier", 1.0)),
        ssm_out_multiplier=float(raw.get("ssm_out_multiplier", 1.0)),
        ssm_multipliers=tuple(float(m) for m in ssm_mults),
        mlp_multipliers=(float(mlp_mults[0]), float(mlp_mults[1])),
    )


_FALCON_H1_NAMES = name_table(r"""
    model\.embed_tokens\.weight     embed.weight
    model\.final_layernorm\.weight  norm_f.weight
    {L}\.input_layernorm\.weight    layers.\1.norm.weight
    {L}\.pre_ff_layernorm\.weight   layers.\1.ffn_norm.weight
    {L}\.(mamba|self_attn)\.(.+)    layers.\1.mixer.\2.\3
    {L}\.feed_forward\.(.+)         layers.\1.ffn.\2
    lm_head\.weight                 lm_head.weight
""", L=_L)


FAMILIES = [Family("FalconH1ForCausalLM", "falcon_h1", parse_falcon_h1, _FALCON_H1_NAMES,
                   layout="attention and Mamba-2 side by side in every layer (Falcon-H1)", rank=7,
                   # recommended: none yet (no complete stored copy of a tiiuae Falcon-H1 config.json to check)
                   )]
