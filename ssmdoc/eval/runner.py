"""Recall evaluation through the real pipeline: one haystack per case, read and asked exactly as `ssmdoc ask`.

    from ssmdoc.pipeline import load_engine
    from ssmdoc.eval import EvalOptions, evaluate

    engine = load_engine("path/to/checkpoint")
    result = evaluate(engine, EvalOptions(lengths=[512, 2048], trials=20), jsonl="out/cases.jsonl")
    result.cells      # one summary per (length, depth): accuracy, mean log-prob

A case is (length, depth, trial). Its haystack, needles and question follow from the seed and the case
alone, so a run can stop anywhere and resume, or be extended with more lengths, depths or trials: cases
already in the JSONL file are not run again.

Each case is scored twice:
- exact match: the first six-digit number in the generated answer is the needle's code;
- log-prob: from the reading state (a copy, before answering), the prompt suffix is fed and the log-probability
  of the code's tokens right after it is summed (teacher-forced, nats). It needs no generation and stays
  meaningful where exact match is 0 for every case (base models, tiny models, long haystacks).
"""

from __future__ import annotations

import io
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ssmdoc.errors import UsageError
from ssmdoc.eval.haystack import Haystack, build_haystack, draw_needles, filler_units, text_units
from ssmdoc.pipeline import RunOptions, Task, read, respond
from ssmdoc.pipeline.engine import Engine

DEFAULT_DEPTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
_CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")


@dataclass
class EvalOptions:
    lengths: Sequence[int]  # haystack sizes, in the model's tokens
    depths: Sequence[float] = DEFAULT_DEPTHS  # where the asked needle sits: 0 start .. 1 end
    needles: int = 1  # needles per haystack (distinct names); one is asked about
    trials: int = 5  # haystacks per (length, depth)
    seed: int = 0
    haystack_text: str | None = None  # the user's documents, as ingested; None: the built-in filler
    blind: bool = False  # read without the question (as `ssmdoc read --save`, then `ssmdoc ask STATE`)
    run: RunOptions = field(default_factory=lambda: default_run())

    def __post_init__(self):
        if not self.lengths or any(n < 1 for n in self.lengths):
            raise UsageError("--lengths needs one or more positive token counts", "e.g. --lengths 1K,4K,16K")
        if not self.depths or any(not 0.0 <= d <= 1.0 for d in self.depths):
            raise UsageError("--depths must lie between 0 and 1", "e.g. --depths 0,0.25,0.5,0.75,1")
        if not 1 <= self.needles <= 48:
            raise UsageError("--needles must be between 1 and 48")
        if self.trials < 1:
            raise UsageError("--trials must be at least 1")
        if self.haystack_text is not None and not text_units(self.haystack_text):
            raise UsageError("the --haystack files hold no text")


def default_run(chunk_tokens: int = 2048, strategy: str = "auto", max_new_tokens: int = 24,
                seed: int | None = None) -> RunOptions:
    """The pipeline's options for eval: as `ssmdoc ask` (sampling as the checkpoint ships it, greedy when it
    ships none), with a short answer (a code needs a few tokens) and a sampling seed so reruns agree."""
    from ssmdoc.pipeline import GenOptions

    return RunOptions(chunk_tokens, strategy, GenOptions(max_new_tokens=max_new_tokens, seed=seed))


@dataclass(frozen=True)
class Case:
    length: int
    depth: float
    trial: int

    @property
    def key(self) -> tuple[int, float, int]:
        return (self.length, round(self.depth, 6), self.trial)


def cases(options: EvalOptions) -> list[Case]:
    return [Case(n, d, t) for n in options.lengths for d in options.depths for t in range(options.trials)]


def make_haystack(tokenizer, options: EvalOptions, case: Case) -> Haystack:
    """The case's haystack: the same for the same seed and case, whatever else the run holds."""
    rng = random.Random(f"ssmdoc-eval:{options.seed}:{case.length}:{case.depth!r}:{case.trial}")
    needles = draw_needles(rng, case.depth, options.needles)

    def count(text: str) -> int:
        return len(tokenizer.encode(text, parse_special=False))

    if options.haystack_text is None:
        return build_haystack(filler_units(rng.randrange(2**31)), case.length, needles, count)
    lines = text_units(options.haystack_text)
    start = rng.randrange(len(lines))

    def cycle() -> Iterable[str]:
        i = start
        while True:
            yield lines[i % len(lines)]
            i += 1

    return build_haystack(iter(cycle()), case.length, needles, count, line_units=True)


def first_code(answer: str) -> str | None:
    match = _CODE.search(answer)
    return match.group(0) if match else None


def code_logprob(engine: Engine, state, suffix: list[int], code: str) -> float:
    """Sum of log p(code tokens | state, suffix), teacher-forced; `state` is advanced (pass a copy)."""
    import torch

    target = engine.tokenizer.encode(code)
    ids = torch.tensor([suffix + target], dtype=torch.long, device=engine.device)
    with torch.no_grad():
        logits = engine.model(ids, state=state, logits="all")[0]  # (l, vocab)
    logp = torch.log_softmax(logits[len(suffix) - 1 : -1].float(), dim=-1)
    return float(logp[torch.arange(len(target)), torch.tensor(target)].sum())


def run_case(engine: Engine, options: EvalOptions, case: Case) -> dict:
    """Read the case's haystack and ask about its needle through the pipeline; one JSONL row."""
    from ssmdoc.ingest import iter_segments
    from ssmdoc.pipeline import build_prompt

    hay = make_haystack(engine.tokenizer, options, case)
    task = Task("ask", hay.question)
    # Ingested as stdin is: the text as the user's own file would be read, minus the file's header line.
    segments = iter_segments(["-"], stdin=io.BytesIO(hay.text.encode("utf-8")))
    start = time.perf_counter()
    reading = read(engine, segments, Task("read") if options.blind else task, options.run)
    if options.blind:
        reading.task = task  # as `ssmdoc ask STATE`: the question comes only after the reading
    logprob = None
    if not reading.partials:  # one window: its state stands for the whole haystack
        suffix = build_prompt(engine.tokenizer, task, "whole").suffix
        logprob = code_logprob(engine, reading.last.state.clone(), suffix, hay.asked.code)
    result = respond(engine, reading, options.run)
    answer = result.output
    return {
        "length": case.length,
        "depth": case.depth,
        "trial": case.trial,
        "needles": options.needles,
        "name": hay.asked.name,
        "code": hay.asked.code,
        "answer": answer,
        "correct": first_code(answer) == hay.asked.code,
        "logprob": None if logprob is None else round(logprob, 4),
        "tokens": result.report.input_tokens,
        "strategy": result.report.strategy,
        "seconds": round(time.perf_counter() - start, 3),
    }


@dataclass
class Cell:
    length: int
    depth: float
    trials: int
    accuracy: float
    mean_logprob: float | None


@dataclass
class EvalResult:
    model: str
    options: dict
    rows: list[dict]
    cells: list[Cell]

    def to_dict(self) -> dict:
        overall = sum(r["correct"] for r in self.rows) / len(self.rows) if self.rows else 0.0
        return {"model": self.model, "options": self.options, "accuracy": round(overall, 4),
                "cells": [asdict(c) for c in self.cells], "cases": len(self.rows)}


def summarize(rows: list[dict], options: EvalOptions) -> list[Cell]:
    out = []
    for n in options.lengths:
        for d in options.depths:
            group = [r for r in rows if r["length"] == n and round(r["depth"], 6) == round(d, 6)]
            if not group:
                continue
            lps = [r["logprob"] for r in group if r["logprob"] is not None]
            out.append(Cell(n, d, len(group), round(sum(r["correct"] for r in group) / len(group), 4),
                            round(sum(lps) / len(lps), 4) if lps else None))
    return out


def identity(options: EvalOptions, model: str, haystack_files: Sequence[str] = ()) -> dict:
    """What a case's result depends on besides (length, depth, trial): a case log may be resumed, or
    extended with more lengths, depths or trials, only under the same settings."""
    return {
        "model": model, "needles": options.needles, "seed": options.seed, "blind": options.blind,
        "haystack": list(haystack_files) or "built-in filler", "chunk_tokens": options.run.chunk_tokens,
        "strategy": options.run.strategy, "max_new_tokens": options.run.gen.max_new_tokens,
    }


def evaluate(
    engine: Engine,
    options: EvalOptions,
    jsonl: str | Path | None = None,
    haystack_files: Sequence[str] = (),
    on_case: Callable[[int, int, dict, bool], None] | None = None,
) -> EvalResult:
    """Run every case not already in `jsonl` (appended to it as each finishes); `on_case(i, total, row,
    resumed)` after each case."""
    from ssmdoc.eval.output import CaseLog

    meta = identity(options, engine.name, haystack_files)
    log = CaseLog(jsonl, meta) if jsonl is not None else None
    done = log.load() if log is not None else {}
    todo = cases(options)
    rows = []
    for i, case in enumerate(todo):
        row = done.get(case.key)
        resumed = row is not None
        if row is None:
            row = run_case(engine, options, case)
            if log is not None:
                log.append(row)
        rows.append(row)
        if on_case is not None:
            on_case(i, len(todo), row, resumed)
    described = meta | {"lengths": list(options.lengths), "depths": list(options.depths), "trials": options.trials}
    return EvalResult(engine.name, described, rows, summarize(rows, options))
