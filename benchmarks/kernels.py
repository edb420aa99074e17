"""Benchmark the Triton kernels on a CUDA GPU against the memory-bandwidth limit.

    python benchmarks/kernels.py [--out benchmarks/results] [--lengths 4096,16384,65536,262144] [--quick]
    python benchmarks/kernels.py --cpu     # the torch path on CPU at the CPU engine's shapes, L = 16384

First it measures the device's copy bandwidth (a large device-to-device copy), then for each case: the median
time (triton.testing.do_bench), the minimum bytes the op must move (each input read once, each output
written once), the achieved GB/s and its fraction of the copy bandwidth, and the torch path's time on the
same inputs (up to --torch-max-len). With mamba-ssm importable, its `mamba_chunk_scan_combined` runs on the
SSD cases side by side. Writes <out>/kernels.json and <out>/kernels.md. Without CUDA it exits with a message.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
from pathlib import Path

import torch


def bench(fn, reps_ms: int = 200) -> float:
    """Median milliseconds of fn() on the GPU."""
    from triton.testing import do_bench

    return float(do_bench(fn, warmup=25, rep=reps_ms, return_mode="median"))


def copy_bandwidth_gbs() -> float:
    src = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")  # 1 GiB
    dst = torch.empty_like(src)
    ms = bench(lambda: dst.copy_(src))
    return 2 * src.numel() / (ms * 1e-3) / 1e9  # read + write


def mamba1_case(dim, L, n=16, batch=1, dtype=torch.bfloat16):
    g = torch.Generator(device="cuda").manual_seed(0)
    r = lambda *s: torch.randn(*s, device="cuda", dtype=dtype, generator=g)  # noqa: E731
    inp = dict(u=r(batch, dim, L), delta=r(batch, dim, L), B=r(batch, n, L), C=r(batch, n, L), z=r(batch, dim, L),
               A=-torch.rand(dim, n, device="cuda") * 4, D=torch.randn(dim, device="cuda"),
               delta_bias=torch.randn(dim, device="cuda") * 0.1)
    esize = torch.tensor([], dtype=dtype).element_size()
    nbytes = (4 * batch * dim * L + 2 * batch * n * L) * esize + dim * n * 4  # u, delta, z, y; B, C; A
    return inp, nbytes


def run_mamba1(inp, backend):
    from ssmdoc.kernels import selective_scan

    return lambda: selective_scan(inp["u"], inp["delta"], inp["A"], inp["B"], inp["C"], inp["D"], inp["z"],
                                  inp["delta_bias"], True, None, True, backend=backend)


def ssd_case(L, h=80, p=64, n=128, g=1, batch=1, dtype=torch.bfloat16):
    gen = torch.Generator(device="cuda").manual_seed(0)
    r = lambda *s: torch.randn(*s, device="cuda", dtype=dtype, generator=gen)  # noqa: E731
    inp = dict(x=r(batch, L, h, p), dt=r(batch, L, h), B=r(batch, L, g, n), C=r(batch, L, g, n),
               z=r(batch, L, h, p), A=-torch.rand(h, device="cuda") * 4, D=torch.randn(h, device="cuda"),
               dt_bias=torch.randn(h, device="cuda") * 0.1)
    esize = torch.tensor([], dtype=dtype).element_size()
    nbytes = (3 * batch * L * h * p + batch * L * h + 2 * batch * L * g * n) * esize  # x, z, y; dt; B, C
    return inp, nbytes


def run_ssd(inp, backend, chunk=256):
    from ssmdoc.kernels import ssd_scan

    return lambda: ssd_scan(inp["x"], inp["dt"], inp["A"], inp["B"], inp["C"], chunk, inp["D"], inp["z"],
                            inp["dt_bias"], None, True, return_final_states=True, backend=backend)


def run_mamba_ssm(inp, chunk=256):
    try:
        from mamba_ssm.ops.triton.ssd_combined import mamba_chunk_scan_combined
    except Exception:
        return None
    return lambda: mamba_chunk_scan_combined(inp["x"], inp["dt"], inp["A"], inp["B"], inp["C"], chunk, D=inp["D"],
                                             z=inp["z"], dt_bias=inp["dt_bias"], dt_softplus=True,
                                             return_final_states=True)


def conv_case(dim, L, w=4, batch=1, dtype=torch.bfloat16):
    x = torch.randn(batch, dim, L, device="cuda", dtype=dtype)
    weight = torch.randn(dim, w, device="cuda")
    esize = torch.tensor([], dtype=dtype).element_size()
    return dict(x=x, weight=weight, bias=torch.randn(dim, device="cuda")), 2 * batch * dim * L * esize


def run_conv(inp, backend):
    from ssmdoc.kernels import causal_conv1d

    return lambda: causal_conv1d(inp["x"], inp["weight"], inp["bias"], None, True, "silu", backend=backend)


def step_case(batch, h=80, p=64, n=128, g=1, dtype=torch.bfloat16):
    dev = "cuda"
    inp = dict(state=torch.randn(batch, h, p, n, device=dev), x=torch.randn(batch, h, p, device=dev, dtype=dtype),
               dt=torch.randn(batch, h, device=dev, dtype=dtype), A=-torch.rand(h, device=dev),
               B=torch.randn(batch, g, n, device=dev, dtype=dtype), C=torch.randn(batch, g, n, device=dev, dtype=dtype),
               D=torch.randn(h, device=dev), z=torch.randn(batch, h, p, device=dev, dtype=dtype),
               dt_bias=torch.randn(h, device=dev))
    return inp, 2 * batch * h * p * n * 4  # the float32 state, read and written


def run_step(inp, backend):
    from ssmdoc.kernels import selective_state_update

    return lambda: selective_state_update(inp["state"], inp["x"], inp["dt"], inp["A"], inp["B"], inp["C"], inp["D"],
                                          inp["z"], inp["dt_bias"], True, backend=backend)


def measure(name, shape, inp, nbytes, make, copy_gbs, torch_ok, extra=None):
    ms = bench(make(inp, "triton"))
    row = dict(op=name, shape=shape, ms=ms, min_bytes=nbytes, gbs=nbytes / (ms * 1e-3) / 1e9)
    row["frac_copy_bw"] = row["gbs"] / copy_gbs
    row["torch_ms"] = bench(make(inp, "torch"), reps_ms=100) if torch_ok else None
    if extra is not None:
        row["mamba_ssm_ms"] = bench(extra)
    print(json.dumps(row), flush=True)
    return row


def markdown(meta, rows) -> str:
    out = [f"Device: {meta['device']}; date {meta['date']}; commit {meta['commit']}; torch {meta['torch']}, "
           f"triton {meta['triton']}. Copy bandwidth measured in the same run: {meta['copy_gbs']:.0f} GB/s.", "",
           "| op | shape | Triton ms | min bytes (MB) | GB/s | of copy BW | torch ms | mamba-ssm ms |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        t = f"{r['torch_ms']:.3f}" if r.get("torch_ms") is not None else "-"
        m = f"{r['mamba_ssm_ms']:.3f}" if r.get("mamba_ssm_ms") is not None else "-"
        out.append(f"| {r['op']} | {r['shape']} | {r['ms']:.3f} | {r['min_bytes'] / 1e6:.1f} | {r['gbs']:.0f} | "
                   f"{r['frac_copy_bw']:.0%} | {t} | {m} |")
    if meta.get("decode_note"):
        out += ["", f"Decode: {meta['decode_note']}."]
    return "\n".join(out) + "\n"


def cpu_torch_timings(L: int, repeats: int = 5) -> list[dict]:
    """The torch path on CPU at the CPU engine's shapes (the random Jamba of the engine goal: d_inner 512)."""
    import time

    from ssmdoc.kernels import causal_conv1d, selective_scan, ssd_scan

    g = torch.Generator().manual_seed(0)
    r = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    d, n, h, p = 512, 16, 16, 64
    # Mamba's initialisation: A = -(1..n) per channel, dt = softplus(raw + bias) log-uniform in [1e-3, 1e-1]
    dt0 = torch.exp(torch.rand(d, generator=g) * (torch.log(torch.tensor(0.1)) - torch.log(torch.tensor(1e-3)))
                    + torch.log(torch.tensor(1e-3)))
    bias = dt0 + torch.log(-torch.expm1(-dt0))  # inverse softplus
    cases = [
        ("selective_scan", f"b=1 d={d} n={n} L={L} fp32, Mamba init",
         lambda u=r(1, d, L), dl=r(1, d, L) * 0.1, A=-torch.arange(1, n + 1.0).repeat(d, 1), B=r(1, n, L),
         C=r(1, n, L), z=r(1, d, L), D=r(d):
         selective_scan(u, dl, A, B, C, D, z, bias, True, None, True, backend="torch")),
        ("ssd_scan", f"b=1 h={h} p={p} n=128 g=1 Q=256 L={L} fp32",
         lambda x=r(1, L, h, p), dt=r(1, L, h) * 0.5 - 2, A=-torch.rand(h) * 4, B=r(1, L, 1, 128), C=r(1, L, 1, 128):
         ssd_scan(x, dt, A, B, C, 256, dt_softplus=True, return_final_states=True, backend="torch")),
        ("causal_conv1d", f"b=1 d={d} w=4 L={L} fp32",
         lambda x=r(1, d, L), w=r(d, 4): causal_conv1d(x, w, None, None, True, "silu", backend="torch")),
    ]
    rows = []
    for op, shape, fn in cases:
        fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        times.sort()
        rows.append(dict(op=op, shape=shape, min_s=times[0], median_s=times[len(times) // 2],
                         threads=torch.get_num_threads()))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--lengths", default="4096,16384,65536,262144")
    ap.add_argument("--torch-max-len", type=int, default=16384, help="time the torch path up to this length")
    ap.add_argument("--quick", action="store_true", help="one length per op, for a smoke run")
    ap.add_argument("--cpu", action="store_true", help="time the torch path on CPU instead (no GPU needed)")
    args = ap.parse_args(argv)
    if args.cpu:
        cpu_torch_timings(int(args.lengths.split(",")[1 if "," in args.lengths else 0]))
        return 0
    if not torch.cuda.is_available():
        print("benchmarks/kernels.py needs a CUDA GPU; none is visible here, so nothing was measured.",
              file=sys.stderr)
        return 1
    lengths = [int(v) for v in args.lengths.split(",")][: 1 if args.quick else None]
    import triton

    copy_gbs = copy_bandwidth_gbs()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    meta = dict(device=torch.cuda.get_device_name(), date=datetime.date.today().isoformat(), commit=commit or "?",
                torch=torch.__version__, triton=triton.__version__, host=platform.node(), copy_gbs=copy_gbs)
    print(json.dumps(meta), flush=True)
    rows = []
    for dim in (4096, 8192):
        for L in lengths:
            inp, nb = mamba1_case(dim, L)
            rows.append(measure("selective_scan", f"d={dim} n=16 L={L}", inp, nb, run_mamba1, copy_gbs,
                                L <= args.torch_max_len))
            del inp
    for L in lengths:
        inp, nb = ssd_case(L)
        rows.append(measure("ssd_scan", f"h=80 p=64 n=128 g=1 Q=256 L={L}", inp, nb, run_ssd, copy_gbs,
                            L <= args.torch_max_len, run_mamba_ssm(inp)))
        del inp
    for L in lengths:
        inp, nb = conv_case(8192, L)
        rows.append(measure("causal_conv1d", f"d=8192 w=4 L={L}", inp, nb, run_conv, copy_gbs, True))
    for batch in (1, 16):
        inp, nb = step_case(batch)
        rows.append(measure("state_update", f"b={batch} h=80 p=64 n=128", inp, nb, run_step, copy_gbs, True))
    # Decode goal: a model step of a 3B-class Mamba-2 (64 layers, ~2.7e9 bf16 weights) should be weight-bound.
    weights_ms = 2.7e9 * 2 / (copy_gbs * 1e9) * 1e3
    step_b1 = next(r for r in rows if r["op"] == "state_update")
    meta["decode_note"] = (f"64 layers x state update (b=1) = {64 * step_b1['ms']:.3f} ms vs reading 2.7e9 bf16 "
                           f"weights at copy bandwidth = {weights_ms:.3f} ms")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "kernels.json").write_text(json.dumps(dict(meta=meta, rows=rows), indent=1))
    (out / "kernels.md").write_text(markdown(meta, rows))
    print(markdown(meta, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
