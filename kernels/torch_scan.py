"""Mamba-1 selective scan on plain torch ops: the CPU engine's hot path.

Dimension letters: b batch, d channels (d_inner), g groups of B/C, e = d // g channels per group,
n state size, L length, T tokens per chunk, m sub-blocks per chunk, k tokens per sub-block (T = m * k).

The recurrence h_t = exp(delta_t A) h_{t-1} + delta_t B_t u_t is linear, so inside a sub-block of k tokens it
has the closed form (c_t = A * sum_{r<=t} delta_r, the decay since the sub-block began):

    h_t = exp(c_t) * (h_0 + sum_{s<=t} exp(-c_s) delta_s B_s u_s)

which is a handful of whole-tensor ops (one exp, one cumsum) instead of k dependent steps. exp(-c_s) grows
as the decay accumulates, so the form is used only while |c| <= MAX_DECAY inside every sub-block (float32
then keeps ~eps * MAX_DECAY relative error per term and cannot overflow). The m sub-blocks of a chunk are
then chained by a short loop over their end states, and chunks by the carried state, so memory is
O(b d n T), never O(b d n L). Where a chunk's decay is too steep for 16-token sub-blocks, it uses 8 or 4;
steeper still (a channel with a huge delta * |A|), it falls back to a log-depth (Hillis-Steele) scan, which
only multiplies decays and cannot overflow.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._buffers import new_output

MAX_DECAY = 30.0  # bound on |c| inside a sub-block: exp(30) ~ 1e13 stays far from float32 overflow
SUB = 16  # k: tokens per sub-block, at most; the length is padded to a multiple of it
SUB_SIZES = (16, 8, 4)  # tried in turn while a sub-block's decay exceeds MAX_DECAY, then the fallback
ELEMS_PER_CHUNK = 1 << 20  # b*d*n*T per chunk buffer on CPU (4 MiB in float32): measured best on 2 cores
ELEMS_PER_CHUNK_CUDA = 1 << 25  # on a GPU, fewer and larger launches


def _chunk_len(b: int, d: int, n: int, L: int, cuda: bool) -> int:
    T, cap = SUB, (ELEMS_PER_CHUNK_CUDA if cuda else ELEMS_PER_CHUNK)
    while T * 2 * b * d * n <= cap and T < (4096 if cuda else 256):
        T *= 2
    return min(T, -(-L // SUB) * SUB)


def selective_scan_torch(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                         initial_state=None, return_last_state=False):
    """Same contract as `ssmdoc.kernels.selective_scan`; state and arithmetic in float32."""
    b, d, L = u.shape
    n = A.shape[1]
    Bg = B if B.dim() == 4 else B[:, None]  # (b, g, n, L)
    Cg = C if C.dim() == 4 else C[:, None]
    g = Bg.shape[1]
    e = d // g
    f32 = torch.float32

    dl = delta.to(f32)
    if delta_bias is not None:
        dl = dl + delta_bias.to(f32)[:, None]
    if delta_softplus:
        dl = F.softplus(dl)
    dl = dl.contiguous()  # viewed as sub-blocks below
    uf = u.to(f32)
    du = dl * uf  # (b, d, L)

    # Pad the length to whole sub-blocks with delta = 0 and input 0: the state passes through unchanged.
    Lp = -(-L // SUB) * SUB
    if Lp != L:
        pad = (0, Lp - L)
        dl, du = F.pad(dl, pad), F.pad(du, pad)
        Bg, Cg = F.pad(Bg, pad), F.pad(Cg, pad)
    Af = A.to(f32).view(1, g, e, n, 1, 1)  # broadcasts against (b, g, e, n, m, k)
    A_steep = A.to(f32).abs().amax(-1)[None, :, None, None]  # (1, d, 1, 1): the fastest decay per channel

    h = (torch.zeros(b, d, n, dtype=f32, device=u.device) if initial_state is None
         else initial_state.to(f32).clone())
    y = new_output(b, d, Lp, dtype=f32, device=u.device)
    T = _chunk_len(b, d, n, L, u.is_cuda)
    scratch = [torch.empty(b * d * n * T, dtype=f32, device=u.device) for _ in range(2)]
    for s0 in range(0, Lp, T):
        t1 = min(s0 + T, Lp)
        Tc = t1 - s0
        dlc = dl[..., s0:t1]
        for k in SUB_SIZES:  # the longest sub-block whose decay stays within the closed form's range
            m = Tc // k
            # decay since the start of each sub-block, before multiplying by A: (b, d, m, k)
            S = dlc.reshape(b, d, m, k).cumsum(-1)
            if float((S[..., -1:] * A_steep).amax()) <= MAX_DECAY:
                break
        else:
            S = None
        E, W = (buf[: b * d * n * Tc].view(b, g, e, n, m, k) for buf in scratch)
        Bc = Bg[..., s0:t1].to(f32).reshape(b, g, 1, n, m, k)
        Cc = Cg[..., s0:t1].to(f32).reshape(b, g, 1, n, m, k)
        duc = du[..., s0:t1].reshape(b, g, e, 1, m, k)
        hg = h.view(b, g, e, n)
        if S is not None:
            h = _chunk_closed_form(E, W, S.view(b, g, e, 1, m, k), Af, duc, Bc, Cc, hg, y[..., s0:t1])
        else:
            h = _chunk_log_depth(E, W, dlc.reshape(b, g, e, 1, m, k), Af, duc, Bc, Cc, hg, y[..., s0:t1])
        h = h.view(b, d, n)

    y = y[..., :L]
    if D is not None:
        y = y + D.to(f32)[:, None] * uf
    if z is not None:
        y = y * F.silu(z.to(f32))
    y = y.to(u.dtype)
    return (y, h) if return_last_state else y


def _chunk_closed_form(E, W, S, Af, duc, Bc, Cc, h, y_out):
    """One chunk by the closed form per sub-block. E, W: scratch (b, g, e, n, m, k); h: (b, g, e, n)."""
    b, g, e, n, m, k = E.shape
    torch.mul(S, Af, out=E).exp_()  # exp(c_t) <= 1
    # sum_{s<=t} exp(-c_s) delta_s B_s u_s within each sub-block; 1 / exp(c_s) <= exp(MAX_DECAY)
    torch.mul(duc, Bc, out=W).div_(E).cumsum_(-1)
    # Chain the sub-blocks: the state entering sub-block j, from its predecessor's end state.
    decay_end, local_end = E[..., -1], W[..., -1]  # (b, g, e, n, m)
    h_in = torch.empty(b, g, e, n, m, dtype=E.dtype, device=E.device)
    for j in range(m):
        h_in[..., j] = h
        h = decay_end[..., j] * (local_end[..., j] + h)
    W.add_(h_in[..., None])  # h_t = exp(c_t) * (h_in + local sum)
    E.mul_(Cc).mul_(W)
    torch.sum(E, dim=3, out=y_out.view(b, g, e, m, k))  # y_t = <C_t, h_t>
    return h


def _chunk_log_depth(E, W, dl, Af, duc, Bc, Cc, h, y_out):
    """Fallback for steep decays: Hillis-Steele scan of (decay, input) pairs over the whole chunk."""
    b, g, e, n, m, k = E.shape
    T = m * k
    a = torch.mul(dl, Af, out=E).exp_().view(b, g, e, n, T)  # per-step decay, may underflow to 0: fine
    x = torch.mul(duc, Bc, out=W).view(b, g, e, n, T)
    x[..., 0].addcmul_(a[..., 0], h)
    a2, x2 = torch.empty_like(a), torch.empty_like(x)
    step = 1
    while step < T:
        # After this level x[t] holds the state from the inputs of the last 2*step tokens (and h).
        torch.addcmul(x[..., step:], a[..., step:], x[..., :-step], out=x2[..., step:])
        x2[..., :step] = x[..., :step]
        if 2 * step < T:
            torch.mul(a[..., step:], a[..., :-step], out=a2[..., step:])
            a2[..., :step] = a[..., :step]
            a, a2 = a2, a
        x, x2 = x2, x
        step *= 2
    h = x[..., -1].clone()
    x.mul_(Cc.view(b, g, 1, n, T))
    torch.sum(x, dim=3, out=y_out.view(b, g, e, T))
    return h
