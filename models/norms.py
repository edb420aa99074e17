"""RMS normalisations, computed in float32 and cast back, as in transformers' *RMSNorm classes."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def rms_normalize(x: torch.Tensor, eps: float) -> torch.Tensor:
    """x / rms(x) over the last dimension, in float32 (no weight: Falcon-Mamba's dt/B/C norms)."""
    x32 = x.float()
    return x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # NOTE: cast before the weight multiply, like the reference; the product then has the weight's dtype
        return self.weight * rms_normalize(x, self.eps).to(x.dtype)


class GatedRMSNorm(nn.Module):
    """Mamba-2's output norm: rmsnorm(y * silu(z)) over groups of `group_size` channels (norm after gate)."""

    def __init__(self, size: int, group_size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.group_size = group_size
        self.eps = eps

    def forward(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        gated = y.float() * F.silu(z.float())
        *lead, width = gated.shape
        grouped = gated.view(*lead, width // self.group_size, self.group_size)  # (..., groups, group_size)
        normed = rms_normalize(grouped, self.eps).view(*lead, width)
        return self.weight * normed.to(y.dtype)
