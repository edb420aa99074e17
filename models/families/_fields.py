"""Config-parsing helpers several families share: token ids, JSON floats, and the SSM / attention fields
that families spell alike. Fields and defaults follow transformers' configuration_*.py."""

from __future__ import annotations

import math
from typing import Any

from ..errors import ModelError

# transformers' legacy layer-type names (configuration_utils._LEGACY_LAYER_TYPE_REMAP)
LEGACY_TYPES = {"mamba": "linear_attention", "attention": "full_attention"}


def eos_list(value: Any) -> list[int]:
    if value is None:
        return []
    if isinstance(value, int):
        return [value]
    return [int(v) for v in value]


def as_float(value: Any) -> float:
    """A JSON float; transformers 5 writes non-finite ones as {"__float__": "Infinity"}."""
    if isinstance(value, dict) and "__float__" in value:
        value = value["__float__"]
    return float(value)


def dt_rank(value: Any, hidden: int) -> int:
    return math.ceil(hidden / 16) if value in (None, "auto") else int(value)


MAMBA1_KEYS = ("state_size", "expand", "conv_kernel", "use_conv_bias", "use_bias", "time_step_rank")


def mamba1_fields(raw: dict, hidden: int, keys: tuple[str, ...] = MAMBA1_KEYS) -> dict:
    """The Mamba-1 SSM fields under the keys a family names them by (Mamba's by default; Jamba's are
    mamba_*), with transformers' defaults. d_inner is expand x hidden (Mamba's parser lets a stored
    intermediate_size win, as transformers does; Jamba's intermediate_size is its MLP's)."""
    state, expand, conv, conv_bias, proj_bias, rank = keys
    return dict(ssm_state_size=int(raw.get(state, 16)), ssm_inner_size=int(raw.get(expand, 2) * hidden),
                conv_kernel=int(raw.get(conv, 4)), conv_bias=bool(raw.get(conv_bias, True)),
                ssm_proj_bias=bool(raw.get(proj_bias, False)), ssm_activation=raw.get("hidden_act", "silu"),
                time_step_rank=dt_rank(raw.get(rank, "auto"), hidden))


def common(raw: dict, architecture: str, **defaults) -> dict:
    """Token ids and vocabulary; `defaults` are the HF class defaults for keys absent from config.json."""
    get = lambda key: raw.get(key, defaults.get(key))  # noqa: E731
    return dict(
        architecture=architecture,
        model_type=raw.get("model_type", ""),
        vocab_size=int(get("vocab_size")),
        hidden_size=int(get("hidden_size")),
        bos_token_id=get("bos_token_id"),
        eos_token_ids=eos_list(get("eos_token_id")),
        pad_token_id=get("pad_token_id"),
        tie_word_embeddings=bool(get("tie_word_embeddings")),
    )


def parse_rope_theta(raw: dict, default: float = 10000.0) -> float:
    """rope_theta from rope_parameters (transformers 5) or the top level (older exports); only the
    "default" rope type (no frequency scaling) is implemented."""
    params = raw.get("rope_parameters") or {}
    legacy = raw.get("rope_scaling") or {}
    kind = params.get("rope_type") or legacy.get("rope_type") or legacy.get("type") or "default"
    if kind != "default":
        raise ModelError(f"unsupported RoPE type {kind!r} (ssmdoc implements the default RoPE only)")
    return float(params.get("rope_theta", raw.get("rope_theta", default)))


def mamba2_fields(raw: dict, hidden: int, *, heads: int, head_dim, groups: int, inner: int | None = None,
                  **fields) -> dict:
    """The Mamba-2 fields shared by these families; head_dim "auto" = inner / heads."""
    inner = int(inner if inner is not None else raw.get("mamba_expand", 2) * hidden)
    head_dim = inner // heads if head_dim in (None, "auto") else int(head_dim)
    if heads * head_dim != inner or heads % groups:
        raise ModelError(f"inconsistent Mamba-2 config: d_inner {inner}, heads {heads} x head_dim {head_dim}, "
                         f"n_groups {groups}")
    limit = fields.pop("time_step_limit", None) or (0.0, math.inf)
    return dict(ssm_inner_size=inner, ssm_num_heads=heads, ssm_head_dim=head_dim, ssm_n_groups=groups,
                ssm_norm_group_size=inner // groups, time_step_limit=(as_float(limit[0]), as_float(limit[1])),
                **fields)


def mamba_prefixed_fields(raw: dict, hidden: int, inner: int | None = None) -> dict:
    """The SSM fields of the families that spell them `mamba_*` (Bamba, Granite 4.0-H, Falcon-H1), with
    transformers' defaults."""
    return dict(
        ssm_state_size=int(raw.get("mamba_d_state", 256)),
        conv_kernel=int(raw.get("mamba_d_conv", 4)),
        conv_bias=bool(raw.get("mamba_conv_bias", True)),
        ssm_proj_bias=bool(raw.get("mamba_proj_bias", False)),
        ssm_activation=raw.get("hidden_act", "silu"),
        **mamba2_fields(raw, hidden, heads=int(raw.get("mamba_n_heads", 128)), head_dim=raw.get("mamba_d_head"),
                        groups=int(raw.get("mamba_n_groups", 1)), inner=inner,
                        ssm_chunk_size=int(raw.get("mamba_chunk_size", 256)),
                        time_step_limit=raw.get("time_step_limit")),
    )


def attention_fields(raw: dict, hidden: int, heads_default: int = 32, kv_default: int | None = 8) -> dict:
    heads = int(raw.get("num_attention_heads", heads_default))
    kv = raw.get("num_key_value_heads", kv_default)
    return dict(num_attention_heads=heads, num_key_value_heads=int(heads if kv is None else kv),
                head_dim=int(raw.get("head_dim") or hidden // heads))


def layer_types(raw: dict, key: str, n_layers: int | None, default: str) -> list[str]:
    types = raw.get(key)
    if types is None:
        types = [default] * int(n_layers)
    return [LEGACY_TYPES.get(t, t) for t in types]
