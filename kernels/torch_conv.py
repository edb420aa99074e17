"""Causal depthwise conv1d and the one-token SSM state update, on plain torch ops.

Dimension letters: b batch, d channels, L length, w conv width, n state size, h heads, p head_dim, g groups.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def causal_conv1d_torch(x, weight, bias=None, initial_states=None, return_final_states=False, activation=None):
    """Same contract as `ssmdoc.kernels.causal_conv1d`: x (b, d, L), weight (d, w), states (b, d, w-1)."""
    b, d, L = x.shape
    w = weight.shape[1]
    f32 = torch.float32
    prev = (x.new_zeros(b, d, w - 1, dtype=f32) if initial_states is None else initial_states.to(f32))
    xp = torch.cat([prev, x.to(f32)], dim=-1)  # (b, d, w-1+L): the w-1 inputs before x come first
    wf = weight.to(f32)
    if w <= 8:  # a few shifted multiply-adds: several times faster on CPU than a depthwise F.conv1d
        y = xp[..., w - 1:] * wf[:, w - 1:w]  # (b, d, L)
        for k in range(w - 1):
            y.addcmul_(xp[..., k:k + L], wf[:, k:k + 1])
        if bias is not None:
            y += bias.to(f32)[:, None]
    else:
        y = F.conv1d(xp, wf[:, None, :], None if bias is None else bias.to(f32), groups=d)  # (b, d, L)
    if activation == "silu":
        y = F.silu(y)
    y = y.to(x.dtype)
    if not return_final_states:
        return y
    dtype = x.dtype if initial_states is None else initial_states.dtype
    return y, xp[..., xp.shape[-1] - (w - 1):].to(dtype).contiguous()


def selective_state_update_torch(state, x, dt, A, B, C, D=None, z=None, dt_bias=None, dt_softplus=False):
    """Same contract as `ssmdoc.kernels.selective_state_update`: advances `state` in place, returns y."""
    f32 = torch.float32
    dt = dt.to(f32)
    if dt_bias is not None:
        dt = dt + dt_bias.to(f32)
    if dt_softplus:
        dt = F.softplus(dt)
    xf = x.to(f32)
    s = state.to(f32)
    if state.dim() == 3:  # Mamba-1: state (b, d, n), x/dt (b, d), A (d, n), B/C (b, n) or (b, g, n)
        b, d, n = state.shape
        Bg = (B if B.dim() == 3 else B[:, None]).to(f32)  # (b, g, n)
        Cg = (C if C.dim() == 3 else C[:, None]).to(f32)
        g = Bg.shape[1]
        s = s.view(b, g, d // g, n)
        dA = torch.exp(dt[..., None] * A.to(f32)).view(b, g, d // g, n)
        s = dA * s + (dt * xf).view(b, g, d // g, 1) * Bg[:, :, None]
        y = (s * Cg[:, :, None]).sum(-1).view(b, d)
        s = s.view(b, d, n)
        Dx = None if D is None else D.to(f32)
    else:  # Mamba-2: state (b, h, p, n), x (b, h, p), dt (b, h), A (h,), B/C (b, g, n)
        b, h, p, n = state.shape
        g = B.shape[1]
        s = s.view(b, g, h // g, p, n)
        dA = torch.exp(dt * A.to(f32)).view(b, g, h // g, 1, 1)
        dBx = (dt[..., None] * xf).view(b, g, h // g, p, 1) * B.to(f32)[:, :, None, None]
        s = dA * s + dBx
        y = (s * C.to(f32)[:, :, None, None]).sum(-1).view(b, h, p)
        s = s.view(b, h, p, n)
        Dx = None if D is None else (D.to(f32)[:, None] if D.dim() == 1 else D.to(f32))
    if Dx is not None:
        y = y + Dx * xf
    if z is not None:
        y = y * F.silu(z.to(f32))
    state.copy_(s)
    return y.to(x.dtype)
