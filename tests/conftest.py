"""Shared test set-up.

Triton kernels are tested on every machine: without a CUDA device the Triton interpreter runs them on CPU
tensors. TRITON_INTERPRET must be set before triton is first imported, hence here.

One torch thread per test process (and its subprocesses): the suite runs as `pytest -n 2` on 2 cores, and
torch's default pool per worker oversubscribes them; tiny models then ran ~10x slower (measured in the CLI
tests on the 2-core CI-class machine).
"""

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(1)
