"""ssmdoc.models: the hybrid state-space language model (Mamba, Falcon-Mamba, Mamba-2, Jamba; and the
Mamba-2 hybrids Bamba, Granite-4.0-H, Nemotron-H, Falcon-H1, Zamba2).

Public names (docs/internals.md): load_config, parse_config, ModelConfig, LayerSpec, estimate_state_bytes,
transformer_kv_equivalent_bytes, load_pretrained, HybridLM, InferenceState, set_threads, and the errors in
ssmdoc.models.errors. Names are imported on first use, so that `ssmdoc.models.errors` (which the application
imports at start-up) does not pull in torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "LayerSpec": "config",
    "ModelConfig": "config",
    "estimate_state_bytes": "memory",
    "transformer_kv_equivalent_bytes": "memory",
    "load_config": "parsing",
    "parse_config": "parsing",
    "load_pretrained": "loader",
    "HybridLM": "model",
    "InferenceState": "state",
    "set_threads": "threads",
    "EngineError": "errors",
    "ModelError": "errors",
    "StateMismatchError": "errors",
    "GenerationError": "errors",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value
