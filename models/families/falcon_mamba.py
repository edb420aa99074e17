"""Falcon-Mamba (FalconMambaForCausalLM): Mamba-1 with weightless RMSNorms on dt, B and C."""

from __future__ import annotations

from ._family import Family
from .mamba import MAMBA_NAMES, parse_mamba




FAMILIES = [Family("FalconMambaForCausalLM", "falcon_mamba", parse_mamba, MAMBA_NAMES,
                   layout="Mamba-1 layers with B/C/dt norms (Falcon-Mamba)", rank=1,
                   # the dt/B/C norms have no weights; an export may still carry dummy all-ones tensors
                   ignored_tensors=(r".*\.mixer\.(?:b|c|dt)_layernorm\.weight",),
                   recommended=(("tiiuae/falcon-mamba-7b",
                                  "Falcon-Mamba 7B, pure SSM (no attention at all); a base model", 3),))]
