"""Recall evaluation (`ssmdoc eval`): needles in haystacks, read and asked through the real pipeline.

    from ssmdoc.pipeline import load_engine
    from ssmdoc.eval import EvalOptions, evaluate, packaged_checkpoint

    engine = load_engine(str(packaged_checkpoint("recall-hybrid")))
    result = evaluate(engine, EvalOptions(lengths=[512], trials=20))
"""

from pathlib import Path

from ssmdoc.eval.haystack import Haystack, Needle, build_haystack, filler_units, question_for
from ssmdoc.eval.runner import Case, Cell, EvalOptions, EvalResult, default_run, evaluate, run_case

PACKAGED = ("recall-hybrid", "recall-mamba")


def packaged_checkpoint(name: str) -> Path:
    """The directory of a checkpoint installed with ssmdoc (`recall-hybrid`, `recall-mamba`; see docs/eval.md)."""
    if name not in PACKAGED:
        raise ValueError(f"unknown packaged checkpoint {name!r}; known: {', '.join(PACKAGED)}")
    return Path(__file__).resolve().parent.parent / "data" / name


__all__ = [
    "Case", "Cell", "EvalOptions", "EvalResult", "Haystack", "Needle", "PACKAGED", "build_haystack",
    "default_run", "evaluate", "filler_units", "packaged_checkpoint", "question_for", "run_case",
]
