"""Falcon-H1's layer mixer: attention and Mamba-2 side by side on the same normalised input.

    out = ssm_out_mult x mamba(u) + attn_out_mult x attention(attn_in_mult x u)

Its Mamba-2 differs from the plain one only in muP scalings around in_proj, as in transformers'
FalconH1Mixer:
    zxbcdt = in_proj(ssm_in_mult x u) * mup         mup: one multiplier per slice z | x | B | C | dt
The output norm (mamba_rms_norm, mamba_norm_before_gate) and the separate out_proj bias (projectors_bias)
are config fields the plain Mamba2Mixer already reads.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .attention import Attention
from .config import ModelConfig
from .mamba2 import Mamba2Mixer
from .state import HybridLayerState, add_bytes


class MupInProj(nn.Linear):
    """in_proj with Falcon-H1's input multiplier and per-slice output multipliers (weight names unchanged)."""

    def __init__(self, cfg: ModelConfig, in_features: int, out_features: int):
        super().__init__(in_features, out_features, bias=cfg.ssm.proj_bias)
        e, gn, h = cfg.ssm.inner_size, cfg.ssm.n_groups * cfg.ssm.state_size, cfg.ssm.num_heads
        self.sizes = [e, e, gn, gn, h]  # z, x, B, C, dt
        self.multipliers = [float(m) for m in cfg.multipliers.ssm]
        assert sum(self.sizes) == out_features and len(self.multipliers) == 5
        self.register_buffer("mup", torch.empty(out_features), persistent=False)
        self.reset_buffers()
        self.in_multiplier = cfg.multipliers.ssm_in

    def reset_buffers(self) -> None:
        """Fill the muP vector in the weights' dtype (the reference's buffer follows the model's dtype);
        the loader calls this after materialising a meta-device model."""
        mup = torch.cat([torch.full((n,), m) for n, m in zip(self.sizes, self.multipliers)])
        self.mup = mup.to(self.weight.device, self.weight.dtype)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return F.linear(u * self.in_multiplier, self.weight, self.bias) * self.mup


class FalconH1Mamba(Mamba2Mixer):
    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.in_proj = MupInProj(cfg, self.in_proj.in_features, self.in_proj.out_features)


class ParallelMixer(nn.Module):
    """Falcon-H1: attention and Mamba-2 side by side on the same input. State: HybridLayerState."""

    @staticmethod
    def init_state(cfg: ModelConfig, batch: int, device, dtype, kv_window: int | None = None) -> HybridLayerState:
        return HybridLayerState(Mamba2Mixer.init_state(cfg, batch, device, dtype),
                                Attention.init_state(cfg, batch, device, dtype, kv_window))

    @staticmethod
    def state_bytes(cfg: ModelConfig, tokens: int, itemsize: int) -> dict[str, int]:
        return add_bytes(Mamba2Mixer.state_bytes(cfg, tokens, itemsize), Attention.state_bytes(cfg, tokens, itemsize))

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.mamba = FalconH1Mamba(cfg)
        self.self_attn = Attention(cfg)
        self.attn_in, self.attn_out = cfg.multipliers.attention_in, cfg.multipliers.attention_out
        self.ssm_out = cfg.multipliers.ssm_out

    def forward(self, u: torch.Tensor, state: HybridLayerState) -> torch.Tensor:
        """u (b, l, d) -> (b, l, d); advances both the SSM state and the KV cache by l tokens."""
        ssm = self.mamba(u, state.ssm) * self.ssm_out
        attn = self.self_attn(u * self.attn_in, state.kv) * self.attn_out
        return ssm + attn
