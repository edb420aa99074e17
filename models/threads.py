"""How many CPU threads the engine's torch ops use."""

from __future__ import annotations

import os

import torch


def available_cores() -> int:
    """CPUs this process may run on (its affinity mask, which container CPU sets narrow), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def set_threads(threads: int | None = None) -> int:
    """Use `threads` torch threads, or every available core when None (as llama.cpp's -t) unless
    OMP_NUM_THREADS is set; returns the count.

    Under contention torch's OpenMP threads degrade far less with OMP_WAIT_POLICY=PASSIVE set before torch
    is imported (docs/benchmarks.md, "CPU against llama.cpp")."""
    if threads is None and os.environ.get("OMP_NUM_THREADS"):  # the user's own setting wins
        return torch.get_num_threads()
    n = available_cores() if threads is None else int(threads)
    if n < 1:
        raise ValueError(f"threads must be at least 1, not {n}")
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
