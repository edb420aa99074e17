"""Granite 4.0-H (GraniteMoeHybridForCausalLM): Mamba-2 + attention, a shared MLP with an optional
MoE beside it, muP multipliers; transformers' configuration_granitemoehybrid.py."""

from __future__ import annotations

from ..config import LayerSpec, ModelConfig, build_config
from ..errors import ModelError
from ._family import Family, name_table
from ._fields import attention_fields, common, layer_types, mamba_prefixed_fields, parse_rope_theta

_L = r"model\.layers\.(\d+)"

def parse_granite(raw: dict, architecture: str) -> ModelConfig:
    """GraniteMoeHybridForCausalLM (Granite 4.0-H): Mamba-2 / attention layers, each followed by a shared
    MLP, plus a top-k MoE beside it when num_local_experts > 0; Granite's muP multipliers."""
    base = common(raw, architecture, vocab_size=32000, hidden_size=4096, bos_token_id=1, eos_token_id=2,
                  pad_token_id=None, tie_word_embeddings=False)
    hidden = base["hidden_size"]
    num_experts = int(raw.get("num_local_experts", 8))
    types = layer_types(raw, "layer_types", raw.get("num_hidden_layers", 32), "linear_attention")
    unknown = set(types) - {"linear_attention", "full_attention"}
    if unknown:
        raise ModelError(f"unsupported Granite layer types {sorted(unknown)}")
    ffn = "moe" if num_experts > 0 else "mlp"
    layers = [LayerSpec("mamba2" if t == "linear_attention" else "attention", ffn) for t in types]
    shared = int(raw.get("shared_intermediate_size", 1024))
    return build_config(
        **base,
        layers=layers,
        max_context=raw.get("max_position_embeddings", 2048),
        norm_eps=float(raw.get("rms_norm_eps", 1e-6)),
        **attention_fields(raw, hidden, kv_default=None),
        # position_embedding_type "rope" or none at all ("nope", null: Granite 4.0-H's usual setting)
        rope_theta=parse_rope_theta(raw) if raw.get("position_embedding_type") == "rope" else None,
        attention_scale=float(raw.get("attention_multiplier", 1.0)),  # replaces 1 / sqrt(head_dim)
        attention_bias=bool(raw.get("attention_bias", False)),
        **mamba_prefixed_fields(raw, hidden),
        # dense: the shared MLP is the feed-forward; MoE: experts of intermediate_size plus the shared MLP
        intermediate_size=int(raw.get("intermediate_size", 11008)) if num_experts else shared,
        mlp_activation=raw.get("hidden_act", "silu"),
        num_experts=num_experts,
        num_experts_per_tok=int(raw.get("num_experts_per_tok", 2)) if num_experts else 0,
        moe_router="topk_softmax",
        moe_shared_size=shared if num_experts else 0,
        embedding_multiplier=float(raw.get("embedding_multiplier", 1.0)),
        residual_multiplier=float(raw.get("residual_multiplier", 1.0)),
        logits_scaling=float(raw.get("logits_scaling", 1.0)),
    )


def granite_names(config: ModelConfig) -> list[tuple[str, str]]:
    """GraniteMoeHybridForCausalLM; the shared MLP is the block's whole feed-forward when there are no
    experts, else the MoE's shared part."""
    shared = r"layers.\1.ffn." + ("shared." if config.moe.num_experts else "")
    return name_table(r"""
        model\.embed_tokens\.weight                                             embed.weight
        model\.norm\.weight                                                     norm_f.weight
        {L}\.input_layernorm\.weight                                            layers.\1.norm.weight
        {L}\.post_attention_layernorm\.weight                                   layers.\1.ffn_norm.weight
        {L}\.(?:mamba|self_attn)\.(.+)                                          layers.\1.mixer.\2
        {L}\.block_sparse_moe\.(?:input_linear\.weight|experts\.gate_up_proj)  layers.\1.ffn.gate+up
        {L}\.block_sparse_moe\.(?:output_linear\.weight|experts\.down_proj)   layers.\1.ffn.down
        {L}\.block_sparse_moe\.router\.(?:layer\.)?weight                      layers.\1.ffn.router.weight
        {L}\.shared_mlp\.input_linear\.weight                                  {S}gate_proj.weight|{S}up_proj.weight
        {L}\.shared_mlp\.output_linear\.weight                                 {S}down_proj.weight
        lm_head\.weight                                                         lm_head.weight
    """, L=_L, S=shared)


FAMILIES = [Family("GraniteMoeHybridForCausalLM", "granitemoehybrid", parse_granite, granite_names,
                   layout="Mamba-2 + attention, shared MLP with optional MoE (Granite 4.0-H)", rank=5,
                   # recommended: none yet (no complete stored copy of an ibm-granite 4.0-H config.json to check)
                   )]
