"""Mamba-2 SSD chunked scan in Triton: four kernels, with initial states in and final states out.

Dimension letters: b batch, L length, h heads, p head_dim, g groups of B/C, n state, Q chunk length,
c chunk index, t output position and s input position inside a chunk.

The algorithm of Dao & Gu (2024), section 6, in four passes:
  1. _chunk_cumsum: dt (+bias, softplus, clamp) and the within-chunk cumulative log-decay a = cumsum(dt A).
  2. _chunk_state: each chunk's contribution to the state at its end, sum_s x_s (exp(a_Q - a_s) dt_s) B_s^T,
     one tensor-core dot per (head, p-tile, n-tile).
  3. _state_passing: a short sequential loop over chunks, H_{c+1} = exp(a_Q) H_c + contribution_c, starting
     from the initial states; it leaves the state entering each chunk, and the final state.
  4. _chunk_scan: y_t = exp(a_t) C_t H_c + sum_{s<=t} (C_t . B_s) exp(a_t - a_s) dt_s x_s, as dots
     (C H^T, C B^T, then (CB * decay) x), with D and the z gate fused.
Dot operands are in the input dtype (bf16/fp16: tensor cores) with float32 accumulation; float32 inputs use
full-precision dots (no TF32), so float32 results match the reference to float32 accuracy.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ._buffers import new_output
from ._triton_util import silu, softplus


@triton.jit
def _chunk_cumsum(
    dt_ptr, A_ptr, bias_ptr, dt_out, a_out, L, H, Q, dt_min, dt_max,
    s_tb, s_tl, s_th,
    BLOCK_Q: tl.constexpr, BLOCK_H: tl.constexpr, HAS_BIAS: tl.constexpr, SOFTPLUS: tl.constexpr,
    CLAMP: tl.constexpr,
):
    pid_b, pid_c, pid_h = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    nchunks = tl.num_programs(1)
    oq = tl.arange(0, BLOCK_Q)
    oh = pid_h * BLOCK_H + tl.arange(0, BLOCK_H)
    pos = pid_c * Q + oq
    mask = (oq[:, None] < Q) & (pos[:, None] < L) & (oh[None, :] < H)
    dt = tl.load(dt_ptr + pid_b * s_tb + pos[:, None] * s_tl + oh[None, :] * s_th, mask=mask,
                 other=0.0).to(tl.float32)  # (BLOCK_Q, BLOCK_H)
    if HAS_BIAS:
        dt += tl.load(bias_ptr + oh, mask=oh < H, other=0.0).to(tl.float32)[None, :]
    if SOFTPLUS:
        dt = softplus(dt)
    if CLAMP:
        dt = tl.minimum(tl.maximum(dt, dt_min), dt_max)
    dt = tl.where(mask, dt, 0.0)  # past the end: no decay, no input
    A = tl.load(A_ptr + oh, mask=oh < H, other=0.0).to(tl.float32)
    a = tl.cumsum(dt * A[None, :], axis=0)
    off = ((pid_b * H + oh[None, :]) * nchunks + pid_c) * Q + oq[:, None]  # (b, h, c, Q) layout
    m_out = (oq[:, None] < Q) & (oh[None, :] < H)
    tl.store(dt_out + off, dt, mask=m_out)
    tl.store(a_out + off, a, mask=m_out)


@triton.jit
def _chunk_state(
    x_ptr, B_ptr, dt_ptr, a_ptr, st_ptr, L, H, P, N, Q, heads_per_group,
    s_xb, s_xl, s_xh, s_xp, s_bb, s_bl, s_bg, s_bn,
    BLOCK_P: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_S: tl.constexpr, DOT_F32: tl.constexpr,
):
    pid_bc, pid_h, pid_pn = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    nchunks = tl.cdiv(L, Q)
    pid_b, pid_c = pid_bc // nchunks, pid_bc % nchunks
    n_nblk = tl.cdiv(N, BLOCK_N)
    op = (pid_pn // n_nblk) * BLOCK_P + tl.arange(0, BLOCK_P)
    on = (pid_pn % n_nblk) * BLOCK_N + tl.arange(0, BLOCK_N)
    os = tl.arange(0, BLOCK_S)
    grp = pid_h // heads_per_group
    row = ((pid_b * H + pid_h) * nchunks + pid_c) * Q  # start of this chunk in the (b, h, c, Q) arrays
    a_end = tl.load(a_ptr + row + tl.minimum(Q, L - pid_c * Q) - 1)
    acc = tl.zeros((BLOCK_P, BLOCK_N), dtype=tl.float32)
    for s0 in range(0, Q, BLOCK_S):
        s = s0 + os
        pos = pid_c * Q + s
        ms = (s < Q) & (pos < L)
        x = tl.load(x_ptr + pid_b * s_xb + pos[:, None] * s_xl + pid_h * s_xh + op[None, :] * s_xp,
                    mask=ms[:, None] & (op[None, :] < P), other=0.0)  # (BLOCK_S, BLOCK_P)
        Bs = tl.load(B_ptr + pid_b * s_bb + pos[:, None] * s_bl + grp * s_bg + on[None, :] * s_bn,
                     mask=ms[:, None] & (on[None, :] < N), other=0.0)  # (BLOCK_S, BLOCK_N)
        dt = tl.load(dt_ptr + row + s, mask=ms, other=0.0)
        a = tl.load(a_ptr + row + s, mask=ms, other=0.0)
        w = tl.where(ms, tl.exp(a_end - a) * dt, 0.0)  # decay from s to the chunk end, times dt_s
        xw = (x.to(tl.float32) * w[:, None])
        if DOT_F32:
            acc += tl.dot(tl.trans(xw), Bs.to(tl.float32), input_precision="ieee")
        else:
            acc += tl.dot(tl.trans(xw.to(Bs.dtype)), Bs)
    off = (((pid_b * nchunks + pid_c) * H + pid_h) * P + op[:, None]) * N + on[None, :]
    tl.store(st_ptr + off, acc, mask=(op[:, None] < P) & (on[None, :] < N))


@triton.jit
def _state_passing(
    st_ptr, a_ptr, h0_ptr, fin_ptr, L, H, PN, Q,
    s_hb, s_hh, s_hpn,
    BLOCK: tl.constexpr, HAS_H0: tl.constexpr,
):
    pid_b, pid_h, pid_k = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    nchunks = tl.cdiv(L, Q)
    ok = pid_k * BLOCK + tl.arange(0, BLOCK)
    mk = ok < PN
    if HAS_H0:
        state = tl.load(h0_ptr + pid_b * s_hb + pid_h * s_hh + ok * s_hpn, mask=mk, other=0.0).to(tl.float32)
    else:
        state = tl.zeros((BLOCK,), dtype=tl.float32)
    for c in range(0, nchunks):
        off = ((pid_b * nchunks + c) * H + pid_h) * PN + ok
        contrib = tl.load(st_ptr + off, mask=mk, other=0.0)
        tl.store(st_ptr + off, state, mask=mk)  # now: the state entering chunk c
        a_end = tl.load(a_ptr + ((pid_b * H + pid_h) * nchunks + c) * Q + tl.minimum(Q, L - c * Q) - 1)
        state = tl.exp(a_end) * state + contrib
    tl.store(fin_ptr + (pid_b * H + pid_h) * PN + ok, state, mask=mk)


@triton.jit
def _chunk_scan(
    x_ptr, B_ptr, C_ptr, z_ptr, D_ptr, dt_ptr, a_ptr, st_ptr, y_ptr, L, H, P, N, Q, heads_per_group,
    s_xb, s_xl, s_xh, s_xp, s_bb, s_bl, s_bg, s_bn, s_cb, s_cl, s_cg, s_cn, s_zb, s_zl, s_zh, s_zp,
    s_dh, s_dp, s_yb, s_yl, s_yh, s_yp,
    BLOCK_T: tl.constexpr, BLOCK_S: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_N: tl.constexpr,
    HAS_D: tl.constexpr, HAS_Z: tl.constexpr, DOT_F32: tl.constexpr,
):
    pid_bc, pid_h, pid_tp = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    nchunks = tl.cdiv(L, Q)
    pid_b, pid_c = pid_bc // nchunks, pid_bc % nchunks
    n_pblk = tl.cdiv(P, BLOCK_P)
    ot = (pid_tp // n_pblk) * BLOCK_T + tl.arange(0, BLOCK_T)
    op = (pid_tp % n_pblk) * BLOCK_P + tl.arange(0, BLOCK_P)
    on = tl.arange(0, BLOCK_N)
    grp = pid_h // heads_per_group
    row = ((pid_b * H + pid_h) * nchunks + pid_c) * Q
    clen = tl.minimum(Q, L - pid_c * Q)
    mt = ot < clen
    mp = op < P
    pos_t = pid_c * Q + ot

    Ct = tl.load(C_ptr + pid_b * s_cb + pos_t[:, None] * s_cl + grp * s_cg + on[None, :] * s_cn,
                 mask=mt[:, None] & (on[None, :] < N), other=0.0)  # (BLOCK_T, BLOCK_N)
    a_t = tl.load(a_ptr + row + ot, mask=mt, other=0.0)
    # the state entering this chunk, decayed to each t
    Hc = tl.load(st_ptr + (((pid_b * nchunks + pid_c) * H + pid_h) * P + op[None, :]) * N + on[:, None],
                 mask=mp[None, :] & (on[:, None] < N), other=0.0)  # (BLOCK_N, BLOCK_P), float32
    if DOT_F32:
        acc = tl.dot(Ct.to(tl.float32), Hc, input_precision="ieee")
    else:
        acc = tl.dot(Ct, Hc.to(Ct.dtype))
    acc = acc * tl.exp(a_t)[:, None]  # (BLOCK_T, BLOCK_P)
    # inputs of this chunk up to t
    t_end = tl.minimum((pid_tp // n_pblk + 1) * BLOCK_T, clen)
    for s0 in range(0, t_end, BLOCK_S):
        os = s0 + tl.arange(0, BLOCK_S)
        ms = os < clen
        pos_s = pid_c * Q + os
        Bs = tl.load(B_ptr + pid_b * s_bb + pos_s[None, :] * s_bl + grp * s_bg + on[:, None] * s_bn,
                     mask=ms[None, :] & (on[:, None] < N), other=0.0)  # (BLOCK_N, BLOCK_S)
        if DOT_F32:
            cb = tl.dot(Ct.to(tl.float32), Bs.to(tl.float32), input_precision="ieee")
        else:
            cb = tl.dot(Ct, Bs)  # (BLOCK_T, BLOCK_S)
        a_s = tl.load(a_ptr + row + os, mask=ms, other=0.0)
        dt_s = tl.load(dt_ptr + row + os, mask=ms, other=0.0)
        # rows past the end are masked too: there a_t = 0 and exp(a_t - a_s) would overflow
        causal = (ot[:, None] >= os[None, :]) & ms[None, :] & mt[:, None]
        decay = tl.exp(tl.where(causal, a_t[:, None] - a_s[None, :], float("-inf")))
        cb = cb * decay * dt_s[None, :]
        xs = tl.load(x_ptr + pid_b * s_xb + pos_s[:, None] * s_xl + pid_h * s_xh + op[None, :] * s_xp,
                     mask=ms[:, None] & mp[None, :], other=0.0)  # (BLOCK_S, BLOCK_P)
        if DOT_F32:
            acc += tl.dot(cb, xs.to(tl.float32), input_precision="ieee")
        else:
            acc += tl.dot(cb.to(xs.dtype), xs)
    m_tp = mt[:, None] & mp[None, :]
    if HAS_D:
        xt = tl.load(x_ptr + pid_b * s_xb + pos_t[:, None] * s_xl + pid_h * s_xh + op[None, :] * s_xp,
                     mask=m_tp, other=0.0).to(tl.float32)
        acc += tl.load(D_ptr + pid_h * s_dh + op * s_dp, mask=mp, other=0.0).to(tl.float32)[None, :] * xt
    if HAS_Z:
        z = tl.load(z_ptr + pid_b * s_zb + pos_t[:, None] * s_zl + pid_h * s_zh + op[None, :] * s_zp,
                    mask=m_tp, other=0.0).to(tl.float32)
        acc *= silu(z)
    tl.store(y_ptr + pid_b * s_yb + pos_t[:, None] * s_yl + pid_h * s_yh + op[None, :] * s_yp,
             acc.to(y_ptr.dtype.element_ty), mask=m_tp)


def _pow2_at_least_16(v: int, cap: int) -> int:
    return max(16, min(cap, triton.next_power_of_2(v)))


MAX_STATE = 256  # _chunk_scan holds the whole state dimension in one tile (BLOCK_N); wider states are split


def _ssd_scan_split_state(x, dt, A, B, C, chunk_size, D, z, dt_bias, initial_states, dt_softplus, dt_limit,
                          return_final_states):
    """d_state > MAX_STATE: the state's n columns evolve independently and y sums over them, so the scan runs on
    slices of at most MAX_STATE columns and adds their outputs (in float32); D and the z gate are applied after
    the sum, as _chunk_scan does. Inputs go in as float32 so that the partial sums are not rounded."""
    n = B.shape[3]
    y, finals = None, []
    for n0 in range(0, n, MAX_STATE):
        cols = slice(n0, min(n, n0 + MAX_STATE))
        h0 = initial_states[..., cols].contiguous() if initial_states is not None else None
        part, final = ssd_scan_triton(x.float(), dt, A, B[..., cols].float(), C[..., cols].float(), chunk_size,
                                      dt_bias=dt_bias, initial_states=h0, dt_softplus=dt_softplus,
                                      dt_limit=dt_limit, return_final_states=True)
        y = part if y is None else y + part
        finals.append(final)
    if D is not None:
        y = y + (D.float()[:, None] if D.dim() == 1 else D.float()) * x.float()  # (h, 1 | p) * (b, L, h, p)
    if z is not None:
        y = y * torch.nn.functional.silu(z.float())
    y = y.to(x.dtype)
    return (y, torch.cat(finals, dim=-1)) if return_final_states else y


def ssd_scan_triton(x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None,
                    dt_softplus=False, dt_limit=(0.0, float("inf")), return_final_states=False):
    """Same contract as `ssmdoc.kernels.ssd_scan`."""
    b, L, h, p = x.shape
    g, n = B.shape[2], B.shape[3]
    if n > MAX_STATE:
        return _ssd_scan_split_state(x, dt, A, B, C, chunk_size, D, z, dt_bias, initial_states, dt_softplus,
                                     dt_limit, return_final_states)
    Q = int(chunk_size)
    nchunks = triton.cdiv(L, Q)
    dev, f32 = x.device, torch.float32
    dt_c = torch.empty(b, h, nchunks, Q, dtype=f32, device=dev)
    a_c = torch.empty(b, h, nchunks, Q, dtype=f32, device=dev)
    block_h = min(triton.next_power_of_2(h), 16)
    clamp = tuple(dt_limit) != (0.0, float("inf"))
    _chunk_cumsum[(b, nchunks, triton.cdiv(h, block_h))](
        dt, A, dt_bias if dt_bias is not None else A, dt_c, a_c, L, h, Q, float(dt_limit[0]), float(dt_limit[1]),
        *dt.stride(), BLOCK_Q=triton.next_power_of_2(Q), BLOCK_H=block_h, HAS_BIAS=dt_bias is not None,
        SOFTPLUS=bool(dt_softplus), CLAMP=clamp,
    )
    # NOTE: Triton's interpreter multiplies the raw bits of bfloat16 operands in tl.dot (numpy has no bf16),
    # so on CPU tensors bf16 dots run in float32; the bf16 tensor-core path is exercised on CUDA only.
    dot_f32 = x.dtype == torch.float32 or (not x.is_cuda and x.dtype == torch.bfloat16)
    states = torch.empty(b, nchunks, h, p, n, dtype=f32, device=dev)
    bp, bn = _pow2_at_least_16(p, 64), _pow2_at_least_16(n, 64)
    _chunk_state[(b * nchunks, h, triton.cdiv(p, bp) * triton.cdiv(n, bn))](
        x, B, dt_c, a_c, states, L, h, p, n, Q, h // g, *x.stride(), *B.stride(),
        BLOCK_P=bp, BLOCK_N=bn, BLOCK_S=_pow2_at_least_16(Q, 64 if x.is_cuda else 256), DOT_F32=dot_f32,
        num_warps=8,  # 4 warps need ~170 registers a thread here (ptxas, sm_90)
    )
    final = new_output(b, h, p, n, dtype=f32, device=dev)
    h0 = initial_states.reshape(b, h, p * n) if initial_states is not None else final.view(b, h, p * n)
    block = min(triton.next_power_of_2(p * n), 1024)
    _state_passing[(b, h, triton.cdiv(p * n, block))](
        states, a_c, h0, final, L, h, p * n, Q, *h0.stride(), BLOCK=block, HAS_H0=initial_states is not None,
    )
    y = new_output(b, L, h, p, dtype=x.dtype, device=dev)
    zz = z if z is not None else x
    D2 = (D.unsqueeze(1).expand(h, p) if D.dim() == 1 else D) if D is not None else A.view(h, 1)
    # The interpreter (CPU tensors) pays per op, not per element: there, one whole chunk per program.
    # On a GPU the float32 dots need smaller tiles to stay in registers (they spilled at 64 x 64 x 128).
    tile = (32 if dot_f32 else 64) if x.is_cuda else 256
    bt = _pow2_at_least_16(Q, tile)
    bpp = _pow2_at_least_16(p, min(tile, 64))
    _chunk_scan[(b * nchunks, h, triton.cdiv(Q, bt) * triton.cdiv(p, bpp))](
        x, B, C, zz, D2, dt_c, a_c, states, y, L, h, p, n, Q, h // g,
        *x.stride(), *B.stride(), *C.stride(), *zz.stride(), *D2.stride(), *y.stride(),
        BLOCK_T=bt, BLOCK_S=bt, BLOCK_P=bpp, BLOCK_N=_pow2_at_least_16(n, MAX_STATE),
        HAS_D=D is not None, HAS_Z=z is not None, DOT_F32=dot_f32,
        num_warps=8,  # with 4 warps the bf16 tile needed 255 registers a thread and spilled (ptxas, sm_90)
    )
    return (y, final) if return_final_states else y
