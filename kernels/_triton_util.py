"""Small Triton helpers shared by the kernels (elementwise, float32 in and out)."""

import triton
import triton.language as tl


@triton.jit
def softplus(x):
    # log(1 + e^x) without overflow for large x, and without 1 + tiny rounding to 1 for very negative x
    return tl.where(x > 20.0, x, tl.where(x < -15.0, tl.exp(x), tl.log(1.0 + tl.exp(x))))


@triton.jit
def silu(x):
    return x / (1.0 + tl.exp(-x))
