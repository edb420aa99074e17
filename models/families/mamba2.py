"""Mamba-2 (Mamba2ForCausalLM): Mamba-2 (SSD) layers only; transformers' configuration_mamba2.py."""

from __future__ import annotations

import math

from ..config import LayerSpec, ModelConfig, build_config
from ..errors import ModelError
from ._family import Family
from ._fields import as_float, common
from .mamba import MAMBA_NAMES

def parse_mamba2(raw: dict, architecture: str) -> ModelConfig:
    base = common(raw, architecture, vocab_size=32768, hidden_size=4096, bos_token_id=0, eos_token_id=2,
                  pad_token_id=1, tie_word_embeddings=False)
    hidden = base["hidden_size"]
    inner = int(raw.get("expand", 2) * hidden)
    heads, head_dim = int(raw.get("num_heads", 128)), int(raw.get("head_dim", 64))
    groups = int(raw.get("n_groups", 8))
    if heads * head_dim != inner or heads % groups:
        raise ModelError(
            f"inconsistent Mamba-2 config: expand x hidden_size = {inner}, num_heads x head_dim = "
            f"{heads * head_dim}, num_heads {heads} over n_groups {groups}"
        )
    limit = raw.get("time_step_limit") or (0.0, math.inf)
    return build_config(
        **base,
        layers=[LayerSpec("mamba2")] * int(raw.get("num_hidden_layers", 64)),
        norm_eps=float(raw.get("layer_norm_epsilon", 1e-5)),
        residual_in_fp32=bool(raw.get("residual_in_fp32", True)),
        ssm_state_size=int(raw.get("state_size", 128)),
        ssm_inner_size=inner,
        conv_kernel=int(raw.get("conv_kernel", 4)),
        conv_bias=bool(raw.get("use_conv_bias", True)),
        ssm_proj_bias=bool(raw.get("use_bias", False)),
        ssm_activation=raw.get("hidden_act", "silu"),
        ssm_num_heads=heads,
        ssm_head_dim=head_dim,
        ssm_n_groups=groups,
        ssm_chunk_size=int(raw.get("chunk_size", 256)),
        time_step_limit=(as_float(limit[0]), as_float(limit[1])),
        ssm_norm_group_size=inner // groups,
    )


FAMILIES = [Family("Mamba2ForCausalLM", "mamba2", parse_mamba2, MAMBA_NAMES,  # Mamba's module names
                   layout="Mamba-2 (SSD) layers only", rank=2,
                   recommended=(("AntonV/mamba2-130m-hf", "pure Mamba-2, 130M: tiny and fast for trying ssmdoc out; "
                                 "a base model", 1),))]
