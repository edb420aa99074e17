"""config.json values checked before anything is built from them, and the weights' memory before it is taken.

A config.json is untrusted input: `"hidden_size": 1e9` overflowed a storage size, `"num_hidden_layers":
1000000` built a million modules, `"vocab_size": -1`, `"inf"`, `[32]` or `"32"` failed deep in torch. Each
size a parser reads is checked here for its type (an int, not a bool or float) and its range (bounds far
above any released checkpoint: hidden 1 << 17, vocab 1 << 24, layers 10,000), and each float for being
finite, so a bad value is one ModelError naming the key.

`check_memory` compares the parameters' bytes (counted on the meta device, where nothing is allocated) with
the memory available on the target device, before the weights are materialised.
"""

from __future__ import annotations

import math

from .errors import ModelError

# key -> (minimum, maximum) for integer sizes a config may hold (any family's name for it).
_SIZES: dict[str, tuple[int, int]] = {}
for _keys, _bounds in (
    (("hidden_size", "d_model"), (1, 1 << 17)),
    (("vocab_size",), (1, 1 << 24)),
    (("num_hidden_layers", "n_layer", "n_layers"), (1, 10_000)),
    (("intermediate_size", "shared_intermediate_size", "moe_intermediate_size",
      "moe_shared_expert_intermediate_size", "ffn_hidden_size", "d_inner"), (0, 1 << 20)),
    (("num_attention_heads", "num_key_value_heads", "mamba_n_heads", "num_heads", "mamba_num_heads",
      "n_groups", "mamba_n_groups", "n_head"), (0, 1 << 14)),
    (("head_dim", "mamba_head_dim", "mamba_d_head", "attention_head_dim"), (0, 1 << 14)),
    (("state_size", "mamba_d_state", "ssm_state_size", "d_state"), (0, 1 << 16)),
    (("conv_kernel", "mamba_d_conv", "d_conv"), (0, 1 << 10)),
    (("expand", "mamba_expand"), (0, 1 << 8)),
    (("num_experts", "num_local_experts", "n_routed_experts", "num_experts_per_tok"), (0, 1 << 14)),
    (("chunk_size", "mamba_chunk_size"), (0, 1 << 20)),
    (("max_position_embeddings",), (0, 1 << 40)),
    (("time_step_rank", "mamba_dt_rank"), (0, 1 << 17)),
):
    for _key in _keys:
        _SIZES[_key] = _bounds

_FLOATS_POSITIVE = ("rms_norm_eps", "layer_norm_epsilon", "norm_eps", "rope_theta")


def _bad(key: str, value, why: str) -> ModelError:
    shown = repr(value)
    return ModelError(f"config.json: {key} = {shown[:40]} {why}",
                      "the checkpoint's config.json is damaged or not a supported model")


def validate_raw_config(raw: dict) -> None:
    """ModelError for the first size of the wrong type or out of range, or a non-finite float."""
    for key, (low, high) in _SIZES.items():
        if key not in raw or raw[key] is None:
            continue
        value = raw[key]
        if isinstance(value, str) and value == "auto":
            continue  # Mamba's time_step_rank / Jamba's mamba_dt_rank: derived from hidden_size
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)  # a JSON writer may say 2048.0; 1e9 is still checked against the range
        if not isinstance(value, int) or isinstance(value, bool):
            raise _bad(key, raw[key], f"is a {type(raw[key]).__name__}, not a whole number")
        if not low <= value <= high:
            raise _bad(key, raw[key], f"is out of range ({low:,} to {high:,})")
    for key in _FLOATS_POSITIVE:
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise _bad(key, value, "is not a positive finite number")


def parameter_bytes(model) -> int:
    """Bytes the parameters will take once materialised (each in its own dtype; a tied matrix counted once).
    Works on the meta device, where nothing is allocated."""
    seen, total = set(), 0
    for param in model.parameters():
        if id(param) in seen:
            continue
        seen.add(id(param))
        total += param.numel() * param.element_size()
    return total


def available_bytes(device) -> int | None:
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        try:
            free, _ = torch.cuda.mem_get_info(device)
            return int(free)
        except Exception:  # no driver answer: let the allocation itself decide
            return None
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:
        return None


def check_memory(model, device) -> None:
    """ModelError when the weights alone would not fit in the memory available on `device` now."""
    need = parameter_bytes(model)
    have = available_bytes(device)
    if have is not None and need > have:
        raise ModelError(f"the weights need {need / 2**30:,.1f} GiB but only {have / 2**30:,.1f} GiB is available on "
                         f"{device}", "use a smaller model, --dtype bfloat16, or another device")
