"""Zamba2 (Zamba2ForCausalLM): Mamba-2 layers plus shared attention blocks reused across depths;
transformers' configuration_zamba2.py."""

from __future__ import annotations

import math

from ..config import LayerSpec, ModelConfig, build_config
from ..errors import ModelError
from ._family import Family, name_table
from ._fields import LEGACY_TYPES, as_float, common, mamba2_fields, parse_rope_theta

_L = r"model\.layers\.(\d+)"

_ZAMBA2_DEFAULT_TYPES = (["linear_attention"] + (["linear_attention"] * 5 + ["hybrid"]) * 7 + ["linear_attention"] * 4
                         + ["hybrid"] + ["linear_attention"] * 3 + ["hybrid"] + ["linear_attention"] * 2)


def parse_zamba2(raw: dict, architecture: str) -> ModelConfig:
    """Zamba2ForCausalLM: Mamba-2 layers; at each "hybrid" depth one of num_mem_blocks shared attention + MLP
    blocks runs first (in turn: the u-th hybrid layer uses block u mod num_mem_blocks), on the concatenation
    of the hidden state and the token embeddings."""
    base = common(raw, architecture, vocab_size=32000, hidden_size=2560, bos_token_id=1, eos_token_id=2,
                  pad_token_id=0, tie_word_embeddings=True)
    hidden = base["hidden_size"]
    types = [LEGACY_TYPES.get(t, t) for t in (raw.get("layers_block_type") or _ZAMBA2_DEFAULT_TYPES)]
    unknown = set(types) - {"linear_attention", "hybrid"}
    if unknown and unknown <= {"m", "g"}:
        raise ModelError("unsupported Zamba2 layer types 'm' / 'g': this config.json is in the format of Zyphra's "
                         "own transformers fork, from before Zamba2 joined transformers",
                         hint="use a revision of the checkpoint written for transformers >= 4.48 (layers_block_type "
                              "'mamba' / 'hybrid')")
    if unknown:
        raise ModelError(f"unsupported Zamba2 layer types {sorted(unknown)}")
    n_blocks = int(raw.get("num_mem_blocks", 1))
    if not base["tie_word_embeddings"]:
        # NOTE: transformers ties the shared blocks only when tie_word_embeddings is set (that flag gates all
        # its weight ties): untied, every hybrid layer has a block of its own, and so do we
        n_blocks = types.count("hybrid") or 1
    layers, uses = [], 0
    for t in types:
        layers.append(LayerSpec("mamba2", shared_block=uses % n_blocks if t == "hybrid" else None))
        uses += t == "hybrid"
    heads = int(raw.get("num_attention_heads", 32))
    kv = raw.get("num_key_value_heads")
    head_dim = 2 * hidden // heads  # the attention reads 2 x hidden channels (hidden state + embeddings)
    max_context = 16384 if raw.get("use_long_context", False) else raw.get("max_position_embeddings", 4096)
    bias = bool(raw.get("add_bias_linear", False))
    return build_config(
        **base,
        layers=layers,
        max_context=max_context,
        norm_eps=float(raw.get("rms_norm_eps", 1e-5)),
        num_attention_heads=heads,
        num_key_value_heads=int(heads if kv is None else kv),
        head_dim=head_dim,
        attention_scale=(head_dim / 2) ** -0.5,  # transformers: the 2d input still counts as d per head
        rope_theta=parse_rope_theta(raw) if raw.get("use_mem_rope", False) else None,
        ssm_state_size=int(raw.get("mamba_d_state", 64)),
        conv_kernel=int(raw.get("mamba_d_conv", 4)),
        conv_bias=True,  # Zamba2MambaMixer's conv always has a bias (use_conv_bias is not read)
        ssm_proj_bias=bias,
        ssm_activation="silu",
        ssm_norm_eps=1e-5,
        **mamba2_fields(raw, hidden, heads=int(raw.get("n_mamba_heads", 8)), head_dim=None,
                        groups=int(raw.get("mamba_ngroups", 1)), ssm_chunk_size=int(raw.get("chunk_size", 256)),
                        time_step_limit=(as_float(raw.get("time_step_min", 0.001)), math.inf)),
        intermediate_size=int(raw.get("intermediate_size") or 4 * hidden),
        mlp_activation=raw.get("hidden_act", "gelu"),
        mlp_bias=bias,
        shared_attention_adapter=bool(raw.get("use_shared_attention_adapter", False)),
        adapter_rank=int(raw.get("adapter_rank", 128)),
    )


def zamba2_names(config: ModelConfig) -> list[tuple[str, str]]:
    """Zamba2ForCausalLM. transformers stores a shared block under the first hybrid layer that uses it, with
    the adapters of all its uses in lists indexed by use (u); each use's adapters move to its own layer.
    Untied (see the parser) every layer has its block and reads only its own list entry; the others are
    never used and are skipped."""
    hybrid = [i for i, spec in enumerate(config.layers) if spec.shared_block is not None]
    first = {}  # block -> the first layer that uses it
    for layer in hybrid:
        first.setdefault(config.layers[layer].shared_block, layer)
    rules = name_table(r"""
        model\.embed_tokens\.weight                             embed.weight
        model\.final_layernorm\.weight                          norm_f.weight
        {L}\.(?:mamba_decoder\.)?input_layernorm\.weight       layers.\1.norm.weight
        {L}\.(?:mamba_decoder\.)?mamba\.(.+)                   layers.\1.mixer.\2
        {L}\.linear\.weight                                     layers.\1.linear.weight
        lm_head\.weight                                         lm_head.weight
    """, L=_L)
    for use, layer in enumerate(hybrid):
        block = config.layers[layer].shared_block
        src = rf"model\.layers\.{first[block]}\.shared_transformer"
        rules += [
            (src + rf"\.self_attn\.linear_{name}_adapter_list\.{use}\.([01])\.weight",
             rf"layers.{layer}.qkv_adapters.{j}.\1.weight")
            for j, name in enumerate("qkv")
        ]
        rules.append((src + rf"\.feed_forward\.gate_up_proj_adapter_list\.{use}\.([01])\.weight",
                      rf"layers.{layer}.gate_up_adapter.\1.weight"))
    rules.append((_L + r"\.shared_transformer\..*adapter_list\.\d+\.[01]\.weight", "-"))
    for layer in hybrid:
        block = f"shared.{config.layers[layer].shared_block}"
        here = rf"model\.layers\.{layer}\.shared_transformer"
        rules += [
            (here + r"\.feed_forward\.gate_up_proj\.(weight|bias)",
             rf"{block}.feed_forward.gate_proj.\1|{block}.feed_forward.up_proj.\1"),
            (here + r"\.(.+)", rf"{block}.\1"),
        ]
    return rules


FAMILIES = [Family("Zamba2ForCausalLM", "zamba2", parse_zamba2, zamba2_names,
                   layout="Mamba-2 + shared attention blocks reused across depths (Zamba2)", rank=8,
                   recommended=(("Zyphra/Zamba2-2.7B-Instruct-v2",
                                  "Zamba2 2.7B: Mamba-2 + shared attention blocks, chat template", 6),))]
