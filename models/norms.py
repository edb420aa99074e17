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
    def __init__(self, size: int, eps: float, fp32_weight: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps
        self.fp32_weight = fp32_weight  # Nemotron-H multiplies by the weight in float32, then casts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fp32_weight:
            return (self.weight.float() * rms_normalize(x, self.eps)).to(x.dtype)
        # NOTE: cast before the weight multiply, like the reference; the product then has the weight's dtype
        return self.weight * rms_normalize(x, self.eps).to(x.dtype)


class GatedRMSNorm(nn.Module):
    """Mamba-2's output norm: rmsnorm(y * silu(z)) over groups of `group_size` channels (norm after gate);
    with norm_first, rmsnorm(y) * silu(z) (Falcon-H1's default mamba_norm_before_gate)."""

    def __init__(self, size: int, group_size: int, eps: float, norm_first: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.group_size = group_size
        self.eps = eps
        self.norm_first = norm_first

    def forward(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        gated = y.float() if self.norm_first else y.float() * F.silu(z.float())
        *lead, width = gated.shape
        grouped = gated.view(*lead, width // self.group_size, self.group_size)  # (..., groups, group_size)
        normed = rms_normalize(grouped, self.eps).view(*lead, width)
        if self.norm_first:  # the reference keeps float32 through the weight and the gate, then casts
            return (self.weight.float() * normed * F.silu(z.float())).to(y.dtype)
        return self.weight * normed.to(y.dtype)


class Gate(nn.Module):
    """y * silu(z) without a norm (Falcon-H1 with mamba_rms_norm off)."""

    def forward(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return (y.float() * F.silu(z.float())).to(y.dtype)
