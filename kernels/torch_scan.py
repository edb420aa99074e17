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

MAX_DECAY = 60.0  # bound on |c| inside a sub-block: exp(60) ~ 1e26, far from float32 overflow (3e38); measured error ~1e-7
SUB = 16  # k: tokens per sub-block, at most; the length is padded to a multiple of it
SUB_SIZES = (16, 8, 4)  # tried in turn while a sub-block's decay exceeds MAX_DECAY, then the fallback
ELEMS_PER_CHUNK = 1 << 18  # b*d*n*T per chunk buffer on CPU (1 MiB in float32; three of them stay in cache)
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
    Af = A.to(f32).view(1, g, e, n)
    A_steep = A.to(f32).abs().amax(-1)  # (d,): the fastest decay per channel
    # The closed form works with the channels innermost, (b, Lp, [n,] d): every op, broadcasts included, then
    # runs along contiguous rows of d, and the cumsums over a sub-block are small matrix products.
    dlT, duT = dl.transpose(1, 2).contiguous(), du.transpose(1, 2).contiguous()  # (b, Lp, d)
    AT = A.to(f32).t().contiguous()  # (n, d)
    BT, CT = (t.to(f32).permute(0, 3, 2, 1).contiguous() for t in (Bg, Cg))  # (b, Lp, n, g)
    tri = {k: torch.ones(k, k, dtype=f32, device=u.device).tril_() for k in SUB_SIZES}  # cumsum as a matmul

    h = (torch.zeros(b, d, n, dtype=f32, device=u.device) if initial_state is None
         else initial_state.to(f32))
    h = h.transpose(1, 2).contiguous()  # (b, n, d)
    yT = new_output(b, Lp, d, dtype=f32, device=u.device)
    T = _chunk_len(b, d, n, L, u.is_cuda)
    scratch = [torch.empty(b * d * n * T, dtype=f32, device=u.device) for _ in range(3)]
    for s0 in range(0, Lp, T):
        t1 = min(s0 + T, Lp)
        Tc = t1 - s0
        for k in SUB_SIZES:  # the longest sub-block whose decay stays within the closed form's range
            m = Tc // k
            # decay since the start of each sub-block, before multiplying by A: (b, m, k, d)
            S = (tri[k] @ dlT[:, s0:t1].reshape(b * m, k, d)).view(b, m, k, d)
            steep = (S[:, :, -1] * A_steep).amax(dim=(0, 1)) > MAX_DECAY  # (d,)
            if not bool(steep.any()):
                break
            if g == 1 and k == SUB_SIZES[0] and not bool(steep.all()):
                break  # per channel: the closed form where it holds, the log-depth scan for the rest
        if not bool(steep.any()):
            E, W, X = (buf[: b * d * n * Tc].view(b, m, k, n, d) for buf in scratch)
            h = _chunk_closed_form(E, W, X, tri[k], S, AT, duT[:, s0:t1].view(b, m, k, 1, g, e),
                                   BT[:, s0:t1].view(b, m, k, n, g, 1), CT[:, s0:t1].view(b, m, k, n, g, 1), h,
                                   yT[:, s0:t1].view(b, m, k, d))
            continue
        if bool(steep.all()) or g != 1:
            steep_idx = None  # every channel (or grouped B/C): the log-depth scan for all of them
        else:
            gentle_idx, steep_idx = (~steep).nonzero()[:, 0], steep.nonzero()[:, 0]
            dg = gentle_idx.numel()
            E, W, X = (buf[: b * dg * n * Tc].view(b, m, k, n, dg) for buf in scratch)
            y_g = torch.empty(b, m, k, dg, dtype=f32, device=u.device)
            h[:, :, gentle_idx] = _chunk_closed_form(
                E, W, X, tri[k], S[..., gentle_idx], AT[:, gentle_idx],
                duT[:, s0:t1, gentle_idx].view(b, m, k, 1, 1, dg), BT[:, s0:t1].view(b, m, k, n, 1, 1),
                CT[:, s0:t1].view(b, m, k, n, 1, 1), h[:, :, gentle_idx], y_g)
            yT[:, s0:t1, gentle_idx] = y_g.view(b, Tc, dg)
        sel = slice(None) if steep_idx is None else steep_idx
        ds = d if steep_idx is None else steep_idx.numel()
        gs, es = (g, e) if steep_idx is None else (1, ds)
        E, W = (buf[: b * ds * n * Tc].view(b, gs, es, n, Tc) for buf in scratch[:2])
        y_s = torch.empty(b, gs, es, Tc, dtype=f32, device=u.device)
        h_s = _chunk_log_depth(E, W, dl[:, sel, s0:t1].reshape(b, gs, es, 1, Tc),
                               A.to(f32)[sel].reshape(1, gs, es, n, 1), du[:, sel, s0:t1].reshape(b, gs, es, 1, Tc),
                               Bg[..., s0:t1].to(f32)[:, :, None], Cg[..., s0:t1].to(f32)[:, :, None],
                               h[:, :, sel].transpose(1, 2).reshape(b, gs, es, n), y_s)
        yT[:, s0:t1, sel] = y_s.view(b, ds, Tc).transpose(1, 2)
        h[:, :, sel] = h_s.reshape(b, ds, n).transpose(1, 2)
    h = h.transpose(1, 2).contiguous()  # (b, d, n)
    y = yT.transpose(1, 2)  # (b, d, Lp), a view

    y = y[..., :L]
    if D is not None:
        y = y + D.to(f32)[:, None] * uf
    if z is not None:
        y = y * F.silu(z.to(f32))
    y = y.to(u.dtype)
    return (y, h) if return_last_state else y


def _chunk_closed_form(E, W, X, tri, S, AT, duc, Bc, Cc, h, y_out):
    """One chunk by the closed form per sub-block, channels innermost. E, W, X: scratch (b, m, k, n, d);
    S: (b, m, k, d); AT: (n, d); duc (b, m, k, 1, g, e); Bc, Cc (b, m, k, n, g, 1); h (b, n, d) -> new h;
    y_out (b, m, k, d)."""
    b, m, k, n, d = E.shape
    torch.mul(S[:, :, :, None], AT, out=E).exp_()  # exp(c_t) <= 1
    # sum_{s<=t} exp(-c_s) delta_s B_s u_s within each sub-block; 1 / exp(c_s) <= exp(MAX_DECAY)
    torch.mul(duc, Bc, out=W.view(duc.shape[:3] + (n,) + duc.shape[4:]))
    W.div_(E)
    torch.matmul(tri, W.view(b * m, k, n * d), out=X.view(b * m, k, n * d))  # cumsum over the sub-block
    # Chain the sub-blocks: the state entering sub-block j, from its predecessor's end state.
    decay_end, local_end = E[:, :, -1], X[:, :, -1]  # (b, m, n, d)
    h_in = torch.empty(b, m, n, d, dtype=E.dtype, device=E.device)
    for j in range(m):
        h_in[:, j] = h
        h = decay_end[:, j] * (local_end[:, j] + h)
    X.add_(h_in[:, :, None])  # h_t = exp(c_t) * (h_in + local sum)
    E.view(Cc.shape[:3] + (n,) + duc.shape[4:]).mul_(Cc)
    E.mul_(X)
    torch.sum(E, dim=3, out=y_out)  # y_t = <C_t, h_t>
    return h


def _chunk_log_depth(E, W, dl, Af, duc, Bc, Cc, h, y_out):
    """Fallback for steep decays: Hillis-Steele scan of (decay, input) pairs over the whole chunk.
    E, W: scratch (b, g, e, n, T); dl, duc: (b, g, e, 1, T); Af (1, g, e, n, 1); Bc, Cc (b, g, 1, n, T)."""
    b, g, e, n, T = E.shape
    a = torch.mul(dl, Af, out=E).exp_()  # per-step decay, may underflow to 0: fine
    x = torch.mul(duc, Bc, out=W)
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
    x.mul_(Cc)
    torch.sum(x, dim=3, out=y_out.view(b, g, e, T))
    return h
