"""Grouped-query causal self-attention with a KV cache (Jamba's attention layers).

Dimension letters: b batch, l new tokens, t cached + new tokens, h query heads, kh key/value heads, s head_dim.

Jamba uses no positional encoding in its attention layers (its Mamba layers carry position), so none is
applied here; a rotary family (issue 7) adds it where q and k are formed.

With a KV window w, query position i sees key positions j with i - w < j <= i (sliding-window attention):
the result does not depend on how the sequence is cut into calls.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .state import KVCache

# Scores of one query block are (b, h, block, t) floats; this many elements bounds that working set.
_SCORE_BUDGET = 1 << 24


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.h, self.kh, self.s = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        bias = cfg.attention_bias
        self.q_proj = nn.Linear(cfg.hidden_size, self.h * self.s, bias=bias)
        self.k_proj = nn.Linear(cfg.hidden_size, self.kh * self.s, bias=bias)
        self.v_proj = nn.Linear(cfg.hidden_size, self.kh * self.s, bias=bias)
        self.o_proj = nn.Linear(self.h * self.s, cfg.hidden_size, bias=bias)

    def forward(self, x: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """x (b, l, d) -> (b, l, d); appends l keys and values to `cache`."""
        b, l, _ = x.shape
        q = self.q_proj(x).view(b, l, self.h, self.s).transpose(1, 2)  # (b, h, l, s)
        k = self.k_proj(x).view(b, l, self.kh, self.s).transpose(1, 2)  # (b, kh, l, s)
        v = self.v_proj(x).view(b, l, self.kh, self.s).transpose(1, 2)
        past = cache.length
        cache.append(k, v)
        keys, values = cache.keys, cache.values  # (b, kh, t, s), t = past + l
        if self.kh != self.h:
            keys = keys.repeat_interleave(self.h // self.kh, dim=1)  # (b, h, t, s)
            values = values.repeat_interleave(self.h // self.kh, dim=1)
        out = self._attend(q, keys, values, past, cache.window)  # (b, h, l, s)
        cache.apply_window()
        return self.o_proj(out.transpose(1, 2).reshape(b, l, self.h * self.s))

    def _attend(self, q, keys, values, past: int, window: int | None) -> torch.Tensor:
        l, t = q.shape[2], keys.shape[2]
        if past == 0 and (window is None or window >= l):
            # plain causal attention: the fused kernel never materialises the (l, t) scores
            return F.scaled_dot_product_attention(q, keys, values, is_causal=True)
        block = max(1, _SCORE_BUDGET // max(1, q.shape[0] * q.shape[1] * t))
        outs = []
        key_pos = torch.arange(t, device=q.device)  # relative to the first cached key
        for start in range(0, l, block):
            stop = min(l, start + block)
            query_pos = torch.arange(past + start, past + stop, device=q.device)[:, None]  # (block, 1)
            allowed = key_pos[None, :] <= query_pos  # (block, t)
            if window is not None:
                allowed &= query_pos - key_pos[None, :] < window
            outs.append(F.scaled_dot_product_attention(q[:, :, start:stop], keys, values, attn_mask=allowed))
        return torch.cat(outs, dim=2) if len(outs) > 1 else outs[0]
