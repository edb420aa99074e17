"""Grouped-query causal self-attention with a KV cache (Jamba's attention layers).

Dimension letters: b batch, l new tokens, t cached + new tokens, h query heads, kh key/value heads, s head_dim.

Jamba and Nemotron-H use no positional encoding in their attention layers (the Mamba layers carry
position); Bamba, Falcon-H1, Granite-4.0-H (when configured) and Zamba2 (use_mem_rope) rotate q and k with
RoPE, at absolute positions counted by the KV cache.

With a KV window w, query position i sees key positions j with i - w < j <= i (sliding-window attention):
the result does not depend on how the sequence is cut into calls.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .rotary import Rotary
from .state import KVCache

# Scores of one query block are (b, h, block, t) floats; this many elements bounds that working set.
_SCORE_BUDGET = 1 << 24


class Attention(nn.Module):
    @staticmethod
    def init_state(cfg: ModelConfig, batch: int, device, dtype, kv_window: int | None = None) -> KVCache:
        """An empty KV cache: k, v (b, kh, 0, s), growing with the tokens (up to kv_window of them)."""
        return KVCache(batch, cfg.attention.num_kv_heads, cfg.attention.head_dim, dtype, device, kv_window)

    @staticmethod
    def state_bytes(cfg: ModelConfig, tokens: int, itemsize: int) -> dict[str, int]:
        """Bytes of the cache holding `tokens` positions (batch 1)."""
        return {"ssm": 0, "conv": 0, "kv": 2 * cfg.attention.num_kv_heads * cfg.attention.head_dim * tokens * itemsize}

    def __init__(self, cfg: ModelConfig, in_size: int | None = None):
        """in_size: width of the input when it is not hidden_size (Zamba2's shared blocks read 2 x hidden)."""
        super().__init__()
        self.h, self.kh, self.s = cfg.attention.num_heads, cfg.attention.num_kv_heads, cfg.attention.head_dim
        bias, d = cfg.attention.bias, in_size or cfg.hidden_size
        self.q_proj = nn.Linear(d, self.h * self.s, bias=bias)
        self.k_proj = nn.Linear(d, self.kh * self.s, bias=bias)
        self.v_proj = nn.Linear(d, self.kh * self.s, bias=bias)
        self.o_proj = nn.Linear(self.h * self.s, cfg.hidden_size, bias=bias)
        self.scale = cfg.attention.scale  # None: sdpa's 1 / sqrt(s)
        self.key_multiplier = cfg.multipliers.key
        self.rotary = None
        if cfg.attention.rope_theta is not None:
            self.rotary = Rotary(int(self.s * cfg.attention.partial_rotary_factor), cfg.attention.rope_theta)

    def forward(self, x: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """x (b, l, d) -> (b, l, d); appends l keys and values to `cache`."""
        return self.attend_projected(self.q_proj(x), self.k_proj(x), self.v_proj(x), cache)

    def attend_projected(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Projected q (b, l, h s), k and v (b, l, kh s) -> (b, l, d) (Zamba2 adds adapters before this)."""
        b, l, _ = q.shape
        q = q.view(b, l, self.h, self.s).transpose(1, 2)  # (b, h, l, s)
        k = k.view(b, l, self.kh, self.s).transpose(1, 2)  # (b, kh, l, s)
        v = v.view(b, l, self.kh, self.s).transpose(1, 2)
        if self.key_multiplier != 1.0:  # Falcon-H1, before the rotation as in the reference
            k = k * self.key_multiplier
        if self.rotary is not None:
            q, k = self.rotary(q, k, cache.position)
        past = cache.length
        cache.append(k, v)
        keys, values = cache.keys, cache.values  # (b, kh, t, s), t = past + l
        # grouped heads: sdpa's enable_gqa reads each kv head for its h / kh query heads, no repeated copy
        out = self._attend(q, keys, values, past, cache.window)  # (b, h, l, s)
        cache.apply_window()
        return self.o_proj(out.transpose(1, 2).reshape(b, l, self.h * self.s))

    def _attend(self, q, keys, values, past: int, window: int | None) -> torch.Tensor:
        l, t = q.shape[2], keys.shape[2]
        if past == 0 and (window is None or window >= l):
            # plain causal attention: the fused kernel never materialises the (l, t) scores
            return F.scaled_dot_product_attention(q, keys, values, is_causal=True, scale=self.scale,
                                                  enable_gqa=self.kh != self.h)
        block = max(1, _SCORE_BUDGET // max(1, q.shape[0] * q.shape[1] * t))
        outs = []
        key_pos = torch.arange(t, device=q.device)  # relative to the first cached key
        for start in range(0, l, block):
            stop = min(l, start + block)
            query_pos = torch.arange(past + start, past + stop, device=q.device)[:, None]  # (block, 1)
            allowed = key_pos[None, :] <= query_pos  # (block, t)
            if window is not None:
                allowed &= query_pos - key_pos[None, :] < window
            outs.append(F.scaled_dot_product_attention(q[:, :, start:stop], keys, values, attn_mask=allowed,
                                                       scale=self.scale, enable_gqa=self.kh != self.h))
        return torch.cat(outs, dim=2) if len(outs) > 1 else outs[0]
