"""Config parsers for the Mamba-2 hybrids of issue 7: Bamba, Granite-4.0-H, Nemotron-H, Falcon-H1, Zamba2.

Each turns a config.json dict into the same flat ModelConfig as config.py's parsers (registered in its
PARSERS table); fields and defaults follow transformers' configuration_{bamba,granitemoehybrid,nemotron_h,
falcon_h1,zamba2}.py, including keys older exports spell differently.
"""

from __future__ import annotations

import math

from ssmdoc.errors import ModelError

from .config import LayerSpec, ModelConfig, _common, _float

# transformers' legacy layer-type names (configuration_utils._LEGACY_LAYER_TYPE_REMAP)
_LEGACY_TYPES = {"mamba": "linear_attention", "attention": "full_attention"}


def _rope_theta(raw: dict, default: float = 10000.0) -> float:
    """rope_theta from rope_parameters (transformers 5) or the top level (older exports); only the
    "default" rope type (no frequency scaling) is implemented."""
    params = raw.get("rope_parameters") or {}
    legacy = raw.get("rope_scaling") or {}
    kind = params.get("rope_type") or legacy.get("rope_type") or legacy.get("type") or "default"
    if kind != "default":
        raise ModelError(f"unsupported RoPE type {kind!r} (ssmdoc implements the default RoPE only)")
    return float(params.get("rope_theta", raw.get("rope_theta", default)))


def _mamba2_fields(raw: dict, hidden: int, *, heads: int, head_dim, groups: int, inner: int | None = None,
                   **fields) -> dict:
    """The Mamba-2 fields shared by these families; head_dim "auto" = inner / heads."""
    inner = int(inner if inner is not None else raw.get("mamba_expand", 2) * hidden)
    head_dim = inner // heads if head_dim in (None, "auto") else int(head_dim)
    if heads * head_dim != inner or heads % groups:
        raise ModelError(f"inconsistent Mamba-2 config: d_inner {inner}, heads {heads} x head_dim {head_dim}, "
                         f"n_groups {groups}")
    limit = fields.pop("time_step_limit", None) or (0.0, math.inf)
    return dict(ssm_inner_size=inner, ssm_num_heads=heads, ssm_head_dim=head_dim, ssm_n_groups=groups,
                ssm_norm_group_size=inner // groups, time_step_limit=(_float(limit[0]), _float(limit[1])),
                **fields)


def _mamba_prefixed_fields(raw: dict, hidden: int, inner: int | None = None) -> dict:
    """The SSM fields of the families that spell them `mamba_*` (Bamba, Granite 4.0-H, Falcon-H1), with
    transformers' defaults."""
    return dict(
        ssm_state_size=int(raw.get("mamba_d_state", 256)),
        conv_kernel=int(raw.get("mamba_d_conv", 4)),
        conv_bias=bool(raw.get("mamba_conv_bias", True)),
        ssm_proj_bias=bool(raw.get("mamba_proj_bias", False)),
        ssm_activation=raw.get("hidden_act", "silu"),
        **_mamba2_fields(raw, hidden, heads=int(raw.get("mamba_n_heads", 128)), head_dim=raw.get("mamba_d_head"),
                         groups=int(raw.get("mamba_n_groups", 1)), inner=inner,
                         ssm_chunk_size=int(raw.get("mamba_chunk_size", 256)),
                         time_step_limit=raw.get("time_step_limit")),
    )


def _attention_fields(raw: dict, hidden: int, heads_default: int = 32, kv_default: int | None = 8) -> dict:
    heads = int(raw.get("num_attention_heads", heads_default))
    kv = raw.get("num_key_value_heads", kv_default)
    return dict(num_attention_heads=heads, num_key_value_heads=int(heads if kv is None else kv),
                head_dim=int(raw.get("head_dim") or hidden // heads))


def _parse_bamba(raw: dict, architecture: str) -> ModelConfig:
    base = _common(raw, architecture, vocab_size=128000, hidden_size=4096, bos_token_id=1, eos_token_id=2,
                   pad_token_id=0, tie_word_embeddings=False)
    hidden = base["hidden_size"]
    attn = set(raw.get("attn_layer_indices") or [])
    layers = [LayerSpec("attention" if i in attn else "mamba2", "mlp")
              for i in range(int(raw.get("num_hidden_layers", 32)))]
    params = raw.get("rope_parameters") or {}
    return ModelConfig(
        **base,
        layers=layers,
        max_context=raw.get("max_position_embeddings", 262144),
        norm_eps=float(raw.get("rms_norm_eps", 1e-5)),
        **_attention_fields(raw, hidden),
        rope_theta=_rope_theta(raw),
        # transformers' BambaConfig forces 0.5 unless rope_parameters states a factor
        partial_rotary_factor=float(params.get("partial_rotary_factor", 0.5)),
        attention_bias=bool(raw.get("attention_bias", False)),
        **_mamba_prefixed_fields(raw, hidden),
        intermediate_size=int(raw.get("intermediate_size", 14336)),
        mlp_activation=raw.get("hidden_act", "silu"),
        mlp_bias=bool(raw.get("mlp_bias", False)),
    )


def _layer_types(raw: dict, key: str, n_layers: int | None, default: str) -> list[str]:
    types = raw.get(key)
    if types is None:
        types = [default] * int(n_layers)
    return [_LEGACY_TYPES.get(t, t) for t in types]


def _parse_granite(raw: dict, architecture: str) -> ModelConfig:
    """GraniteMoeHybridForCausalLM (Granite 4.0-H): Mamba-2 / attention layers, each followed by a shared
    MLP, plus a top-k MoE beside it when num_local_experts > 0; Granite's muP multipliers."""
    base = _common(raw, architecture, vocab_size=32000, hidden_size=4096, bos_token_id=1, eos_token_id=2,
                   pad_token_id=None, tie_word_embeddings=False)
    hidden = base["hidden_size"]
    num_experts = int(raw.get("num_local_experts", 8))
    types = _layer_types(raw, "layer_types", raw.get("num_hidden_layers", 32), "linear_attention")
    unknown = set(types) - {"linear_attention", "full_attention"}
    if unknown:
        raise ModelError(f"unsupported Granite layer types {sorted(unknown)}")
    ffn = "moe" if num_experts > 0 else "mlp"
    layers = [LayerSpec("mamba2" if t == "linear_attention" else "attention", ffn) for t in types]
    shared = int(raw.get("shared_intermediate_size", 1024))
    return ModelConfig(
        **base,
        layers=layers,
        max_context=raw.get("max_position_embeddings", 2048),
        norm_eps=float(raw.get("rms_norm_eps", 1e-6)),
        **_attention_fields(raw, hidden, kv_default=None),
        # position_embedding_type "rope" or none at all ("nope", null: Granite 4.0-H's usual setting)
        rope_theta=_rope_theta(raw) if raw.get("position_embedding_type") == "rope" else None,
        attention_scale=float(raw.get("attention_multiplier", 1.0)),  # replaces 1 / sqrt(head_dim)
        attention_bias=bool(raw.get("attention_bias", False)),
        **_mamba_prefixed_fields(raw, hidden),
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


_NEMOTRON_PATTERN = {"M": "linear_attention", "E": "moe", "*": "full_attention", "-": "mlp"}
_NEMOTRON_BLOCKS = {
    "linear_attention": LayerSpec("mamba2"),
    "full_attention": LayerSpec("attention"),
    "mlp": LayerSpec("none", "mlp"),  # a block of its own: norm + MLP, no sequence mixer
    "moe": LayerSpec("none", "moe"),
}


def _parse_nemotron_h(raw: dict, architecture: str) -> ModelConfig:
    """NemotronHForCausalLM: one mixer per block (Mamba-2, attention without positional encoding, a plain
    relu2 MLP or a sigmoid-routed MoE with a shared expert), from layers_block_type or the older
    hybrid_override_pattern string ("M" Mamba-2, "*" attention, "-" MLP, "E" MoE)."""
    base = _common(raw, architecture, vocab_size=131072, hidden_size=4096, bos_token_id=1, eos_token_id=2,
                   pad_token_id=0, tie_word_embeddings=False)
    hidden = base["hidden_size"]
    if raw.get("layers_block_type") is not None:
        types = [_LEGACY_TYPES.get(t, t) for t in raw["layers_block_type"]]
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
    get = lambda key, alias, default: raw.get(key, raw.get(alias, default))  # noqa: E731  (older key names)
    heads, head_dim = int(raw.get("mamba_num_heads", 128)), int(raw.get("mamba_head_dim", 64))
    num_experts = int(raw.get("n_routed_experts", raw.get("num_local_experts", 8)))
    has_moe = "moe" in types
    return ModelConfig(
        **base,
        layers=[_NEMOTRON_BLOCKS[t] for t in types],
        max_context=raw.get("max_position_embeddings", 4096),
        norm_eps=float(raw.get("layer_norm_epsilon", 1e-5)),
        norm_fp32_weight=True,
        # the class defaults (8 kv heads, head_dim 128) rather than values derived from hidden_size
        **_attention_fields(raw, hidden) | {"head_dim": int(raw.get("head_dim") or 128)},
        rope_theta=None,  # NemotronHAttention applies no positional encoding (and no biases)
        ssm_state_size=int(raw.get("ssm_state_size", 128)),
        conv_kernel=int(get("conv_kernel", "mamba_d_conv", 4)),
        conv_bias=bool(get("use_conv_bias", "mamba_conv_bias", True)),
        ssm_proj_bias=bool(raw.get("use_bias", False)),
        ssm_activation=raw.get("mamba_hidden_act", "silu"),
        # d_inner is heads x head_dim (expand is not used); dt is clamped below at time_step_min only
        **_mamba2_fields(raw, hidden, heads=heads, head_dim=head_dim, inner=heads * head_dim,
                         groups=int(get("n_groups", "mamba_n_groups", 8)),
                         ssm_chunk_size=int(get("chunk_size", "mamba_chunk_size", 128)),
                         time_step_limit=(_float(get("time_step_min", "mamba_dt_min", 0.001)), math.inf)),
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


def _parse_falcon_h1(raw: dict, architecture: str) -> ModelConfig:
    """FalconH1ForCausalLM: every layer runs attention and Mamba-2 in parallel (mixer "parallel"), then an
    MLP; muP multipliers on the embeddings, both branches, the Mamba-2 in_proj slices, the MLP, the keys
    and the LM head."""
    base = _common(raw, architecture, vocab_size=128000, hidden_size=4096, bos_token_id=1, eos_token_id=2,
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
    return ModelConfig(
        **base,
        layers=[LayerSpec("parallel", "mlp")] * int(raw.get("num_hidden_layers", 32)),
        max_context=raw.get("max_position_embeddings", 8192),
        norm_eps=float(raw.get("rms_norm_eps", 1e-5)),
        **_attention_fields(raw, hidden),
        rope_theta=_rope_theta(raw),
        attention_bias=bool(raw.get("attention_bias", False)),
        ssm_out_proj_bias=bool(raw.get("projectors_bias", False)),
        ssm_norm=norm,
        **_mamba_prefixed_fields(raw, hidden, inner=inner),
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


_ZAMBA2_DEFAULT_TYPES = (["linear_attention"] + (["linear_attention"] * 5 + ["hybrid"]) * 7 + ["linear_attention"] * 4
                         + ["hybrid"] + ["linear_attention"] * 3 + ["hybrid"] + ["linear_attention"] * 2)


def _parse_zamba2(raw: dict, architecture: str) -> ModelConfig:
    """Zamba2ForCausalLM: Mamba-2 layers; at each "hybrid" depth one of num_mem_blocks shared attention + MLP
    blocks runs first (in turn: the u-th hybrid layer uses block u mod num_mem_blocks), on the concatenation
    of the hidden state and the token embeddings."""
    base = _common(raw, architecture, vocab_size=32000, hidden_size=2560, bos_token_id=1, eos_token_id=2,
                   pad_token_id=0, tie_word_embeddings=True)
    hidden = base["hidden_size"]
    types = [_LEGACY_TYPES.get(t, t) for t in (raw.get("layers_block_type") or _ZAMBA2_DEFAULT_TYPES)]
    unknown = set(types) - {"linear_attention", "hybrid"}
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
    return ModelConfig(
        **base,
        layers=layers,
        max_context=max_context,
        norm_eps=float(raw.get("rms_norm_eps", 1e-5)),
        num_attention_heads=heads,
        num_key_value_heads=int(heads if kv is None else kv),
        head_dim=head_dim,
        attention_scale=(head_dim / 2) ** -0.5,  # transformers: the 2d input still counts as d per head
        rope_theta=_rope_theta(raw) if raw.get("use_mem_rope", False) else None,
        ssm_state_size=int(raw.get("mamba_d_state", 64)),
        conv_kernel=int(raw.get("mamba_d_conv", 4)),
        conv_bias=True,  # Zamba2MambaMixer's conv always has a bias (use_conv_bias is not read)
        ssm_proj_bias=bias,
        ssm_activation="silu",
        ssm_norm_eps=1e-5,
        **_mamba2_fields(raw, hidden, heads=int(raw.get("n_mamba_heads", 8)), head_dim=None,
                         groups=int(raw.get("mamba_ngroups", 1)), ssm_chunk_size=int(raw.get("chunk_size", 256)),
                         time_step_limit=(_float(raw.get("time_step_min", 0.001)), math.inf)),
        intermediate_size=int(raw.get("intermediate_size") or 4 * hidden),
        mlp_activation=raw.get("hidden_act", "gelu"),
        mlp_bias=bias,
        shared_attention_adapter=bool(raw.get("use_shared_attention_adapter", False)),
        adapter_rank=int(raw.get("adapter_rank", 128)),
    )


HYBRID_PARSERS = {
    "BambaForCausalLM": _parse_bamba,
    "GraniteMoeHybridForCausalLM": _parse_granite,
    "NemotronHForCausalLM": _parse_nemotron_h,
    "FalconH1ForCausalLM": _parse_falcon_h1,
    "Zamba2ForCausalLM": _parse_zamba2,
}
HYBRID_MODEL_TYPES = {
    "bamba": "BambaForCausalLM",
    "granitemoehybrid": "GraniteMoeHybridForCausalLM",
    "nemotron_h": "NemotronHForCausalLM",
    "falcon_h1": "FalconH1ForCausalLM",
    "zamba2": "Zamba2ForCausalLM",
}
