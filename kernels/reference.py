"""Slow, obviously-correct twins of every op: a sequential loop over time in float64.

They exist only to hold the fast paths (torch and Triton) to account in tests; never call them on real inputs.
Each follows the recurrence exactly as written in the Mamba papers, one token at a time:

    h_t = exp(delta_t * A) * h_{t-1} + delta_t * B_t * u_t        y_t = <C_t, h_t> + D * u_t
    out_t = y_t * silu(z_t)                                         (when z is given)

Outputs are returned in float64 (the caller compares against them); states too.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

F64 = torch.float64


def _expand_groups(M: torch.Tensor, dim: int) -> torch.Tensor:
    """(b, n, L) or (b, g, n, L) -> (b, dim, n, L): channel d reads group d // (dim // g)."""
    if M.dim() == 3:
        return M[:, None].expand(M.shape[0], dim, *M.shape[1:])
    return M.repeat_interleave(dim // M.shape[1], dim=1)


def selective_scan_ref(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                       initial_state=None, return_last_state=False):
    """Mamba-1 scan. u, delta, z: (b, d, L); A: (d, n); B, C: (b, n, L) or (b, g, n, L)."""
    u, delta, A = u.to(F64), delta.to(F64), A.to(F64)
    b, d, L = u.shape
    Bx, Cx = _expand_groups(B.to(F64), d), _expand_groups(C.to(F64), d)  # (b, d, n, L)
    if delta_bias is not None:
        delta = delta + delta_bias.to(F64)[:, None]
    if delta_softplus:
        delta = F.softplus(delta)
    h = torch.zeros(b, d, A.shape[1], dtype=F64) if initial_state is None else initial_state.to(F64).clone()
    ys = []
    for t in range(L):
        dt = delta[:, :, t, None]  # (b, d, 1)
        h = torch.exp(dt * A) * h + dt * Bx[..., t] * u[:, :, t, None]
        ys.append((h * Cx[..., t]).sum(-1))
    y = torch.stack(ys, dim=-1) if ys else u.new_zeros(b, d, 0)
    if D is not None:
        y = y + D.to(F64)[:, None] * u
    if z is not None:
        y = y * F.silu(z.to(F64))
    return (y, h) if return_last_state else y


def ssd_scan_ref(x, dt, A, B, C, chunk_size=None, D=None, z=None, dt_bias=None, initial_states=None,
                 dt_softplus=False, dt_limit=(0.0, float("inf")), return_final_states=False):
    """Mamba-2 scan. x, z: (b, L, h, p); dt: (b, L, h); A: (h,); B, C: (b, L, g, n). chunk_size is ignored."""
    x, dt, A = x.to(F64), dt.to(F64), A.to(F64)
    b, L, nh, p = x.shape
    rep = nh // B.shape[2]
    Bx = B.to(F64).repeat_interleave(rep, dim=2)  # (b, L, h, n)
    Cx = C.to(F64).repeat_interleave(rep, dim=2)
    if dt_bias is not None:
        dt = dt + dt_bias.to(F64)
    if dt_softplus:
        dt = F.softplus(dt)
    if tuple(dt_limit) != (0.0, float("inf")):
        dt = dt.clamp(dt_limit[0], dt_limit[1])
    n = B.shape[-1]
    h = torch.zeros(b, nh, p, n, dtype=F64) if initial_states is None else initial_states.to(F64).clone()
    ys = []
    for t in range(L):
        a = torch.exp(dt[:, t] * A)[:, :, None, None]  # (b, h, 1, 1)
        h = a * h + (dt[:, t, :, None] * x[:, t])[..., None] * Bx[:, t, :, None, :]
        ys.append((h * Cx[:, t, :, None, :]).sum(-1))  # (b, h, p)
    y = torch.stack(ys, dim=1) if ys else x.new_zeros(b, 0, nh, p)
    if D is not None:
        Dx = D.to(F64)
        y = y + (Dx[:, None] if Dx.dim() == 1 else Dx) * x
    if z is not None:
        y = y * F.silu(z.to(F64))
    return (y, h) if return_final_states else y


def causal_conv1d_ref(x, weight, bias=None, initial_states=None, return_final_states=False, activation=None):
    """Depthwise causal conv. x: (b, d, L); weight: (d, w); states: (b, d, w-1), the inputs before x."""
    x, weight = x.to(F64), weight.to(F64)
    b, d, L = x.shape
    w = weight.shape[1]
    prev = torch.zeros(b, d, w - 1, dtype=F64) if initial_states is None else initial_states.to(F64)
    xp = torch.cat([prev, x], dim=-1)  # (b, d, w-1+L)
    y = torch.zeros(b, d, L, dtype=F64)
    for t in range(L):
        y[..., t] = (xp[..., t:t + w] * weight).sum(-1)
    if bias is not None:
        y = y + bias.to(F64)[:, None]
    if activation == "silu":
        y = F.silu(y)
    return (y, xp[..., xp.shape[-1] - (w - 1):]) if return_final_states else y


def selective_state_update_ref(state, x, dt, A, B, C, D=None, z=None, dt_bias=None, dt_softplus=False):
    """One decode step; returns (y, new_state) in float64 and leaves `state` untouched.

    Mamba-1 shapes: state (b, d, n), x/dt/z (b, d), A (d, n), B/C (b, n) or grouped (b, g, n).
    Mamba-2 shapes: state (b, h, p, n), x/z (b, h, p), dt (b, h), A (h,), B/C (b, g, n).
    """
    s, x, dt, A = state.to(F64), x.to(F64), dt.to(F64), A.to(F64)
    if dt_bias is not None:
        dt = dt + dt_bias.to(F64)
    if dt_softplus:
        dt = F.softplus(dt)
    if s.dim() == 3:
        # (b, n) shared by all channels, or grouped (b, g, n): channel i reads group i // (d // g)
        Bx, Cx = [M.to(F64)[:, None] if M.dim() == 2 else M.to(F64).repeat_interleave(s.shape[1] // M.shape[1], 1)
                  for M in (B, C)]  # (b, 1 or d, n)
        dA = torch.exp(dt[..., None] * A)  # (b, d, n)
        s = dA * s + (dt * x)[..., None] * Bx
        y = (s * Cx).sum(-1)
    else:
        rep = s.shape[1] // B.shape[1]
        Bx = B.to(F64).repeat_interleave(rep, dim=1)[:, :, None]  # (b, h, 1, n)
        Cx = C.to(F64).repeat_interleave(rep, dim=1)[:, :, None]
        dA = torch.exp(dt * A)[..., None, None]  # (b, h, 1, 1)
        s = dA * s + (dt[..., None] * x)[..., None] * Bx
        y = (s * Cx).sum(-1)
    if D is not None:
        Dx = D.to(F64)
        y = y + (Dx[..., None] if (s.dim() == 4 and Dx.dim() == 1) else Dx) * x
    if z is not None:
        y = y * F.silu(z.to(F64))
    return y, s
