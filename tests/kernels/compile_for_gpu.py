"""Compile every Triton kernel for an H100 (sm_90) without a GPU: Triton's front end, then ptxas.

The interpreter runs kernels as numpy and accepts programs the GPU compiler rejects (e.g. a variable that
changes shape inside an `if`), so this is the only check of the GPU build on a machine without one. The
configurations are the ones the wrappers launch on CUDA at model shapes (keep them in step). Run as a
script with TRITON_INTERPRET unset; exit status 0 when all compile, 1 on a compile error, 3 when this
triton cannot compile for CUDA here (no ptxas): the test then skips.
"""

from __future__ import annotations

import inspect
import os
import sys


def main() -> int:
    os.environ.pop("TRITON_INTERPRET", None)
    try:
        from triton.backends.compiler import GPUTarget
        from triton.compiler import ASTSource
        from triton.compiler import compile as triton_compile
        from triton.compiler.errors import CompilationError
    except ImportError:
        return 3
    from ssmdoc.kernels import triton_conv, triton_scan, triton_ssd, triton_step

    target = GPUTarget("cuda", 90, 32)

    def build(kernel, ptrs, constexprs, floats=(), num_warps=4):
        names = list(inspect.signature(kernel.fn).parameters)
        sig = {nm: ("constexpr" if nm in constexprs else ptrs.get(nm, "fp32" if nm in floats else "i32"))
               for nm in names}
        src = ASTSource(fn=kernel, signature=sig, constexprs={(names.index(k),): v for k, v in constexprs.items()})
        triton_compile(src, target=target, options={"num_warps": num_warps})
        print("compiled", kernel.fn.__name__, {k: v for k, v in constexprs.items() if k.startswith("BLOCK")})

    flags = dict(HAS_D=True, HAS_Z=True)
    try:
        for dt in ("bf16", "fp32"):
            p = {n: f"*{dt}" for n in ("u_ptr", "dt_ptr", "B_ptr", "C_ptr", "z_ptr", "y_ptr")}
            p.update({n: "*fp32" for n in ("A_ptr", "D_ptr", "bias_ptr", "h0_ptr", "hN_ptr")})
            build(triton_scan._scan_fwd, p, dict(NSTATE=16, BLOCK_N=16, BLOCK_D=4, BLOCK_T=32, HAS_BIAS=True,
                                                 SOFTPLUS=True, HAS_H0=True, **flags))
            p = {"x_ptr": f"*{dt}", "w_ptr": "*fp32", "bias_ptr": "*fp32", "s_ptr": f"*{dt}", "y_ptr": f"*{dt}",
                 "fs_ptr": f"*{dt}"}
            build(triton_conv._conv_fwd, p, dict(W=4, BLOCK_W=4, BLOCK_D=16, BLOCK_T=128, HAS_BIAS=True, HAS_S=True,
                                                 SILU=True, WRITE_FS=True))
            p = {"s_ptr": "*fp32", "A_ptr": "*fp32", "D_ptr": "*fp32", "bias_ptr": "*fp32"}
            p.update({n: f"*{dt}" for n in ("x_ptr", "dt_ptr", "B_ptr", "C_ptr", "z_ptr", "y_ptr")})
            for n, bh, bp in ((128, 1, 32), (16, 64, 1)):  # Mamba-2 (h=80, p=64) and Mamba-1 shapes
                build(triton_step._step, p, dict(NSTATE=n, BLOCK_N=n, BLOCK_H=bh, BLOCK_P=bp, HAS_BIAS=True,
                                                 SOFTPLUS=True, **flags))
            p = {"dt_ptr": f"*{dt}", "A_ptr": "*fp32", "bias_ptr": "*fp32", "dt_out": "*fp32", "a_out": "*fp32"}
            build(triton_ssd._chunk_cumsum, p, dict(BLOCK_Q=256, BLOCK_H=16, HAS_BIAS=True, SOFTPLUS=True,
                                                    CLAMP=True), floats=("dt_min", "dt_max"))
            p = {"x_ptr": f"*{dt}", "B_ptr": f"*{dt}", "dt_ptr": "*fp32", "a_ptr": "*fp32", "st_ptr": "*fp32"}
            build(triton_ssd._chunk_state, p, dict(BLOCK_P=64, BLOCK_N=64, BLOCK_S=64, DOT_F32=dt == "fp32"),
                  num_warps=8)
            p = {n: "*fp32" for n in ("st_ptr", "a_ptr", "h0_ptr", "fin_ptr")}
            build(triton_ssd._state_passing, p, dict(BLOCK=1024, HAS_H0=True))
            p = {n: f"*{dt}" for n in ("x_ptr", "B_ptr", "C_ptr", "z_ptr", "y_ptr")}
            p.update({n: "*fp32" for n in ("D_ptr", "dt_ptr", "a_ptr", "st_ptr")})
            tile = 32 if dt == "fp32" else 64
            build(triton_ssd._chunk_scan, p, dict(BLOCK_T=tile, BLOCK_S=tile, BLOCK_P=tile, BLOCK_N=128,
                                                  DOT_F32=dt == "fp32", **flags), num_warps=8)
    except CompilationError as err:
        print(err, file=sys.stderr)
        return 1
    except (FileNotFoundError, RuntimeError) as err:  # no ptxas / no CUDA toolchain in this triton
        if "ptxas" in str(err).lower() or isinstance(err, FileNotFoundError):
            print(f"cannot compile for CUDA here: {err}", file=sys.stderr)
            return 3
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
