"""Checks on a raw config.json dict made before it is parsed, so that a checkpoint ssmdoc cannot run ends in one
clear error before any tensor is read, instead of a wall of misshapen-tensor errors after every shard.

- quantized weights (quantization_config: bitsandbytes, GPTQ, AWQ, FP8, MLX, ...): the engine computes in
  float32 / bfloat16 / float16 from plain tensors; the error names the method and the unquantized original.
- mamba-ssm's own config format (d_model / n_layer, no model_type): not a transformers config; reading it with
  transformers' defaults would build a different model.
- auto_map (the checkpoint ships its own modelling code): that code is never run; ssmdoc's implementation of
  the architecture is used, and a note says so once on stderr.
"""

from __future__ import annotations

import sys

from .errors import ModelError

_NOTED: set[str] = set()  # architectures whose auto_map note was already shown in this process


def note(message: str) -> None:
    """One `note: ...` line on stderr (replaceable, e.g. by a test or an embedding application)."""
    print(f"note: {message}", file=sys.stderr, flush=True)


def _quantization(raw: dict) -> str | None:
    """The quantization method and width in words ("bitsandbytes, 4-bit"), or None for plain weights."""
    config = raw.get("quantization_config")
    mlx = raw.get("quantization")  # mlx-lm writes both keys; neither names a method
    if config is None and mlx is None:
        return None
    config = config if isinstance(config, dict) else {}
    method = config.get("quant_method") or ("MLX" if isinstance(mlx, dict) else "unnamed method")
    bits = config.get("bits") or (mlx.get("bits") if isinstance(mlx, dict) else None)
    if bits is None:
        bits = 4 if config.get("load_in_4bit") else 8 if config.get("load_in_8bit") else None
    if bits is None and "fp8" in str(method).lower():
        bits = 8
    return f"{method}, {bits}-bit" if bits else str(method)


def _original(raw: dict) -> str:
    source = raw.get("_name_or_path")
    if isinstance(source, str) and source.count("/") == 1 and not source.startswith((".", "/")):
        return f"use the unquantized original ({source}) instead"
    return "use the unquantized original instead (usually the same repository name without a -4bit / -8bit / " \
           "-GPTQ / -AWQ / -FP8 / -mlx suffix)"


def check_raw_config(raw: dict, architectures: tuple[str, ...] = ()) -> None:
    """ModelError for a config ssmdoc must not run; the auto_map note. `architectures`: the ones ssmdoc runs."""
    method = _quantization(raw)
    if method is not None:
        raise ModelError(f"this checkpoint is quantized ({method}); ssmdoc runs unquantized float32 / bfloat16 / "
                         "float16 weights only", hint=_original(raw))
    if "model_type" not in raw and not raw.get("architectures") and ("d_model" in raw or "n_layer" in raw):
        raise ModelError("config.json is in mamba-ssm's own format (d_model / n_layer), not a Hugging Face "
                         "transformers config",
                         hint="use the transformers conversion of the checkpoint (the state-spaces/*-hf "
                              "repositories, e.g. state-spaces/mamba-130m-hf)")
    names = raw.get("architectures") or []
    arch = names[0] if names else raw.get("model_type", "")
    if raw.get("auto_map") and arch not in _NOTED and (not architectures or arch in architectures):
        _NOTED.add(arch)
        note(f"the checkpoint ships its own modelling code (auto_map); it is not run: ssmdoc uses its own "
             f"{arch} implementation")
