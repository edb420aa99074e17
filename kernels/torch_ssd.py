"""Mamba-2 SSD scan on plain torch ops (Dao & Gu 2024, "Transformers are SSMs", the chunked algorithm).

Dimension letters: b batch, L length, h heads, p head_dim, g groups of B/C, r = h // g heads per group,
n state size, Q chunk length (t indexes the output position in a chunk, s the input position).

In SSD the decay is one scalar per head and step, a_t = dt_t * A, so inside a chunk the whole map from inputs
to outputs is a (Q, Q) matrix per head, (C_t . B_s) * exp(a_{s+1} + ... + a_t) * dt_s for s <= t, and the chunk
is two matmuls. Chunks are chained by the state (b, h, p, n) in a loop over chunks, so memory is O(chunk).
The segment sums are differences of a cumulative sum taken in float64: the difference of two large float32
sums would lose the small decays that matter most (the ones between nearby tokens).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._buffers import new_output


def prepare_dt(dt, dt_bias, dt_softplus, dt_limit):
    """dt (+ bias, softplus, clamp) in float32, as the reference kernels do before the scan."""
    dt = dt.to(torch.float32)
    if dt_bias is not None:
        dt = dt + dt_bias.to(torch.float32)
    if dt_softplus:
        dt = F.softplus(dt)
    if tuple(dt_limit) != (0.0, float("inf")):
        dt = dt.clamp(dt_limit[0], dt_limit[1])
    return dt


def ssd_scan_torch(x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None,
                   dt_softplus=False, dt_limit=(0.0, float("inf")), return_final_states=False):
    """Same contract as `ssmdoc.kernels.ssd_scan`; state and arithmetic in float32."""
    b, L, h, p = x.shape
    g, n = B.shape[2], B.shape[3]
    r = h // g
    f32 = torch.float32
    dt = prepare_dt(dt, dt_bias, dt_softplus, dt_limit)  # (b, L, h)
    Af = A.to(f32)
    state = (torch.zeros(b, g, r, p, n, dtype=f32, device=x.device) if initial_states is None
             else initial_states.to(f32).reshape(b, g, r, p, n).clone())
    y = new_output(b, L, h, p, dtype=f32, device=x.device)
    Q = max(1, int(chunk_size))
    for t0 in range(0, L, Q):
        t1 = min(t0 + Q, L)
        state = _chunk(x[:, t0:t1], dt[:, t0:t1], Af, B[:, t0:t1], C[:, t0:t1], state, y[:, t0:t1])
    if D is not None:
        Df = D.to(f32)
        y = y + (Df[:, None] if Df.dim() == 1 else Df) * x.to(f32)
    if z is not None:
        y = y * F.silu(z.to(f32))
    y = y.to(x.dtype)
    state = state.reshape(b, h, p, n)
    return (y, state) if return_final_states else y


def _chunk(x, dt, A, B, C, state, y_out):
    """One chunk: x (b, Q, h, p), dt (b, Q, h), B/C (b, Q, g, n), state (b, g, r, p, n) -> new state."""
    b, Q, h, p = x.shape
    g, r, n = state.shape[1], state.shape[2], state.shape[4]
    f32 = torch.float32
    xs = x.to(f32).view(b, Q, g, r, p).permute(0, 2, 3, 1, 4)  # (b, g, r, Q, p)
    dts = dt.view(b, Q, g, r).permute(0, 2, 3, 1)  # (b, g, r, Q)
    Bs = B.to(f32).permute(0, 2, 1, 3)  # (b, g, Q, n)
    Cs = C.to(f32).permute(0, 2, 1, 3)
    acum = (dts.double() * A.view(g, r, 1).double()).cumsum(-1)  # (b, g, r, Q): log-decay since chunk start
    # decay from s to t (s <= t), exp(acum_t - acum_s); -inf above the diagonal gives exact zeros
    seg = (acum[..., :, None] - acum[..., None, :]).to(f32)  # (b, g, r, Q, Q)
    causal = torch.ones(Q, Q, dtype=torch.bool, device=x.device).tril()
    decay = seg.masked_fill_(~causal, float("-inf")).exp_()
    CB = Cs @ Bs.transpose(-1, -2)  # (b, g, Q, Q): C_t . B_s, shared by the r heads of a group
    M = decay.mul_(CB[:, :, None]).mul_(dts[..., None, :])  # (b, g, r, Q, Q)
    y = M @ xs  # (b, g, r, Q, p): inputs of this chunk
    # the carried state, decayed to each t: exp(acum_t) * C_t . state
    y += (Cs[:, :, None] @ state.transpose(-1, -2)) * acum.exp().to(f32)[..., None]
    y_out.copy_(y.permute(0, 3, 1, 2, 4).reshape(b, Q, h, p))
    # state at chunk end: decayed old state plus every input weighted by its decay to the end
    to_end = (acum[..., -1:] - acum).exp().to(f32) * dts  # (b, g, r, Q)
    new = (xs * to_end[..., None]).transpose(-1, -2) @ Bs[:, :, None]  # (b, g, r, p, n)
    return new.add_(state * acum[..., -1].exp().to(f32)[..., None, None])
