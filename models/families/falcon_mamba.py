"""Falcon-Mamba (FalconMambaForCausalLM): Mamba-1 with weightless RMSNorms on dt, B and C."""

from __future__ import annotations

from ._family import Family
from .mamba import MAMBA_NAMES, parse_mamba




FAMILIES = [Family("FalconMambaForCausalLM", "falcon_mamba", parse_mamba, MAMBA_NAMES,
                   layout="Mamba-1 layers with B/C/dt norms (Falcon-Mamba)", rank=1,
                   # the dt/B/C norms have no weights; an export may still carry dummy all-ones tensors
                   ignored_tensors=(r".*\.mixer\.(?:b|c|dt)_layernorm\.weight",),
                   recommended=(("tiiuae/falcon-mamba-7b-instruct",
                                  "Falcon-Mamba, pure SSM (no attention at all), chat template", 2),))]
