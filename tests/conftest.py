"""Shared test set-up.

Triton kernels are tested on every machine: without a CUDA device the Triton interpreter runs them on CPU
tensors. TRITON_INTERPRET must be set before triton is first imported, hence here.
"""

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
