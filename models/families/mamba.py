"""Mamba (MambaForCausalLM): Mamba-1 layers only; fields follow transformers' configuration_mamba.py."""

from __future__ import annotations

from ..config import LayerSpec, ModelConfig, build_config
from ._family import Family, name_table
from ._fields import common, mamba1_fields

def parse_mamba(raw: dict, architecture: str) -> ModelConfig:
    """MambaForCausalLM and FalconMambaForCausalLM (the latter adds weightless RMSNorms on dt, B, C)."""
    falcon = architecture == "FalconMambaForCausalLM"
    base = common(raw, architecture, vocab_size=50280, hidden_size=768, bos_token_id=0, eos_token_id=0,
                  pad_token_id=0, tie_word_embeddings=True)
    hidden = base["hidden_size"]
    ssm = mamba1_fields(raw, hidden)
    if raw.get("intermediate_size"):
        # a stored intermediate_size wins over expand x hidden: transformers' __post_init__ derives it, then
        # sets every remaining config.json key over it (Falcon-Mamba-7B: expand 16, intermediate_size 8192)
        ssm["ssm_inner_size"] = int(raw["intermediate_size"])
    return build_config(
        **base,
        layers=[LayerSpec("mamba1")] * int(raw.get("num_hidden_layers", 32)),
        norm_eps=float(raw.get("layer_norm_epsilon", 1e-5)),
        residual_in_fp32=bool(raw.get("residual_in_fp32", True)),
        **ssm,
        bcdt_norm="weightless" if falcon else "none",
        bcdt_norm_eps=float(raw.get("mixer_rms_eps", 1e-6)),
    )


# older exports say "embedding"
MAMBA_NAMES = name_table(r"""
    backbone\.embeddings?\.weight          embed.weight
    backbone\.norm_f\.weight               norm_f.weight
    backbone\.layers\.(\d+)\.norm\.weight  layers.\1.norm.weight
    backbone\.layers\.(\d+)\.mixer\.(.+)   layers.\1.mixer.\2
    lm_head\.weight                        lm_head.weight
""")


FAMILIES = [Family("MambaForCausalLM", "mamba", parse_mamba, MAMBA_NAMES, layout="Mamba-1 layers only", rank=0,
                   recommended=(("state-spaces/mamba-130m-hf", "pure Mamba-1, 130M, trained at 2048 tokens; "
                                 "a base model", 2),))]
