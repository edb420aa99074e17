"""ssd_scan (Mamba-2), torch and Triton paths, against the float64 sequential reference."""

from __future__ import annotations

import pytest
import torch

from kernel_cases import BACKENDS, DEVICES, TOL, generator, on, randn, rel_l2
from ssmdoc.kernels import ssd_scan
from ssmdoc.kernels.reference import ssd_scan_ref


def make_inputs(gen, b, L, h, p, g, n, d_per_dim=False):
    return dict(
        x=randn(gen, b, L, h, p), dt=randn(gen, b, L, h, scale=0.5, shift=-1.0),
        A=-torch.exp(randn(gen, h, scale=0.5)), B=randn(gen, b, L, g, n), C=randn(gen, b, L, g, n),
        D=randn(gen, h, p) if d_per_dim else randn(gen, h), z=randn(gen, b, L, h, p),
        dt_bias=randn(gen, h, scale=0.2), initial_states=randn(gen, b, h, p, n),
    )


def run(backend, device, dtype, inp, chunk, use_h0=True, fused=True):
    x, dt, B, C, z = on(device, dtype, inp["x"], inp["dt"], inp["B"], inp["C"], inp["z"])
    A, D, bias, h0 = on(device, None, inp["A"], inp["D"], inp["dt_bias"], inp["initial_states"])
    kw = dict(D=D if fused else None, z=z if fused else None, dt_bias=bias if fused else None,
              initial_states=h0 if use_h0 else None, dt_softplus=True,
              dt_limit=(0.0, 1.5) if fused else (0.0, float("inf")), return_final_states=True)
    out = ssd_scan(x, dt, A, B, C, chunk, backend=backend, **kw)
    cpu = {k: (v.cpu() if torch.is_tensor(v) else v) for k, v in kw.items()}
    ref = ssd_scan_ref(x.cpu(), dt.cpu(), A.cpu(), B.cpu(), C.cpu(), chunk, **cpu)
    return out, ref


CASES = [  # (batch, length, heads, head_dim, groups, state, chunk, initial states, fused D/z/bias/limit)
    (2, 1, 4, 8, 1, 4, 16, True, True),
    (1, 7, 4, 8, 2, 8, 16, False, True),
    (1, 129, 4, 4, 2, 16, 32, True, False),
    (1, 1000, 2, 8, 1, 8, 256, True, True),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: "b{}L{}h{}p{}g{}n{}Q{}h0{}f{}".format(*c))
def test_matches_reference_fp32(backend, device, case):
    b, L, h, p, g, n, Q, use_h0, fused = case
    inp = make_inputs(generator("ssd", backend, case), b, L, h, p, g, n, d_per_dim=(L == 129))
    (y, s), (y_ref, s_ref) = run(backend, device, torch.float32, inp, Q, use_h0, fused)
    assert y.dtype == torch.float32 and s.dtype == torch.float32 and s.shape == (b, h, p, n)
    assert rel_l2(y, y_ref) <= TOL[torch.float32]
    assert rel_l2(s, s_ref) <= TOL[torch.float32]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_half_inputs_keep_float32_state(backend, device, dtype):
    inp = make_inputs(generator("ssd-half", backend, str(dtype)), 1, 129, 4, 16, 2, 16)
    (y, s), (y_ref, s_ref) = run(backend, device, dtype, inp, 64)
    assert y.dtype == dtype and s.dtype == torch.float32
    assert rel_l2(y, y_ref) <= TOL[dtype]
    assert rel_l2(s, s_ref) <= TOL[dtype]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cuts", [(64,), (63, 130)], ids=str)
def test_streaming_in_pieces_equals_one_pass(backend, device, cuts):
    """Cut on and beside chunk boundaries, carry the state: the same output as one pass."""
    b, L, h, p, g, n, Q = 1, 200, 2, 8, 1, 8, 64
    inp = make_inputs(generator("ssd-cuts", backend, cuts), b, L, h, p, g, n)
    _, (y_ref, s_ref) = run("torch", "cpu", torch.float32, inp, Q)
    bounds = [0, *cuts, L]
    state, pieces = inp["initial_states"], []
    for s0, s1 in zip(bounds[:-1], bounds[1:]):
        part = {k: (v[:, s0:s1] if k in ("x", "dt", "B", "C", "z") else v) for k, v in inp.items()}
        part["initial_states"] = state
        (y, state), _ = run(backend, device, torch.float32, part, Q)
        pieces.append(y)
    assert rel_l2(torch.cat(pieces, dim=1), y_ref) <= TOL[torch.float32]
    assert rel_l2(state, s_ref) <= TOL[torch.float32]


@pytest.mark.parametrize("backend", BACKENDS)
def test_chunk_size_does_not_change_the_result(backend):
    inp = make_inputs(generator("ssd-chunk", backend), 1, 100, 2, 8, 1, 8)
    (y16, s16), (y_ref, _) = run(backend, "cpu", torch.float32, inp, 16)
    (y64, s64), _ = run(backend, "cpu", torch.float32, inp, 64)
    assert rel_l2(y16, y_ref) <= TOL[torch.float32] and rel_l2(y64, y_ref) <= TOL[torch.float32]
    assert rel_l2(s16, s64) <= TOL[torch.float32]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
def test_state_wider_than_one_tile(device, dtype):
    """d_state 300 > the kernel's 256-wide state tile: split into slices, not truncated (before the split the
    interpreter gave a relative error of 0.37 here)."""
    b, L, h, p, g, n, Q = 1, 40, 2, 4, 1, 300, 16
    inp = make_inputs(generator("ssd-wide", str(dtype)), b, L, h, p, g, n)
    (y, s), (y_ref, s_ref) = run("triton", device, dtype, inp, Q)
    assert s.shape == (b, h, p, n) and y.dtype == dtype
    assert rel_l2(y, y_ref) <= TOL[dtype]
    assert rel_l2(s, s_ref) <= TOL[torch.float32]
