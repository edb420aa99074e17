"""selective_scan (Mamba-1), torch and Triton paths, against the float64 sequential reference."""

from __future__ import annotations

import pytest
import torch

from kernel_cases import BACKENDS, DEVICES, TOL, generator, on, randn, rel_l2
from ssmdoc.kernels import selective_scan
from ssmdoc.kernels.reference import selective_scan_ref


def make_inputs(gen, b, d, n, L, groups, steep=1.0):
    """Mamba-like magnitudes: delta = softplus(raw + bias) around 0.1-1, A = -exp(A_log)."""
    bc_shape = (b, groups, n, L) if groups else (b, n, L)
    return dict(
        u=randn(gen, b, d, L), delta=randn(gen, b, d, L, scale=0.5, shift=-1.0),
        A=-torch.exp(randn(gen, d, n, scale=0.5)) * steep,
        B=randn(gen, *bc_shape), C=randn(gen, *bc_shape), D=randn(gen, d), z=randn(gen, b, d, L),
        delta_bias=randn(gen, d, scale=0.2), initial_state=randn(gen, b, d, n),
    )


def run(backend, device, dtype, inp, use_h0=True, fused=True, **kw):
    """The op on `device`, data inputs in `dtype`; returns (out, last_state) and the float64 reference."""
    u, delta, B, C, z = on(device, dtype, inp["u"], inp["delta"], inp["B"], inp["C"], inp["z"])
    A, D, bias, h0 = on(device, None, inp["A"], inp["D"], inp["delta_bias"], inp["initial_state"])
    args = dict(D=D if fused else None, z=z if fused else None, delta_bias=bias if fused else None,
                delta_softplus=True, initial_state=h0 if use_h0 else None, return_last_state=True)
    out = selective_scan(u, delta, A, B, C, backend=backend, **args, **kw)
    cpu = {k: (v.cpu() if torch.is_tensor(v) else v) for k, v in args.items()}
    ref = selective_scan_ref(u.cpu(), delta.cpu(), A.cpu(), B.cpu(), C.cpu(), **cpu)
    return out, ref


CASES = [  # (batch, dim, state, length, groups, initial state, fused D/z/bias)
    (2, 8, 4, 1, 0, True, True),
    (2, 8, 4, 7, 0, False, True),
    (1, 16, 16, 129, 2, True, True),
    (1, 12, 5, 129, 3, False, False),
    (2, 16, 8, 1000, 0, True, True),
    (1, 8, 16, 1000, 2, False, True),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: "b{}d{}n{}L{}g{}h0{}f{}".format(*c))
def test_matches_reference_fp32(backend, device, case):
    b, d, n, L, g, use_h0, fused = case
    inp = make_inputs(generator("scan", backend, case), b, d, n, L, g)
    (y, h), (y_ref, h_ref) = run(backend, device, torch.float32, inp, use_h0, fused)
    assert y.dtype == torch.float32 and h.dtype == torch.float32
    assert rel_l2(y, y_ref) <= TOL[torch.float32]
    assert rel_l2(h, h_ref) <= TOL[torch.float32]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_half_inputs_keep_float32_state(backend, device, dtype):
    inp = make_inputs(generator("scan-half", backend, str(dtype)), 2, 8, 8, 129, 2)
    (y, h), (y_ref, h_ref) = run(backend, device, dtype, inp)
    assert y.dtype == dtype and h.dtype == torch.float32
    assert rel_l2(y, y_ref) <= TOL[dtype]
    assert rel_l2(h, h_ref) <= TOL[dtype]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cuts", [(1,), (16, 17), (32, 64, 256), (100, 257)], ids=str)
def test_streaming_in_pieces_equals_one_pass(backend, device, cuts):
    """Cut the sequence (at and beside the internal block sizes), carry the state: same output as one pass."""
    b, d, n, L = 1, 8, 4, 300
    inp = make_inputs(generator("scan-cuts", backend, cuts), b, d, n, L, 0)
    (y_full, h_full), (y_ref, h_ref) = run(backend, device, torch.float32, inp)
    bounds = [0, *cuts, L]
    h, pieces = inp["initial_state"].to(device), []
    for s, e in zip(bounds[:-1], bounds[1:]):
        part = {k: (v[..., s:e] if k in ("u", "delta", "B", "C", "z") else v) for k, v in inp.items()}
        part["initial_state"] = h
        (y, h), _ = run(backend, device, torch.float32, part)
        pieces.append(y)
    assert rel_l2(torch.cat(pieces, dim=-1), y_ref) <= TOL[torch.float32]
    assert rel_l2(h, h_ref) <= TOL[torch.float32]
    assert rel_l2(y_full, y_ref) <= TOL[torch.float32]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("steep", [3.0, 40.0], ids=["shorter-sub-blocks", "log-depth-fallback"])
def test_steep_decay_does_not_overflow(backend, device, steep):
    """|delta * A| of ~1 and of tens per step: the torch path must shorten or leave its closed form."""
    inp = make_inputs(generator("scan-steep", backend, steep), 1, 8, 8, 200, 0, steep=steep)
    (y, h), (y_ref, h_ref) = run(backend, device, torch.float32, inp)
    assert rel_l2(y, y_ref) <= TOL[torch.float32]
    assert rel_l2(h, h_ref) <= TOL[torch.float32]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_strided_inputs_as_the_engine_passes_them(backend, device):
    """x and z as halves of one projection, B and C transposed from (b, L, n): no copies required."""
    gen = generator("scan-strided", backend)
    b, d, n, L = 2, 8, 4, 70
    xz = randn(gen, b, L, 2 * d).to(device).transpose(1, 2)  # (b, 2d, L), stride 2d along L
    u, z = xz.chunk(2, dim=1)
    delta = randn(gen, b, L, d, shift=-1.0).to(device).transpose(1, 2)
    B, C = (randn(gen, b, L, n).to(device).transpose(1, 2) for _ in range(2))
    A = -torch.exp(randn(gen, d, n, scale=0.5)).to(device)
    y, h = selective_scan(u, delta, A, B, C, None, z, None, True, None, True, backend=backend)
    y_ref, h_ref = selective_scan_ref(*(t.cpu() for t in (u, delta, A, B, C)), None, z.cpu(), None, True, None, True)
    assert rel_l2(y, y_ref) <= TOL[torch.float32]
    assert rel_l2(h, h_ref) <= TOL[torch.float32]


def test_without_last_state_returns_only_the_output():
    inp = make_inputs(generator("scan-plain"), 1, 4, 4, 5, 0)
    y = selective_scan(inp["u"], inp["delta"], inp["A"], inp["B"], inp["C"], backend="torch")
    assert torch.is_tensor(y) and y.shape == (1, 4, 5)


def test_unknown_backend_is_a_value_error():
    inp = make_inputs(generator("scan-backend"), 1, 4, 4, 5, 0)
    with pytest.raises(ValueError):
        selective_scan(inp["u"], inp["delta"], inp["A"], inp["B"], inp["C"], backend="cuda")


def test_steep_channels_fall_back_alone(monkeypatch):
    """Half the channels decay steeply, half gently: the torch path keeps the closed form for the gentle ones
    and runs only the steep channels through the log-depth scan; both halves match the reference."""
    import ssmdoc.kernels.torch_scan as ts

    inp = make_inputs(generator("scan-mixed", "torch", 1.0), 1, 16, 8, 300, 0)
    inp["A"][8:] *= 60.0  # channels 8..15: |delta * A| of tens per step
    seen = []
    real = ts._chunk_log_depth
    monkeypatch.setattr(ts, "_chunk_log_depth", lambda E, *a: seen.append(E.shape[2]) or real(E, *a))
    (y, h), (y_ref, h_ref) = run("torch", "cpu", torch.float32, inp)
    assert seen and set(seen) == {8}  # only the 8 steep channels, every chunk
    assert rel_l2(y, y_ref) <= TOL[torch.float32]
    assert rel_l2(h, h_ref) <= TOL[torch.float32]
    assert rel_l2(y[:, :8], y_ref[:, :8]) <= TOL[torch.float32]
