"""Mamba-1 selective scan in Triton, with an initial state in and the last state out.

Dimension letters: b batch, d channels, n state size, L length, g groups of B/C.

One program owns BLOCK_D channels of one batch row and all n states, and walks the sequence in blocks of
BLOCK_T tokens. Inside a block the recurrence h_t = a_t h_{t-1} + x_t (a = exp(delta A), x = delta B u) is
an associative scan over (a, x) pairs (tl.associative_scan), so a block costs log-depth work instead of
BLOCK_T dependent steps; the carried state enters as h_t = (a_1...a_t) h_prev + scanned x_t. Loads are
(BLOCK_D, BLOCK_T) tiles, contiguous along time. softplus, delta_bias, D and the z gate are fused, so the
kernel reads u, delta, z, B, C once and writes y once: the op is bound by memory bandwidth.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ._buffers import new_output
from ._triton_util import softplus, silu


@triton.jit
def _combine(a1, x1, a2, x2):
    # (a2, x2) after (a1, x1): h -> a2 (a1 h + x1) + x2
    return a1 * a2, x1 * a2 + x2


@triton.jit
def _scan_fwd(
    u_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, D_ptr, z_ptr, bias_ptr, h0_ptr, y_ptr, hN_ptr,
    dim, L, dim_per_group,
    s_ub, s_ud, s_ut, s_db, s_dd, s_dt, s_ad, s_an, s_bb, s_bg, s_bn, s_bt, s_cb, s_cg, s_cn, s_ct,
    s_zb, s_zd, s_zt, s_yb, s_yd, s_yt, s_hb, s_hd, s_hn, s_nb, s_nd, s_nn,
    NSTATE: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_T: tl.constexpr,
    HAS_D: tl.constexpr, HAS_Z: tl.constexpr, HAS_BIAS: tl.constexpr, SOFTPLUS: tl.constexpr,
    HAS_H0: tl.constexpr,
):
    pid_b = tl.program_id(0)
    pid_d = tl.program_id(1)
    offs_d = pid_d * BLOCK_D + tl.arange(0, BLOCK_D)  # (BLOCK_D,)
    offs_n = tl.arange(0, BLOCK_N)
    offs_t = tl.arange(0, BLOCK_T)
    mask_d = offs_d < dim
    mask_n = offs_n < NSTATE
    grp = (pid_d * BLOCK_D) // dim_per_group  # BLOCK_D divides dim_per_group: one group per program

    A = tl.load(A_ptr + offs_d[:, None] * s_ad + offs_n[None, :] * s_an,
                mask=mask_d[:, None] & mask_n[None, :], other=0.0).to(tl.float32)  # (BLOCK_D, BLOCK_N)
    if HAS_BIAS:
        bias = tl.load(bias_ptr + offs_d, mask=mask_d, other=0.0).to(tl.float32)
    if HAS_D:
        Dv = tl.load(D_ptr + offs_d, mask=mask_d, other=0.0).to(tl.float32)
    if HAS_H0:
        h = tl.load(h0_ptr + pid_b * s_hb + offs_d[:, None] * s_hd + offs_n[None, :] * s_hn,
                    mask=mask_d[:, None] & mask_n[None, :], other=0.0).to(tl.float32)
    else:
        h = tl.zeros((BLOCK_D, BLOCK_N), dtype=tl.float32)

    u_base = u_ptr + pid_b * s_ub + offs_d[:, None] * s_ud
    dt_base = dt_ptr + pid_b * s_db + offs_d[:, None] * s_dd
    B_base = B_ptr + pid_b * s_bb + grp * s_bg + offs_n[:, None] * s_bn
    C_base = C_ptr + pid_b * s_cb + grp * s_cg + offs_n[:, None] * s_cn
    for t0 in range(0, L, BLOCK_T):
        t = t0 + offs_t
        mask_t = t < L
        m_dt = mask_d[:, None] & mask_t[None, :]
        m_nt = mask_n[:, None] & mask_t[None, :]
        u = tl.load(u_base + t[None, :] * s_ut, mask=m_dt, other=0.0).to(tl.float32)  # (BLOCK_D, BLOCK_T)
        delta = tl.load(dt_base + t[None, :] * s_dt, mask=m_dt, other=0.0).to(tl.float32)
        if HAS_BIAS:
            delta += bias[:, None]
        if SOFTPLUS:
            delta = softplus(delta)
        delta = tl.where(m_dt, delta, 0.0)  # padded steps: decay 1, input 0, so the state passes through
        Bt = tl.load(B_base + t[None, :] * s_bt, mask=m_nt, other=0.0).to(tl.float32)  # (BLOCK_N, BLOCK_T)
        Ct = tl.load(C_base + t[None, :] * s_ct, mask=m_nt, other=0.0).to(tl.float32)
        a = tl.exp(delta[:, None, :] * A[:, :, None])  # (BLOCK_D, BLOCK_N, BLOCK_T)
        x = (delta * u)[:, None, :] * Bt[None, :, :]
        a_cum, x_cum = tl.associative_scan((a, x), 2, _combine)
        hs = a_cum * h[:, :, None] + x_cum  # state after each token of the block
        y = tl.sum(hs * Ct[None, :, :], axis=1)  # (BLOCK_D, BLOCK_T)
        h = tl.sum(tl.where(offs_t[None, None, :] == BLOCK_T - 1, hs, 0.0), axis=2)
        if HAS_D:
            y += Dv[:, None] * u
        if HAS_Z:
            z = tl.load(z_ptr + pid_b * s_zb + offs_d[:, None] * s_zd + t[None, :] * s_zt,
                        mask=m_dt, other=0.0).to(tl.float32)
            y *= silu(z)
        tl.store(y_ptr + pid_b * s_yb + offs_d[:, None] * s_yd + t[None, :] * s_yt,
                 y.to(y_ptr.dtype.element_ty), mask=m_dt)
    tl.store(hN_ptr + pid_b * s_nb + offs_d[:, None] * s_nd + offs_n[None, :] * s_nn, h,
             mask=mask_d[:, None] & mask_n[None, :])


def _block_d(dim_per_group: int, cap: int) -> int:
    """Largest power of two <= cap dividing dim_per_group, so a program never straddles two groups."""
    bd = 1
    while bd * 2 <= cap and dim_per_group % (bd * 2) == 0:
        bd *= 2
    return bd


def selective_scan_triton(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                          initial_state=None, return_last_state=False):
    """Same contract as `ssmdoc.kernels.selective_scan`."""
    b, d, L = u.shape
    n = A.shape[1]
    Bg = B if B.dim() == 4 else B.unsqueeze(1)  # (b, g, n, L)
    Cg = C if C.dim() == 4 else C.unsqueeze(1)
    g = Bg.shape[1]
    dpg = d // g
    y = new_output(b, d, L, dtype=u.dtype, device=u.device)
    hN = new_output(b, d, n, dtype=torch.float32, device=u.device)
    block_n = triton.next_power_of_2(n)
    block_d = _block_d(dpg, max(1, 2048 // (block_n * 32)) if u.is_cuda else 16)
    block_t = 32 if u.is_cuda else 64
    h0 = initial_state if initial_state is not None else hN  # any tensor; unread without HAS_H0
    zz = z if z is not None else u
    grid = (b, triton.cdiv(d, block_d))
    _scan_fwd[grid](
        u, delta, A, Bg, Cg, D if D is not None else A, zz, delta_bias if delta_bias is not None else A,
        h0, y, hN, d, L, dpg,
        *u.stride(), *delta.stride(), *A.stride(), *Bg.stride(), *Cg.stride(), *zz.stride(), *y.stride(),
        *h0.stride(), *hN.stride(),
        NSTATE=n, BLOCK_N=block_n, BLOCK_D=block_d, BLOCK_T=block_t,
        HAS_D=D is not None, HAS_Z=z is not None, HAS_BIAS=delta_bias is not None,
        SOFTPLUS=bool(delta_softplus), HAS_H0=initial_state is not None,
    )
    return (y, hN) if return_last_state else y
