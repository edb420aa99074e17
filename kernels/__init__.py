"""The SSM ops of ssmdoc: selective_scan (Mamba-1), ssd_scan (Mamba-2), causal_conv1d, selective_state_update.

Names, arguments and shapes follow mamba-ssm / causal-conv1d so a user can switch. Every op has a torch path
(vectorised and chunked: the CPU engine) and a Triton path (GPU; also runs on CPU tensors under
TRITON_INTERPRET=1, which is how the tests exercise it), held together by float64 sequential references in
`ssmdoc.kernels.reference`. `backend="auto"` picks Triton for CUDA tensors when triton imports, torch otherwise.
States are float32; outputs come back in the input's dtype. A wrong argument (an unknown backend or
activation, triton asked for where it cannot run) is a ValueError: these are programming errors.
"""

from __future__ import annotations

import functools
import os

import torch

from .torch_conv import causal_conv1d_torch, selective_state_update_torch
from .torch_scan import selective_scan_torch
from .torch_ssd import ssd_scan_torch

__all__ = ["selective_scan", "ssd_scan", "causal_conv1d", "selective_state_update", "BACKENDS"]

BACKENDS = ("auto", "torch", "triton")


@functools.cache
def triton_available() -> bool:
    try:
        import triton  # noqa: F401
    except Exception:  # ImportError, or a broken install that fails while loading its driver
        return False
    return True


def _resolve(backend: str, x: torch.Tensor) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"unknown kernel backend {backend!r}; use one of: {', '.join(BACKENDS)}")
    if backend == "auto":
        return "triton" if x.is_cuda and triton_available() else "torch"
    if backend == "triton":
        if not triton_available():
            raise ValueError("the triton kernel backend was asked for, but triton is not installed "
                             "(pip install triton, or use backend='torch')")
        if not x.is_cuda and os.environ.get("TRITON_INTERPRET") != "1":
            raise ValueError("the triton kernel backend needs CUDA tensors (on CPU use the torch backend, or set "
                             "TRITON_INTERPRET=1 to debug kernels)")
    return backend


def selective_scan(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                   initial_state=None, return_last_state=False, backend="auto"):
    """Mamba-1 selective scan, optionally starting from `initial_state`.

    Args:
        u, delta, z: (batch, dim, length). A: (dim, state). B, C: (batch, state, length) or grouped
        (batch, groups, state, length). D, delta_bias: (dim,). initial_state: (batch, dim, state).
    Returns:
        out (batch, dim, length) in u's dtype; with return_last_state also the last state (batch, dim, state),
        float32.
    """
    args = (u, delta, A, B, C, D, z, delta_bias, delta_softplus, initial_state, return_last_state)
    if _resolve(backend, u) == "triton":
        from .triton_scan import selective_scan_triton
        return selective_scan_triton(*args)
    return selective_scan_torch(*args)


def ssd_scan(x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None, dt_softplus=False,
             dt_limit=(0.0, float("inf")), return_final_states=False, backend="auto"):
    """Mamba-2 (SSD) chunked scan, optionally starting from `initial_states`.

    Args:
        x, z: (batch, length, heads, head_dim). dt: (batch, length, heads). A: (heads,).
        B, C: (batch, length, groups, state). D: (heads,) or (heads, head_dim). dt_bias: (heads,).
        initial_states: (batch, heads, head_dim, state).
    Returns:
        out like x; with return_final_states also the final states (batch, heads, head_dim, state), float32.
    """
    args = (x, dt, A, B, C, chunk_size, D, z, dt_bias, initial_states, dt_softplus, dt_limit, return_final_states)
    if _resolve(backend, x) == "triton":
        from .triton_ssd import ssd_scan_triton
        return ssd_scan_triton(*args)
    return ssd_scan_torch(*args)


def causal_conv1d(x, weight, bias=None, initial_states=None, return_final_states=False, activation=None,
                  backend="auto"):
    """Depthwise causal conv1d. x: (batch, dim, length); weight: (dim, width); states: (batch, dim, width-1).

    Returns out like x; with return_final_states also the last width-1 inputs (batch, dim, width-1).
    """
    if activation not in (None, "silu", "swish"):
        raise ValueError(f"unknown activation {activation!r} for causal_conv1d; use None or 'silu'")
    activation = "silu" if activation == "swish" else activation
    args = (x, weight, bias, initial_states, return_final_states, activation)
    if _resolve(backend, x) == "triton":
        from .triton_conv import causal_conv1d_triton
        return causal_conv1d_triton(*args)
    return causal_conv1d_torch(*args)


def selective_state_update(state, x, dt, A, B, C, D=None, z=None, dt_bias=None, dt_softplus=False,
                           backend="auto"):
    """One decode step: advances `state` in place and returns y, in x's dtype.

    Mamba-1: state (batch, dim, n), x/dt/z (batch, dim), A (dim, n), B/C (batch, n).
    Mamba-2: state (batch, heads, head_dim, n), x/z (batch, heads, head_dim), dt (batch, heads), A (heads,),
    B/C (batch, groups, n).
    """
    args = (state, x, dt, A, B, C, D, z, dt_bias, dt_softplus)
    if _resolve(backend, x) == "triton":
        from .triton_step import selective_state_update_triton
        return selective_state_update_triton(*args)
    return selective_state_update_torch(*args)
