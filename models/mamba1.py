"""The Mamba-1 mixer (Gu & Dao 2023, Alg. 2), as in Mamba, Falcon-Mamba and Jamba.

Dimension letters: b batch, l length, d hidden, e d_inner (= expand x d), n d_state, r dt rank, k conv width.

    x, z = in_proj(u)                      (b, l, e) each
    x = silu(causal_conv1d(x))             depthwise over l, state: the last k-1 inputs
    dt, B, C = x_proj(x)                   (b, l, r), (b, l, n), (b, l, n)   [+ RMSNorm each: Jamba, Falcon]
    dt = dt_proj(dt)                       (b, l, e); softplus(dt + bias) inside the scan
    y = selective_scan(x, dt, A, B, C, D) * silu(z)
    out = out_proj(y)

Parameter names and shapes are transformers' (conv1d.weight is (e, 1, k)), so the loader maps names only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ssmdoc.kernels import causal_conv1d, selective_scan, selective_state_update

from .config import ModelConfig
from .norms import RMSNorm, rms_normalize
from .state import SSM_DTYPE, SSM_STATE_BYTES, SSMState


class DepthwiseConv(nn.Module):
    """Holds a depthwise Conv1d's weight (channels, 1, k) and bias under transformers' names."""

    def __init__(self, channels: int, width: int, bias: bool):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels, 1, width))
        self.bias = nn.Parameter(torch.zeros(channels)) if bias else None

    def step(self, x: torch.Tensor, conv_state: torch.Tensor) -> torch.Tensor:
        """One token: x (b, c) -> silu(conv) (b, c); conv_state (b, c, k-1) rolls left by one in place."""
        window = torch.cat([conv_state, x[:, :, None].to(conv_state.dtype)], dim=-1)  # (b, c, k)
        conv_state.copy_(window[:, :, 1:])
        out = (window * self.weight[:, 0, :]).sum(-1)
        if self.bias is not None:
            out = out + self.bias
        return F.silu(out).to(x.dtype)

    def scan(self, x: torch.Tensor, conv_state: torch.Tensor) -> torch.Tensor:
        """A chunk: x (b, c, l) -> silu(conv) (b, c, l), continuing from and updating conv_state."""
        out, final = causal_conv1d(x, self.weight[:, 0, :], self.bias, initial_states=conv_state,
                                   return_final_states=True, activation="silu")
        conv_state.copy_(final)
        return out


class Mamba1Mixer(nn.Module):
    @staticmethod
    def init_state(cfg: ModelConfig, batch: int, device, dtype, kv_window: int | None = None) -> SSMState:
        """conv (b, e, k-1) in the weights' dtype; ssm (b, e, n) float32."""
        e = cfg.ssm.inner_size
        return SSMState(conv=torch.zeros(batch, e, cfg.ssm.conv_kernel - 1, dtype=dtype, device=device),
                        ssm=torch.zeros(batch, e, cfg.ssm.state_size, dtype=SSM_DTYPE, device=device))

    @staticmethod
    def state_bytes(cfg: ModelConfig, tokens: int, itemsize: int) -> dict[str, int]:
        """Bytes of init_state(batch=1): the same after any number of tokens."""
        return {"ssm": cfg.ssm.inner_size * cfg.ssm.state_size * SSM_STATE_BYTES,
                "conv": cfg.ssm.inner_size * (cfg.ssm.conv_kernel - 1) * itemsize, "kv": 0}

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d, e, n, r = cfg.hidden_size, cfg.ssm.inner_size, cfg.ssm.state_size, cfg.ssm.time_step_rank
        self.e, self.n, self.r = e, n, r
        self.in_proj = nn.Linear(d, 2 * e, bias=cfg.ssm.proj_bias)
        self.conv1d = DepthwiseConv(e, cfg.ssm.conv_kernel, cfg.ssm.conv_bias)
        self.x_proj = nn.Linear(e, r + 2 * n, bias=False)
        self.dt_proj = nn.Linear(r, e, bias=True)
        self.A_log = nn.Parameter(torch.zeros(e, n))
        self.D = nn.Parameter(torch.zeros(e))
        self.out_proj = nn.Linear(e, d, bias=cfg.ssm.proj_bias)
        self.bcdt_norm, self.bcdt_eps = cfg.ssm.bcdt_norm, cfg.ssm.bcdt_norm_eps
        if self.bcdt_norm == "learned":  # Jamba
            self.dt_layernorm = RMSNorm(r, self.bcdt_eps)
            self.b_layernorm = RMSNorm(n, self.bcdt_eps)
            self.c_layernorm = RMSNorm(n, self.bcdt_eps)

    def _dt_b_c(self, x: torch.Tensor):
        """x (..., e) -> dt (..., r), B (..., n), C (..., n), normalised where the architecture says so."""
        dt, B, C = self.x_proj(x).split([self.r, self.n, self.n], dim=-1)
        if self.bcdt_norm == "learned":
            dt, B, C = self.dt_layernorm(dt), self.b_layernorm(B), self.c_layernorm(C)
        elif self.bcdt_norm == "weightless":  # Falcon-Mamba: no weights, fixed eps
            dt, B, C = (rms_normalize(t, self.bcdt_eps).to(t.dtype) for t in (dt, B, C))
        return dt, B, C

    def forward(self, u: torch.Tensor, state: SSMState) -> torch.Tensor:
        """u (b, l, d) -> (b, l, d), advancing `state` by l tokens."""
        if u.shape[1] == 1:
            return self._decode(u, state)
        A = -torch.exp(self.A_log.float())  # (e, n)
        x, z = self.in_proj(u).transpose(1, 2).chunk(2, dim=1)  # (b, e, l) each
        x = self.conv1d.scan(x, state.conv)
        dt, B, C = self._dt_b_c(x.transpose(1, 2))  # (b, l, r), (b, l, n), (b, l, n)
        dt = self.dt_proj.weight @ dt.transpose(1, 2)  # (b, e, l); its bias goes in as delta_bias
        y, last = selective_scan(
            x, dt, A, B.transpose(1, 2), C.transpose(1, 2), D=self.D.float(), z=z,
            delta_bias=self.dt_proj.bias.float(), delta_softplus=True,
            initial_state=state.ssm, return_last_state=True,
        )  # y (b, e, l), last (b, e, n)
        state.ssm.copy_(last)
        return self.out_proj(y.transpose(1, 2).to(u.dtype))

    def _decode(self, u: torch.Tensor, state: SSMState) -> torch.Tensor:
        """The recurrent form for one token: u (b, 1, d) -> (b, 1, d)."""
        A = -torch.exp(self.A_log.float())
        x, z = self.in_proj(u[:, 0]).chunk(2, dim=-1)  # (b, e) each
        x = self.conv1d.step(x, state.conv)
        dt, B, C = self._dt_b_c(x)
        dt = dt @ self.dt_proj.weight.t()  # (b, e)
        y = selective_state_update(state.ssm, x, dt, A, B, C, D=self.D.float(), z=z,
                                   dt_bias=self.dt_proj.bias.float(), dt_softplus=True)  # (b, e)
        return self.out_proj(y.to(u.dtype))[:, None]
