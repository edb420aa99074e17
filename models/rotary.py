"""Rotary position embedding (Su et al. 2021) in the "rotate half" layout of transformers' Llama family.

Dimension letters: b batch, h heads, l new tokens, s head_dim, r rotary dims (r <= s; partial rotary keeps
the last s - r dims of every head unrotated, as Bamba does with partial_rotary_factor 0.5).

Positions are absolute: the first new token sits at `start` = tokens the KV cache has ever seen (not the
ones it still holds when a window drops old keys), so keys are rotated once, when they are cached.
Only rope_type "default" (no frequency scaling) is implemented; the config parser refuses the others.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Rotary(nn.Module):
    def __init__(self, rotary_dim: int, theta: float):
        super().__init__()
        assert rotary_dim % 2 == 0, rotary_dim
        self.rotary_dim, self.theta = rotary_dim, theta
        self.register_buffer("inv_freq", torch.empty(rotary_dim // 2), persistent=False)
        self.reset_buffers()

    def reset_buffers(self) -> None:
        """(Re)compute inv_freq, in float32 whatever the model's dtype, as transformers does: 1 / theta^(2i/r).
        The loader calls this after materialising a meta-device model (to_empty leaves buffers undefined)."""
        r = self.rotary_dim
        inv_freq = 1.0 / (self.theta ** (torch.arange(0, r, 2, dtype=torch.float, device="cpu") / r))
        self.inv_freq = inv_freq.to(self.inv_freq.device)

    def forward(self, q: torch.Tensor, k: torch.Tensor, start: int) -> tuple[torch.Tensor, torch.Tensor]:
        """q (b, h, l, s), k (b, kh, l, s) -> both rotated for positions start .. start + l - 1."""
        l = q.shape[2]
        # Angles in float64, reduced modulo 2 pi before the float32 cos/sin: in float32, pos x freq near
        # position 1e7 has a spacing of 1 rad, so neighbours lose their order (0.25 rad at 10M tokens, an
        # endless `watch`). The frequencies stay transformers' float32 values; at short positions the angles
        # equal the reference's to float32 rounding.
        pos = torch.arange(start, start + l, device=q.device, dtype=torch.float64)
        freqs = pos[:, None] * self.inv_freq.to(q.device, torch.float64)[None, :]  # (l, r/2)
        freqs = torch.remainder(freqs, 2 * math.pi)
        emb = torch.cat((freqs, freqs), dim=-1).float()  # (l, r)
        cos, sin = emb.cos().to(q.dtype), emb.sin().to(q.dtype)  # cast like the reference before the products
        return self._rotate(q, cos, sin), self._rotate(k, cos, sin)

    def _rotate(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        r = self.rotary_dim
        x_rot, x_pass = x[..., :r], x[..., r:]
        half = r // 2
        rotated = torch.cat((-x_rot[..., half:], x_rot[..., :half]), dim=-1)
        out = x_rot * cos + rotated * sin
        return torch.cat((out, x_pass), dim=-1) if x_pass.shape[-1] else out
