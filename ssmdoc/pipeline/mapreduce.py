"""Map-reduce for inputs longer than the model's context.

Map: each context-sized window of the document is answered on its own (`stage="part"` prompts), as the
reader fills it. Reduce: the parts' outputs, each under a header naming where it came from, become a new
document read with the `combine` prompt; if they do not fit in one window either, they are combined window
by window again, recursively, until one window holds them all. The parts' outputs are fed as the token ids
the model generated (never re-tokenized), so each level is at most windows x (max_new_tokens + header)
tokens long and the recursion shrinks: a window holds at least two parts (checked up front).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ssmdoc.errors import UsageError
from ssmdoc.pipeline.answering import Answer, GenOptions, answer
from ssmdoc.pipeline.engine import Engine, Meter
from ssmdoc.pipeline.hooks import NO_HOOKS, Hooks
from ssmdoc.pipeline.prompts import Task, build_prompt
from ssmdoc.pipeline.reading import Piece, WindowReader
from ssmdoc.report import Report

MAX_LEVELS = 32  # a safety net only: each level at least halves the number of parts
HEADER_ALLOWANCE = 64  # tokens a part's header may take


@dataclass
class Partial:
    """One window's output and where in the input that window was."""

    ids: list[int]
    text: str
    first: str | None
    last: str | None


def capacity_for(max_context: int, prompt_tokens: int, max_new_tokens: int) -> int:
    """Document tokens one window may hold: the context less the prompt and the room to answer."""
    return max_context - prompt_tokens - max_new_tokens


def combine_capacity(engine: Engine, task: Task, gen: GenOptions) -> int:
    """Tokens of parts one combine window holds; UsageError when fewer than two parts would fit (the
    recursion would not shrink). Called as soon as a second window is needed, before any is answered."""
    prompt = build_prompt(engine.tokenizer, task, "combine")
    capacity = capacity_for(engine.max_context, len(prompt.prefix) + len(prompt.suffix), gen.max_new_tokens)
    if capacity < 2 * (gen.max_new_tokens + HEADER_ALLOWANCE):
        raise UsageError(
            f"the input exceeds the model's context ({engine.max_context} tokens), which is too short to "
            f"combine parts of up to {gen.max_new_tokens} tokens each",
            "use a smaller --max-new-tokens, or --strategy stream to read everything in one pass",
        )
    return capacity


def _part_pieces(tokenizer, partials: list[Partial]) -> list[Piece]:
    pieces = []
    for i, part in enumerate(partials, 1):
        where = part.first if part.first == part.last else f"{part.first} to {part.last}"
        header = f"=== part {i} of {len(partials)}" + (f" ({where})" if part.first else "") + " ===\n"
        pieces.append(Piece(tokenizer.encode(header) + part.ids + tokenizer.encode("\n\n")))
    return pieces


def combine(
    engine: Engine,
    task: Task,
    partials: list[Partial],
    chunk_tokens: int,
    gen: GenOptions,
    meter: Meter,
    report: Report,
    on_text: Callable[[str], None] | None = None,
    hooks: Hooks = NO_HOOKS,
) -> Answer:
    """Reduce the parts' outputs to one answer, streamed to `on_text` (only the final answer is streamed)."""
    prompt = build_prompt(engine.tokenizer, task, "combine")
    capacity = combine_capacity(engine, task, gen)
    level = partials
    for round_ in range(1, MAX_LEVELS + 1):
        hooks.say(f"map-reduce: combining {len(level)} parts (round {round_})")
        reader = WindowReader(engine, prompt.prefix, chunk_tokens, capacity, meter, report, count_chunks=False)
        outputs: list[Partial] = []
        for window in reader.windows(_part_pieces(engine.tokenizer, level)):
            if window.final and window.index == 0:  # everything fits: the answer
                return answer(engine, window.state, prompt.suffix, gen, meter, report, on_text, hooks)
            out = answer(engine, window.state, prompt.suffix, gen, meter, report, hooks=hooks)
            outputs.append(Partial(out.ids, out.text, None, None))  # a mix of parts: no single address
            if out.interrupted:
                return out
        level = outputs
    raise AssertionError("map-reduce did not converge")  # pragma: no cover - see MAX_LEVELS
