"""A loaded model with its tokenizer, and the small helpers that run it: forward without logits, timing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssmdoc.errors import UsageError

DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass
class Engine:
    """What every task needs: the model, its tokenizer, and where they came from."""

    model: Any  # ssmdoc.models.HybridLM
    tokenizer: Any  # ssmdoc.models.tokenizer.Tokenizer
    name: str  # as the user gave it (repo id or directory)
    path: Path  # the resolved checkpoint directory
    device: Any  # torch.device
    dtype: Any  # torch.dtype of the weights
    context_override: int | None = None  # --context: the user's own context length

    @property
    def config(self):
        return self.model.config

    @property
    def context(self):
        """The context to plan with and where the number comes from (ssmdoc.models.context)."""
        from ssmdoc.models.context import context_limit, repo_id_of

        return context_limit(self.config, repo_id_of(self.name) or repo_id_of(self.path), self.context_override)

    @property
    def max_context(self) -> int | None:
        return self.context.tokens

    @property
    def generation(self):
        """The generation settings the checkpoint ships (used for what the user leaves unset)."""
        from ssmdoc.models.generation_defaults import GenerationDefaults, read_generation_defaults

        if self.path is None or not Path(self.path).is_dir():
            return GenerationDefaults()
        return read_generation_defaults(self.path)


def resolve_device(device: str):
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for but torch sees no CUDA device", "use --device cpu or auto")
    if device not in ("cpu", "cuda"):
        raise UsageError(f"unknown device {device!r}", "use auto, cpu or cuda")
    return torch.device(device)


def resolve_dtype(dtype: str, device) -> Any:
    """None lets the engine pick (the checkpoint's dtype); float16 on CPU is refused: torch computes it slowly
    and some CPU ops lack it."""
    import torch

    if dtype not in DTYPES:
        raise UsageError(f"unknown dtype {dtype!r}", f"use one of {', '.join(DTYPES)}")
    if dtype == "auto":
        return None
    if dtype == "float16" and device.type == "cpu":
        raise UsageError("float16 is not supported on CPU", "use --dtype bfloat16 or float32")
    return getattr(torch, dtype)


def load_engine(model: str, device: str = "auto", dtype: str = "auto", progress: bool | None = None,
                path: Path | None = None, threads: int | None = None) -> Engine:
    """Resolve `model` (a checkpoint directory or a Hub repo id) and load the model and tokenizer.

    `progress`: download progress bars (None: when stderr is a terminal). `path`: the checkpoint directory
    when the caller has resolved `model` already (the resolver runs once per run). `threads`: CPU threads
    for torch, every available core when None."""
    from ssmdoc.models import load_pretrained, set_threads
    from ssmdoc.models.checkpoint import resolve_checkpoint
    from ssmdoc.models.tokenizer import Tokenizer

    torch_device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, torch_device)
    set_threads(threads)
    if path is None:
        path = resolve_checkpoint(model, progress=progress)
    lm = load_pretrained(path, device=str(torch_device), dtype=torch_dtype)
    tokenizer = Tokenizer.from_dir(path)
    weights_dtype = next(lm.parameters()).dtype
    return Engine(lm, tokenizer, str(model), path, torch_device, weights_dtype)


@dataclass
class Meter:
    """Tokens and seconds spent feeding (prefill) and generating (decode), across all windows of a run."""

    prefill_tokens: int = 0
    prefill_seconds: float = 0.0
    decode_tokens: int = 0
    decode_seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    def rates(self) -> tuple[float, float]:
        prefill = self.prefill_tokens / self.prefill_seconds if self.prefill_seconds > 0 else 0.0
        decode = self.decode_tokens / self.decode_seconds if self.decode_seconds > 0 else 0.0
        return prefill, decode


def feed(engine: Engine, ids: list[int], state, meter: Meter) -> None:
    """Advance `state` over `ids` without computing logits (reading is all prefill)."""
    import torch

    if not ids:
        return
    start = time.perf_counter()
    # no_grad, not inference_mode: tensors created under inference_mode (a grown KV cache) cannot be updated
    # in place later by generate(), which runs under no_grad.
    with torch.no_grad():
        engine.model(torch.tensor([ids], dtype=torch.long, device=engine.device), state=state, logits="none")
    if engine.device.type == "cuda":
        torch.cuda.synchronize(engine.device)
    meter.prefill_seconds += time.perf_counter() - start
    meter.prefill_tokens += len(ids)
