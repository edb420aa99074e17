"""The Mamba-2 mixer (Dao & Gu 2024, SSD), as in transformers' Mamba2Mixer.

Dimension letters: b batch, l length, d hidden, e d_inner, h heads, p head_dim (h x p = e), g groups,
n d_state, k conv width; conv_dim = e + 2 g n.

    z, xBC, dt = in_proj(u)                (b, l, e), (b, l, conv_dim), (b, l, h)
    xBC = silu(causal_conv1d(xBC))         x, B and C share one depthwise conv
    x, B, C = split(xBC)                   (b, l, h, p), (b, l, g, n), (b, l, g, n)
    y = ssd_scan(x, dt, A, B, C, D)        softplus(dt + dt_bias), clamped to time_step_limit
    out = out_proj(gated_rmsnorm(y, z))    norm over groups of e / g channels, after the gate
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ssmdoc.kernels import selective_state_update, ssd_scan

from .config import ModelConfig
from .mamba1 import DepthwiseConv
from .norms import Gate, GatedRMSNorm
from .state import SSM_DTYPE, SSM_STATE_BYTES, SSMState


def _conv_dim(cfg: ModelConfig) -> int:
    return cfg.ssm.inner_size + 2 * cfg.ssm.n_groups * cfg.ssm.state_size  # x, B and C share the conv


class Mamba2Mixer(nn.Module):
    @staticmethod
    def init_state(cfg: ModelConfig, batch: int, device, dtype, kv_window: int | None = None) -> SSMState:
        """conv (b, conv_dim, k-1) in the weights' dtype; ssm (b, h, p, n) float32."""
        return SSMState(
            conv=torch.zeros(batch, _conv_dim(cfg), cfg.ssm.conv_kernel - 1, dtype=dtype, device=device),
            ssm=torch.zeros(batch, cfg.ssm.num_heads, cfg.ssm.head_dim, cfg.ssm.state_size, dtype=SSM_DTYPE,
                            device=device),
        )

    @staticmethod
    def state_bytes(cfg: ModelConfig, tokens: int, itemsize: int) -> dict[str, int]:
        """Bytes of init_state(batch=1): the same after any number of tokens."""
        return {"ssm": cfg.ssm.num_heads * cfg.ssm.head_dim * cfg.ssm.state_size * SSM_STATE_BYTES,
                "conv": _conv_dim(cfg) * (cfg.ssm.conv_kernel - 1) * itemsize, "kv": 0}

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d, e, n = cfg.hidden_size, cfg.ssm.inner_size, cfg.ssm.state_size
        self.e, self.n, self.h, self.p, self.g = e, n, cfg.ssm.num_heads, cfg.ssm.head_dim, cfg.ssm.n_groups
        self.conv_dim = _conv_dim(cfg)
        self.chunk_size = cfg.ssm.chunk_size
        self.dt_limit = tuple(cfg.ssm.time_step_limit)
        self.in_proj = nn.Linear(d, e + self.conv_dim + self.h, bias=cfg.ssm.proj_bias)
        self.conv1d = DepthwiseConv(self.conv_dim, cfg.ssm.conv_kernel, cfg.ssm.conv_bias)
        self.dt_bias = nn.Parameter(torch.zeros(self.h))
        self.A_log = nn.Parameter(torch.zeros(self.h))
        self.D = nn.Parameter(torch.zeros(self.h))
        if cfg.ssm.norm == "none":
            self.norm = Gate()
        else:
            self.norm = GatedRMSNorm(e, cfg.ssm.norm_group_size or e, cfg.ssm.norm_eps or cfg.norm_eps,
                                     norm_first=cfg.ssm.norm == "gated_norm_first")
        out_bias = cfg.ssm.proj_bias if cfg.ssm.out_proj_bias is None else cfg.ssm.out_proj_bias
        self.out_proj = nn.Linear(e, d, bias=out_bias)

    def forward(self, u: torch.Tensor, state: SSMState) -> torch.Tensor:
        """u (b, l, d) -> (b, l, d), advancing `state` by l tokens."""
        b, l, _ = u.shape
        if l == 1:
            return self._decode(u, state)
        A = -torch.exp(self.A_log.float())  # (h,)
        z, xBC, dt = self.in_proj(u).split([self.e, self.conv_dim, self.h], dim=-1)
        xBC = self.conv1d.scan(xBC.transpose(1, 2), state.conv).transpose(1, 2)  # (b, l, conv_dim)
        x, B, C = xBC.split([self.e, self.g * self.n, self.g * self.n], dim=-1)
        y, final = ssd_scan(
            x.reshape(b, l, self.h, self.p), dt, A,
            B.reshape(b, l, self.g, self.n), C.reshape(b, l, self.g, self.n), self.chunk_size,
            D=self.D, dt_bias=self.dt_bias, initial_states=state.ssm, dt_softplus=True,
            dt_limit=self.dt_limit, return_final_states=True,
        )  # y (b, l, h, p), final (b, h, p, n)
        state.ssm.copy_(final)
        return self.out_proj(self.norm(y.reshape(b, l, self.e), z).to(u.dtype))

    def _decode(self, u: torch.Tensor, state: SSMState) -> torch.Tensor:
        """The recurrent form for one token: u (b, 1, d) -> (b, 1, d)."""
        b = u.shape[0]
        A = -torch.exp(self.A_log.float())
        z, xBC, dt = self.in_proj(u[:, 0]).split([self.e, self.conv_dim, self.h], dim=-1)
        xBC = self.conv1d.step(xBC, state.conv)  # (b, conv_dim)
        x, B, C = xBC.split([self.e, self.g * self.n, self.g * self.n], dim=-1)
        dt_bias, softplus = self.dt_bias, True
        if self.dt_limit != (0.0, math.inf):
            # NOTE: transformers and mamba-ssm skip the clamp when decoding; we apply it so that a sequence
            # gives the same result however it is cut into chunks.
            dt = F.softplus(dt.float() + self.dt_bias.float()).clamp(*self.dt_limit)
            dt_bias, softplus = None, False
        y = selective_state_update(
            state.ssm, x.reshape(b, self.h, self.p), dt, A,
            B.reshape(b, self.g, self.n), C.reshape(b, self.g, self.n),
            D=self.D, dt_bias=dt_bias, dt_softplus=softplus,
        )  # (b, h, p)
        return self.out_proj(self.norm(y.reshape(b, 1, self.e), z[:, None]).to(u.dtype))
