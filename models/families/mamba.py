"""Mamba (MambaForCausalLM): Mamba-1 layers only; fields follow transformers' configuration_mamba.py."""

from __future__ import annotations

from ..config import LayerSpec, ModelConfig
from ._family import Family
from ._fields import common, dt_rank

def parse_mamba(raw: dict, architecture: str) -> ModelConfig:
    """MambaForCausalLM and FalconMambaForCausalLM (the latter adds weightless RMSNorms on dt, B, C)."""
    falcon = architecture == "FalconMambaForCausalLM"
    base = common(raw, architecture, vocab_size=50280, hidden_size=768, bos_token_id=0, eos_token_id=0,
                   pad_token_id=0, tie_word_embeddings=True)
    hidden = base["hidden_size"]
    return ModelConfig(
        **base,
        layers=[LayerSpec("mamba1")] * int(raw.get("num_hidden_layers", 32)),
        norm_eps=float(raw.get("layer_norm_epsilon", 1e-5)),
        residual_in_fp32=bool(raw.get("residual_in_fp32", True)),
        ssm_state_size=int(raw.get("state_size", 16)),
        # transformers derives it from expand and ignores a stored intermediate_size
        ssm_inner_size=int(raw.get("expand", 2) * hidden),
        conv_kernel=int(raw.get("conv_kernel", 4)),
        conv_bias=bool(raw.get("use_conv_bias", True)),
        ssm_proj_bias=bool(raw.get("use_bias", False)),
        ssm_activation=raw.get("hidden_act", "silu"),
        time_step_rank=dt_rank(raw.get("time_step_rank", "auto"), hidden),
        bcdt_norm="weightless" if falcon else "none",
        bcdt_norm_eps=float(raw.get("mixer_rms_eps", 1e-6)),
    )


# (pattern, replacement) applied in order to each checkpoint name; the first match wins.
MAMBA_NAMES = [
    (r"backbone\.embeddings?\.weight", "embed.weight"),  # older exports say "embedding"
    (r"backbone\.norm_f\.weight", "norm_f.weight"),
    (r"backbone\.layers\.(\d+)\.norm\.weight", r"layers.\1.norm.weight"),
    (r"backbone\.layers\.(\d+)\.mixer\.(.+)", r"layers.\1.mixer.\2"),
    (r"lm_head\.weight", "lm_head.weight"),
]


FAMILIES = [
    Family(
        architecture="MambaForCausalLM",
        model_type="mamba",
        parse=parse_mamba,
        weight_names=MAMBA_NAMES,
        layout="Mamba-1 layers only",
        recommended=(("state-spaces/mamba-130m-hf",
                      "pure Mamba-1, tiny and fast for trying ssmdoc out; a base model, no chat template", 3),),
        rank=0,
    )
]
