"""ssmdoc.models: the hybrid state-space language model (Mamba, Falcon-Mamba, Mamba-2, Jamba; and the
Mamba-2 hybrids Bamba, Granite-4.0-H, Nemotron-H, Falcon-H1, Zamba2).

Public names (docs/internals.md): load_config, ModelConfig, LayerSpec, estimate_state_bytes,
transformer_kv_equivalent_bytes, load_pretrained, HybridLM, InferenceState.
"""

from .config import (
    LayerSpec,
    ModelConfig,
    estimate_state_bytes,
    load_config,
    parse_config,
    transformer_kv_equivalent_bytes,
)
from .loader import load_pretrained
from .model import HybridLM
from .state import InferenceState

__all__ = [
    "HybridLM",
    "InferenceState",
    "load_pretrained",
    "LayerSpec",
    "ModelConfig",
    "estimate_state_bytes",
    "load_config",
    "parse_config",
    "transformer_kv_equivalent_bytes",
]
