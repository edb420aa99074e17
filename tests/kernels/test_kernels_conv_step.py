"""causal_conv1d and selective_state_update, torch and Triton paths, against the float64 references."""

from __future__ import annotations

import pytest
import torch

from kernel_cases import BACKENDS, DEVICES, TOL, generator, on, randn, rel_l2
from ssmdoc.kernels import causal_conv1d, selective_scan, selective_state_update
from ssmdoc.kernels.reference import causal_conv1d_ref, selective_state_update_ref

CONV_CASES = [  # (batch, dim, width, length, initial states, bias, silu)
    (2, 8, 4, 1, True, True, True),
    (2, 8, 4, 2, True, False, False),
    (1, 16, 4, 7, False, True, True),
    (1, 40, 3, 129, True, True, False),
    (2, 8, 4, 1000, True, True, True),
    (1, 8, 2, 300, False, False, True),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "b{}d{}w{}L{}s{}bias{}silu{}".format(*c))
def test_conv_matches_reference(backend, device, dtype, case):
    b, d, w, L, use_s, use_bias, use_silu = case
    gen = generator("conv", backend, str(dtype), case)
    x, s0 = on(device, dtype, randn(gen, b, d, L), randn(gen, b, d, w - 1))
    weight, bias = on(device, None, randn(gen, d, w, scale=0.5), randn(gen, d))
    kw = dict(bias=bias if use_bias else None, initial_states=s0 if use_s else None,
              return_final_states=True, activation="silu" if use_silu else None)
    y, fs = causal_conv1d(x, weight, backend=backend, **kw)
    cpu = {k: (v.cpu() if torch.is_tensor(v) else v) for k, v in kw.items()}
    y_ref, fs_ref = causal_conv1d_ref(x.cpu(), weight.cpu(), **cpu)
    assert y.dtype == dtype and fs.shape == (b, d, w - 1)
    assert rel_l2(y, y_ref) <= TOL[dtype]
    assert rel_l2(fs, fs_ref) <= TOL[dtype]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_conv_streaming_in_pieces_equals_one_pass(backend, device):
    gen = generator("conv-cuts", backend)
    x, weight, bias = on(device, None, randn(gen, 1, 8, 300), randn(gen, 8, 4), randn(gen, 8))
    y_ref = causal_conv1d_ref(x.cpu(), weight.cpu(), bias.cpu(), activation="silu")
    state, pieces = None, []
    for s, e in [(0, 1), (1, 3), (3, 256), (256, 300)]:  # pieces shorter than the width included
        y, state = causal_conv1d(x[..., s:e], weight, bias, state, True, "silu", backend=backend)
        pieces.append(y)
    assert rel_l2(torch.cat(pieces, -1), y_ref) <= TOL[torch.float32]


def mamba1_step_inputs(gen, b, d, n, groups):
    bc = (b, groups, n) if groups else (b, n)
    return dict(state=randn(gen, b, d, n), x=randn(gen, b, d), dt=randn(gen, b, d, scale=0.5, shift=-1.0),
                A=-torch.exp(randn(gen, d, n, scale=0.5)), B=randn(gen, *bc), C=randn(gen, *bc),
                D=randn(gen, d), z=randn(gen, b, d), dt_bias=randn(gen, d, scale=0.2))


def mamba2_step_inputs(gen, b, h, p, n, groups, d_per_dim):
    return dict(state=randn(gen, b, h, p, n), x=randn(gen, b, h, p), dt=randn(gen, b, h, scale=0.5, shift=-1.0),
                A=-torch.exp(randn(gen, h, scale=0.5)), B=randn(gen, b, groups, n), C=randn(gen, b, groups, n),
                D=randn(gen, h, p) if d_per_dim else randn(gen, h), z=randn(gen, b, h, p),
                dt_bias=randn(gen, h, scale=0.2))


STEP_CASES = [
    ("mamba1", (2, 16, 4, 0)), ("mamba1", (1, 24, 16, 3)),
    ("mamba2", (2, 4, 8, 16, 1, False)), ("mamba2", (1, 6, 4, 5, 3, True)),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "plain"])
@pytest.mark.parametrize("kind,dims", STEP_CASES, ids=lambda v: str(v))
def test_state_update_matches_reference(backend, device, dtype, fused, kind, dims):
    gen = generator("step", backend, str(dtype), fused, kind, dims)
    inp = (mamba1_step_inputs if kind == "mamba1" else mamba2_step_inputs)(gen, *dims)
    if not fused:
        inp.update(D=None, z=None, dt_bias=None)
    x, dt, B, C, z = on(device, dtype, inp["x"], inp["dt"], inp["B"], inp["C"], inp["z"])
    state, A, D, bias = on(device, None, inp["state"], inp["A"], inp["D"], inp["dt_bias"])
    y_ref, s_ref = selective_state_update_ref(state.cpu(), x.cpu(), dt.cpu(), A.cpu(), B.cpu(), C.cpu(),
                                              *[None if t is None else t.cpu() for t in (D, z, bias)], True)
    y = selective_state_update(state, x, dt, A, B, C, D, z, bias, True, backend=backend)
    assert y.dtype == dtype and state.dtype == torch.float32
    assert rel_l2(y, y_ref) <= TOL[dtype]
    assert rel_l2(state, s_ref) <= TOL[dtype]  # advanced in place


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_decode_steps_continue_a_prefill_scan(backend, device):
    """Prefill 20 tokens with the scan, decode 5 with the step: same as scanning all 25 tokens."""
    gen = generator("prefill-decode", backend)
    b, d, n, L = 2, 8, 4, 25
    u, delta, B, C, z = on(device, None, *(randn(gen, b, d, L), randn(gen, b, d, L, shift=-1.0),
                                           randn(gen, b, n, L), randn(gen, b, n, L), randn(gen, b, d, L)))
    A, D = on(device, None, -torch.exp(randn(gen, d, n, scale=0.5)), randn(gen, d))
    full = selective_scan(u, delta, A, B, C, D, z, None, True, backend=backend)
    y0, state = selective_scan(u[..., :20], delta[..., :20], A, B[..., :20], C[..., :20], D, z[..., :20],
                               None, True, None, True, backend=backend)
    ys = [y0] + [selective_state_update(state, u[..., t], delta[..., t], A, B[..., t], C[..., t], D, z[..., t],
                                        None, True, backend=backend)[..., None] for t in range(20, 25)]
    assert rel_l2(torch.cat(ys, -1), full) <= TOL[torch.float32]


def test_unknown_activation_is_a_value_error():
    with pytest.raises(ValueError):
        causal_conv1d(torch.zeros(1, 2, 3), torch.zeros(2, 4), activation="relu")
