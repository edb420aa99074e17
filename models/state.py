"""The inference state carried across chunks: per layer a conv + SSM state, or a KV cache.

Its size does not grow with the input except for the KV caches of the (few) attention layers, and those
stop growing too when a `kv_window` is set. One InferenceState is threaded explicitly through every call.

Shapes (b = batch):
    Mamba-1  conv (b, d_inner, k-1)    ssm (b, d_inner, n)        float32
    Mamba-2  conv (b, conv_dim, k-1)   ssm (b, heads, head_dim, n) float32
    attention  k, v (b, kv_heads, t, head_dim) with t = tokens kept
A layer with both (Falcon-H1's parallel layers, Zamba2's layers that use a shared attention block) holds a
HybridLayerState; a layer with neither (Nemotron-H's MLP-only blocks) holds None.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import StateMismatchError

SSM_DTYPE = torch.float32  # the recurrence accumulates over millions of steps: never below float32
SSM_STATE_BYTES = 4  # so the recurrent state takes 4 bytes an element, whatever the weights' dtype


def add_bytes(*parts: dict[str, int]) -> dict[str, int]:
    """Sum {"ssm", "conv", "kv"} byte counts."""
    return {key: sum(p[key] for p in parts) for key in ("ssm", "conv", "kv")}


@dataclass
class SSMState:
    conv: torch.Tensor  # the last k-1 inputs of the causal conv, in the model's dtype
    ssm: torch.Tensor  # the recurrent state h, float32


class KVCache:
    """Keys and values of one attention layer, in a buffer that grows by doubling.

    With `window` set only the last `window` positions are kept: when the buffer is full the kept tail
    moves to the front, so appending stays amortised O(1) per token.
    """

    def __init__(self, batch: int, kv_heads: int, head_dim: int, dtype, device, window: int | None = None):
        self.window = window
        self.length = 0  # positions held
        self.position = 0  # positions ever appended: the absolute (rotary) position of the next token
        self._k = torch.empty(batch, kv_heads, 0, head_dim, dtype=dtype, device=device)
        self._v = torch.empty_like(self._k)

    @property
    def keys(self) -> torch.Tensor:
        return self._k[:, :, : self.length]

    @property
    def values(self) -> torch.Tensor:
        return self._v[:, :, : self.length]

    def append(self, k: torch.Tensor, v: torch.Tensor) -> None:
        """Add (b, kv_heads, L, head_dim) keys and values (apply_window() drops the old ones later)."""
        needed = self.length + k.shape[2]
        if needed > self._k.shape[2]:
            self._grow(needed)
        self._k[:, :, self.length : needed] = k
        self._v[:, :, self.length : needed] = v
        self.length = needed
        self.position += k.shape[2]

    def apply_window(self) -> None:
        """Drop the positions that fell out of the window (after the queries that needed them ran)."""
        if self.window is not None and self.length > self.window:
            self.trim(self.window)

    def trim(self, keep: int) -> None:
        """Keep only the last `keep` positions (the caller has used the older ones already)."""
        if self.length <= keep:
            return
        start = self.length - keep
        if self._k.shape[2] > 4 * keep + 64:  # a long prefill left a large buffer: give the memory back
            self._k = self._k[:, :, start : self.length].clone()
            self._v = self._v[:, :, start : self.length].clone()
        else:
            self._k[:, :, :keep] = self._k[:, :, start : self.length].clone()
            self._v[:, :, :keep] = self._v[:, :, start : self.length].clone()
        self.length = keep

    def _grow(self, needed: int) -> None:
        capacity = max(needed, 2 * self._k.shape[2], 64)
        if self.window is not None:  # never more than a window plus the chunk being added
            capacity = max(needed, min(capacity, 2 * self.window))
        shape = (*self._k.shape[:2], capacity, self._k.shape[3])
        k = self._k.new_empty(shape)
        v = self._v.new_empty(shape)
        k[:, :, : self.length] = self.keys
        v[:, :, : self.length] = self.values
        self._k, self._v = k, v

    def clone(self) -> "KVCache":
        other = KVCache.__new__(KVCache)
        other.window, other.length, other.position = self.window, self.length, self.position
        other._k, other._v = self.keys.clone(), self.values.clone()
        return other

    def nbytes(self) -> int:
        """Bytes of the positions held (the buffer may be up to twice that while it grows)."""
        return self.keys.nbytes + self.values.nbytes


@dataclass
class HybridLayerState:
    """A layer that holds both: Falcon-H1 (attention and Mamba-2 side by side), Zamba2 (a shared attention
    block's use before the layer's Mamba-2)."""

    ssm: SSMState
    kv: KVCache

    def clone(self) -> "HybridLayerState":
        return HybridLayerState(SSMState(self.ssm.conv.clone(), self.ssm.ssm.clone()), self.kv.clone())


def _parts(layer) -> list:
    """The SSMState and / or KVCache a layer's state is made of."""
    if layer is None:
        return []
    if isinstance(layer, HybridLayerState):
        return [layer.ssm, layer.kv]
    return [layer]


class InferenceState:
    """Everything a model needs to continue a sequence: `layers[i]` is an SSMState, a KVCache, a
    HybridLayerState (both) or None (an MLP-only block)."""

    def __init__(self, layers: list, seen_tokens: int = 0, kv_window: int | None = None):
        self.layers = layers
        self.seen_tokens = seen_tokens  # tokens consumed so far; the position of the next one
        self.kv_window = kv_window

    @classmethod
    def empty(cls, model, batch_size: int = 1, kv_window: int | None = None) -> "InferenceState":
        """The start of a sequence: each layer's own init_state (model.init_layer_states)."""
        if kv_window is not None and kv_window < 1:
            raise ValueError("kv_window must be at least 1")
        return cls(model.init_layer_states(batch_size, kv_window), 0, kv_window)

    @property
    def batch_size(self) -> int:
        first = next(part for layer in self.layers for part in _parts(layer))
        return first.conv.shape[0] if isinstance(first, SSMState) else first.keys.shape[0]

    def nbytes(self) -> dict[str, int]:
        sizes = {"ssm": 0, "conv": 0, "kv": 0}
        for layer in self.layers:
            for part in _parts(layer):
                if isinstance(part, KVCache):
                    sizes["kv"] += part.nbytes()
                else:
                    sizes["ssm"] += part.ssm.nbytes
                    sizes["conv"] += part.conv.nbytes
        return sizes

    def clone(self) -> "InferenceState":
        layers = [
            None if layer is None
            else layer.clone() if isinstance(layer, (KVCache, HybridLayerState))
            else SSMState(layer.conv.clone(), layer.ssm.clone())
            for layer in self.layers
        ]
        return InferenceState(layers, self.seen_tokens, self.kv_window)

    def to_tensors(self) -> dict[str, torch.Tensor]:
        """Flat name -> tensor dict (contiguous, CPU-independent names) for saving with safetensors."""
        out = {}
        for i, layer in enumerate(self.layers):
            for part in _parts(layer):
                if isinstance(part, KVCache):
                    out[f"layers.{i}.k"] = part.keys.contiguous()
                    out[f"layers.{i}.v"] = part.values.contiguous()
                else:
                    out[f"layers.{i}.conv"] = part.conv.contiguous()
                    out[f"layers.{i}.ssm"] = part.ssm.contiguous()
        return out

    @classmethod
    def from_tensors(cls, model, tensors: dict[str, torch.Tensor], seen_tokens: int,
                     kv_window: int | None = None) -> "InferenceState":
        """Rebuild a state saved with to_tensors() for `model`; StateMismatchError when it does not fit."""
        template = cls.empty(model, batch_size=1, kv_window=kv_window)
        expected = set(template.to_tensors())
        if set(tensors) != expected:
            missing = sorted(expected - set(tensors))[:5]
            extra = sorted(set(tensors) - expected)[:5]
            raise StateMismatchError(f"the saved state does not fit this model (missing {missing}, unexpected {extra})")
        batch = next(iter(tensors.values())).shape[0]
        state = cls.empty(model, batch_size=batch, kv_window=kv_window)
        for i, layer in enumerate(state.layers):
            for part in _parts(layer):
                if isinstance(part, KVCache):
                    k, v = tensors[f"layers.{i}.k"], tensors[f"layers.{i}.v"]
                    ref = part.keys
                    if k.shape != v.shape or k.shape[:2] != ref.shape[:2] or k.shape[3:] != ref.shape[3:]:
                        raise StateMismatchError(f"saved KV cache of layer {i} has shape {tuple(k.shape)}, "
                                             f"expected (batch, {ref.shape[1]}, tokens, {ref.shape[3]})")
                    part.append(k.to(ref.device, ref.dtype), v.to(ref.device, ref.dtype))
                    part.apply_window()
                    part.position = int(seen_tokens)  # rotary positions continue from the whole sequence
                    continue
                for name in ("conv", "ssm"):
                    saved, ref = tensors[f"layers.{i}.{name}"], getattr(part, name)
                    if saved.shape != ref.shape:
                        raise StateMismatchError(f"saved {name} state of layer {i} has shape {tuple(saved.shape)}, "
                                             f"expected {tuple(ref.shape)}")
                    ref.copy_(saved)
        state.seen_tokens = int(seen_tokens)
        return state
