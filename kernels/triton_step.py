"""One decode step of the SSM state in Triton, for both Mamba-1 and Mamba-2 shapes, updating the state in place.

Both shapes are one layout here: state (b, H, P, n) with
  Mamba-1: H = d channels, P = 1, A (d, n), dt per channel, D per channel;
  Mamba-2: H = heads, P = head_dim, A (h,) read with stride 0 along n, dt per head, D per head or (h, p).
Each program owns a (BLOCK_H, BLOCK_P, n) tile of one batch row: it reads the state once and writes it once,
which is all the time a decode step should cost (the tile of B and C is shared by every head of a group).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ._buffers import new_output
from ._triton_util import softplus, silu


@triton.jit
def _step(
    s_ptr, x_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, D_ptr, z_ptr, bias_ptr, y_ptr, H, P, heads_per_group,
    s_sb, s_sh, s_sp, s_sn, s_xb, s_xh, s_xp, s_tb, s_th, s_ah, s_an, s_bb, s_bg, s_bn, s_cb, s_cg, s_cn,
    s_dh, s_dp, s_zb, s_zh, s_zp, s_yb, s_yh, s_yp,
    NSTATE: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_P: tl.constexpr,
    HAS_D: tl.constexpr, HAS_Z: tl.constexpr, HAS_BIAS: tl.constexpr, SOFTPLUS: tl.constexpr,
):
    pid_b, pid_h, pid_p = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    oh = pid_h * BLOCK_H + tl.arange(0, BLOCK_H)  # (BLOCK_H,)
    op = pid_p * BLOCK_P + tl.arange(0, BLOCK_P)
    on = tl.arange(0, BLOCK_N)
    mh, mp, mn = oh < H, op < P, on < NSTATE
    m_hp = mh[:, None] & mp[None, :]
    m_hpn = m_hp[:, :, None] & mn[None, None, :]
    grp = oh // heads_per_group

    dt = tl.load(dt_ptr + pid_b * s_tb + oh * s_th, mask=mh, other=0.0).to(tl.float32)  # (BLOCK_H,)
    if HAS_BIAS:
        dt += tl.load(bias_ptr + oh, mask=mh, other=0.0).to(tl.float32)
    if SOFTPLUS:
        dt = softplus(dt)
    A = tl.load(A_ptr + oh[:, None] * s_ah + on[None, :] * s_an, mask=mh[:, None] & mn[None, :],
                other=0.0).to(tl.float32)  # (BLOCK_H, BLOCK_N)
    Bv = tl.load(B_ptr + pid_b * s_bb + grp[:, None] * s_bg + on[None, :] * s_bn,
                 mask=mh[:, None] & mn[None, :], other=0.0).to(tl.float32)
    Cv = tl.load(C_ptr + pid_b * s_cb + grp[:, None] * s_cg + on[None, :] * s_cn,
                 mask=mh[:, None] & mn[None, :], other=0.0).to(tl.float32)
    x = tl.load(x_ptr + pid_b * s_xb + oh[:, None] * s_xh + op[None, :] * s_xp, mask=m_hp,
                other=0.0).to(tl.float32)  # (BLOCK_H, BLOCK_P)
    s_off = pid_b * s_sb + oh[:, None, None] * s_sh + op[None, :, None] * s_sp + on[None, None, :] * s_sn
    s = tl.load(s_ptr + s_off, mask=m_hpn, other=0.0).to(tl.float32)  # (BLOCK_H, BLOCK_P, BLOCK_N)

    dA = tl.exp(dt[:, None] * A)  # (BLOCK_H, BLOCK_N)
    s = s * dA[:, None, :] + (dt[:, None] * x)[:, :, None] * Bv[:, None, :]
    tl.store(s_ptr + s_off, s.to(s_ptr.dtype.element_ty), mask=m_hpn)
    y = tl.sum(s * Cv[:, None, :], axis=2)  # (BLOCK_H, BLOCK_P)
    if HAS_D:
        y += tl.load(D_ptr + oh[:, None] * s_dh + op[None, :] * s_dp, mask=m_hp, other=0.0).to(tl.float32) * x
    if HAS_Z:
        z = tl.load(z_ptr + pid_b * s_zb + oh[:, None] * s_zh + op[None, :] * s_zp, mask=m_hp, other=0.0)
        y *= silu(z.to(tl.float32))
    tl.store(y_ptr + pid_b * s_yb + oh[:, None] * s_yh + op[None, :] * s_yp, y.to(y_ptr.dtype.element_ty),
             mask=m_hp)


def selective_state_update_triton(state, x, dt, A, B, C, D=None, z=None, dt_bias=None, dt_softplus=False):
    """Same contract as `ssmdoc.kernels.selective_state_update`."""
    if state.dim() == 3:  # Mamba-1 -> (b, d, 1, n)
        b, H, n = state.shape
        P = 1
        s4, x3 = state.unsqueeze(2), x.unsqueeze(2)
        z3 = z.unsqueeze(2) if z is not None else None
        A2 = A  # (d, n)
        B3 = B if B.dim() == 3 else B.unsqueeze(1)  # (b, g, n)
        C3 = C if C.dim() == 3 else C.unsqueeze(1)
        D2 = D.unsqueeze(1) if D is not None else None  # (d, 1)
    else:  # Mamba-2
        b, H, P, n = state.shape
        s4, x3, z3 = state, x, z
        A2 = A.unsqueeze(1).expand(H, n)  # stride 0 along n
        B3, C3 = B, C
        D2 = (D.unsqueeze(1).expand(H, P) if D.dim() == 1 else D) if D is not None else None
    y3 = new_output(b, H, P, dtype=x.dtype, device=x.device)
    block_n = triton.next_power_of_2(n)
    block_p = min(triton.next_power_of_2(P), max(1, 4096 // block_n))
    block_h = max(1, min(triton.next_power_of_2(H), 4096 // (block_n * block_p), 64))
    hpg = H // B3.shape[1]
    zz = z3 if z3 is not None else x3
    Dd = D2 if D2 is not None else A2
    grid = (b, triton.cdiv(H, block_h), triton.cdiv(P, block_p))
    _step[grid](
        s4, x3, dt, A2, B3, C3, Dd, zz, dt_bias if dt_bias is not None else dt, y3, H, P, hpg,
        *s4.stride(), *x3.stride(), *dt.stride(), *A2.stride(), *B3.stride(), *C3.stride(), *Dd.stride(),
        *zz.stride(), *y3.stride(),
        NSTATE=n, BLOCK_N=block_n, BLOCK_H=block_h, BLOCK_P=block_p,
        HAS_D=D is not None, HAS_Z=z is not None, HAS_BIAS=dt_bias is not None, SOFTPLUS=bool(dt_softplus),
    )
    y = y3.squeeze(2) if state.dim() == 3 else y3
    return y
