"""Bamba (BambaForCausalLM): Mamba-2 with a few rotary attention layers, an MLP in every layer;
transformers' configuration_bamba.py."""

from __future__ import annotations

from ..config import LayerSpec, ModelConfig, build_config
from ._family import Family
from ._fields import attention_fields, common, mamba_prefixed_fields, parse_rope_theta
from .jamba import JAMBA_NAMES

def parse_bamba(raw: dict, architecture: str) -> ModelConfig:
    base = common(raw, architecture, vocab_size=128000, hidden_size=4096, bos_token_id=1, eos_token_id=2,
                  pad_token_id=0, tie_word_embeddings=False)
    hidden = base["hidden_size"]
    attn = set(raw.get("attn_layer_indices") or [])
    layers = [LayerSpec("attention" if i in attn else "mamba2", "mlp")
              for i in range(int(raw.get("num_hidden_layers", 32)))]
    params = raw.get("rope_parameters") or {}
    return build_config(
        **base,
        layers=layers,
        max_context=raw.get("max_position_embeddings", 262144),
        norm_eps=float(raw.get("rms_norm_eps", 1e-5)),
        **attention_fields(raw, hidden),
        rope_theta=parse_rope_theta(raw),
        # transformers' BambaConfig forces 0.5 unless rope_parameters states a factor
        partial_rotary_factor=float(params.get("partial_rotary_factor", 0.5)),
        attention_bias=bool(raw.get("attention_bias", False)),
        **mamba_prefixed_fields(raw, hidden),
        intermediate_size=int(raw.get("intermediate_size", 14336)),
        mlp_activation=raw.get("hidden_act", "silu"),
        mlp_bias=bool(raw.get("mlp_bias", False)),
    )


FAMILIES = [Family("BambaForCausalLM", "bamba", parse_bamba, JAMBA_NAMES,  # Jamba's module names (dense MLPs only)
                   layout="Mamba-2 + a few rotary attention layers, MLP in every layer (Bamba)", rank=4,
                   recommended=(("ibm-fms/Bamba-9B", "Bamba 9B: Mamba-2 + attention; a base model", 4),))]
