"""Causal depthwise conv1d in Triton, with the w-1 inputs before x as initial states and the last w-1 out.

Dimension letters: b batch, d channels, L length, w width (W in kernels).

Each program computes a (BLOCK_D, BLOCK_T) tile of the output as W shifted multiply-adds; a tap that
reaches before the start of x reads the initial states instead. The first time-tile of each channel block
also writes the final states (the last w-1 inputs, which come partly from the initial states when L < w-1).
"""

from __future__ import annotations

import triton
import triton.language as tl

from ._buffers import new_output
from ._triton_util import silu


@triton.jit
def _tap(x_ptr, s_ptr, pos, offs_d, mask_d, s_xd, s_xt, s_sd, s_st, W: tl.constexpr, HAS_S: tl.constexpr, L):
    """x at positions `pos` (may be negative: then the initial states, or 0), as float32."""
    in_x = (pos >= 0) & (pos < L)
    v = tl.load(x_ptr + offs_d[:, None] * s_xd + pos * s_xt, mask=mask_d[:, None] & in_x, other=0.0)
    v = v.to(tl.float32)
    if HAS_S:
        sp = pos + (W - 1)  # index into the states, which hold positions -(W-1) .. -1
        in_s = (pos < 0) & (sp >= 0)
        vs = tl.load(s_ptr + offs_d[:, None] * s_sd + sp * s_st, mask=mask_d[:, None] & in_s, other=0.0)
        v = tl.where(in_s, vs.to(tl.float32), v)
    return v


@triton.jit
def _conv_fwd(
    x_ptr, w_ptr, bias_ptr, s_ptr, y_ptr, fs_ptr, dim, L,
    s_xb, s_xd, s_xt, s_wd, s_wk, s_sb, s_sd, s_st, s_yb, s_yd, s_yt, s_fb, s_fd, s_ft,
    W: tl.constexpr, BLOCK_W: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_T: tl.constexpr,
    HAS_BIAS: tl.constexpr, HAS_S: tl.constexpr, SILU: tl.constexpr, WRITE_FS: tl.constexpr,
):
    pid_b, pid_d, pid_t = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    offs_d = pid_d * BLOCK_D + tl.arange(0, BLOCK_D)
    mask_d = offs_d < dim
    t = pid_t * BLOCK_T + tl.arange(0, BLOCK_T)
    x_b = x_ptr + pid_b * s_xb
    s_b = s_ptr + pid_b * s_sb
    acc = tl.zeros((BLOCK_D, BLOCK_T), dtype=tl.float32)
    for k in tl.static_range(W):
        wk = tl.load(w_ptr + offs_d * s_wd + k * s_wk, mask=mask_d, other=0.0).to(tl.float32)
        pos = t[None, :] + (k - (W - 1))  # output t reads input t - (W-1-k)
        acc += wk[:, None] * _tap(x_b, s_b, pos, offs_d, mask_d, s_xd, s_xt, s_sd, s_st, W, HAS_S, L)
    if HAS_BIAS:
        acc += tl.load(bias_ptr + offs_d, mask=mask_d, other=0.0).to(tl.float32)[:, None]
    if SILU:
        acc = silu(acc)
    tl.store(y_ptr + pid_b * s_yb + offs_d[:, None] * s_yd + t[None, :] * s_yt,
             acc.to(y_ptr.dtype.element_ty), mask=mask_d[:, None] & (t[None, :] < L))
    if WRITE_FS:
        if pid_t == 0:
            j = tl.arange(0, BLOCK_W)
            last = L - (W - 1) + j[None, :]  # the last W-1 positions of (states, x)
            fs = _tap(x_b, s_b, last, offs_d, mask_d, s_xd, s_xt, s_sd, s_st, W, HAS_S, L)
            tl.store(fs_ptr + pid_b * s_fb + offs_d[:, None] * s_fd + j[None, :] * s_ft,
                     fs.to(fs_ptr.dtype.element_ty), mask=mask_d[:, None] & (j[None, :] < W - 1))


def causal_conv1d_triton(x, weight, bias=None, initial_states=None, return_final_states=False, activation=None):
    """Same contract as `ssmdoc.kernels.causal_conv1d`."""
    b, d, L = x.shape
    w = weight.shape[1]
    y = new_output(b, d, L, dtype=x.dtype, device=x.device)
    fs_dtype = x.dtype if initial_states is None else initial_states.dtype
    fs = new_output(b, d, max(w - 1, 0), dtype=fs_dtype, device=x.device) if return_final_states else y
    s = initial_states if initial_states is not None else y  # unread without HAS_S
    block_d = 16 if x.is_cuda else 32
    block_t = 128 if x.is_cuda else 256
    grid = (b, triton.cdiv(d, block_d), max(1, triton.cdiv(L, block_t)))
    _conv_fwd[grid](
        x, weight, bias if bias is not None else weight, s, y, fs, d, L,
        *x.stride(), *weight.stride(), *s.stride(), *y.stride(), *fs.stride(),
        W=w, BLOCK_W=triton.next_power_of_2(max(w - 1, 1)), BLOCK_D=block_d, BLOCK_T=block_t,
        HAS_BIAS=bias is not None, HAS_S=initial_states is not None, SILU=activation == "silu",
        WRITE_FS=bool(return_final_states) and w > 1,
    )
    return (y, fs) if return_final_states else y
