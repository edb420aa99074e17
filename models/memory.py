"""Memory estimates from the config alone (ssmdoc inspect, the report): the inference state after n tokens,
and what an all-attention model of the same shape would hold instead."""

from __future__ import annotations

from typing import Any

from .config import ModelConfig
from .state import add_bytes

_ITEMSIZE = {"float32": 4, "float": 4, "fp32": 4, "bfloat16": 2, "bf16": 2, "float16": 2, "half": 2,
             "fp16": 2, "float64": 8, "double": 8}


def dtype_bytes(dtype: Any) -> int:
    """Bytes per element of a torch dtype or its name ("bfloat16", "torch.float16", ...)."""
    size = getattr(dtype, "itemsize", None)
    if isinstance(size, int):
        return size
    name = str(dtype).removeprefix("torch.")
    if name not in _ITEMSIZE:
        raise ValueError(f"unknown dtype {dtype!r}")
    return _ITEMSIZE[name]


def estimate_state_bytes(config: ModelConfig, n_tokens: int, dtype: Any, batch_size: int = 1,
                         kv_window: int | None = None) -> dict[str, int]:
    """Bytes of the inference state after `n_tokens`: {"ssm", "conv", "kv"}; matches InferenceState.nbytes().

    The sum of each layer's own state_bytes: the SSM state is float32, conv and KV caches are in `dtype`.
    With `kv_window` attention keeps only the last `kv_window` keys and values.
    """
    from .model import state_owner  # the layers (and torch) only when an estimate is asked for

    item = dtype_bytes(dtype)
    kept = n_tokens if kv_window is None else min(n_tokens, kv_window)
    owners = [state_owner(spec) for spec in config.layers]
    total = add_bytes(*(owner.state_bytes(config, kept, item) for owner in owners if owner is not None))
    return {key: value * batch_size for key, value in total.items()}


def transformer_kv_equivalent_bytes(config: ModelConfig, n_tokens: int, dtype: Any) -> int:
    """KV cache of an all-attention model of the same depth and width, for comparison.

    2 x n_layers x n_kv_heads x head_dim x tokens x bytes; hidden_size stands for n_kv_heads x head_dim
    when the checkpoint has no attention layer.
    """
    width = config.attention.num_kv_heads * config.attention.head_dim if any(s.has_kv for s in config.layers) else 0
    width = width or config.hidden_size
    # Nemotron-H's MLP-only blocks are half of a transformer layer: only blocks with a sequence mixer count
    depth = sum(spec.has_mixer for spec in config.layers)
    return 2 * depth * width * n_tokens * dtype_bytes(dtype)
