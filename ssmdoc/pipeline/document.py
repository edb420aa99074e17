"""summarize and ask: read the inputs into a state (`read`), then answer from it (`respond`).

The two steps are separate on purpose: what `read` returns (a state plus what was counted) is all that
`respond` needs, so a saved state can stand in for reading. `run` chains them for the common case.

    engine = load_engine("ai21labs/AI21-Jamba2-3B")
    segments = iter_segments(["contract.pdf"])  # ssmdoc.ingest
    result = run(engine, segments, Task("ask", "Who may terminate?"), on_text=print)
    print(result.report.to_dict())
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ssmdoc.errors import UsageError
from ssmdoc.pipeline.answering import Answer, GenOptions, answer
from ssmdoc.pipeline.engine import Engine, Meter
from ssmdoc.pipeline.hooks import NO_HOOKS, Hooks
from ssmdoc.pipeline.mapreduce import Partial, combine, combine_capacity
from ssmdoc.pipeline.prompts import Task, build_prompt
from ssmdoc.pipeline.reading import Window, WindowReader, tokenize
from ssmdoc.report import Report, peak_rss_bytes

STRATEGIES = ("auto", "stream", "map-reduce")


@dataclass
class RunOptions:
    chunk_tokens: int = 2048  # tokens per forward call while reading: bounds activation memory, not state
    strategy: str = "auto"  # auto: map-reduce only when the input exceeds the model's context
    gen: GenOptions = field(default_factory=GenOptions)

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise UsageError(f"unknown strategy {self.strategy!r}", f"use one of {', '.join(STRATEGIES)}")
        if self.chunk_tokens < 1:
            raise UsageError("--chunk-tokens must be at least 1")
        if self.gen.max_new_tokens < 1:
            raise UsageError("--max-new-tokens must be at least 1")


@dataclass
class Reading:
    """The input, read: the state of the last window and the outputs of earlier windows (map-reduce)."""

    task: Task
    last: Window
    partials: list[Partial]
    sources: list[dict]
    report: Report
    meter: Meter


@dataclass
class TaskResult:
    task: str
    model: str
    output: str
    sources: list[dict]
    report: Report
    read_interrupted: bool = False  # Ctrl-C while reading: the answer covers what was read before it
    answer_interrupted: bool = False  # Ctrl-C while answering: `output` is partial

    @property
    def interrupted(self) -> str | None:
        """What Ctrl-C cut short: "answering" (the output is partial), "reading" (the output covers what was
        read before it), or None."""
        return "answering" if self.answer_interrupted else "reading" if self.read_interrupted else None

    @property
    def complete(self) -> bool:
        """Whether the output answers for the whole input. `watch` ends on Ctrl-C by design: its final
        summary covers everything that arrived, so an interrupted reading still counts as complete there."""
        return not self.answer_interrupted and (self.task == "watch" or not self.read_interrupted)

    def to_dict(self) -> dict:
        return {
            "task": self.task,
            "model": self.model,
            "output": self.output,
            "complete": self.complete,
            "interrupted": self.interrupted,
            "sources": self.sources,
            "report": self.report.to_dict(),
        }


def _capacity(engine: Engine, task: Task, options: RunOptions) -> int | None:
    from ssmdoc.pipeline.plan import window_capacity

    return window_capacity(engine.tokenizer, engine.max_context, task, options)


def read(
    engine: Engine,
    segments: Iterable,
    task: Task,
    options: RunOptions,
    on_progress: Callable[[int, float], None] | None = None,
    one_window: bool = False,
    hooks: Hooks = NO_HOOKS,
) -> Reading:
    """Read `segments` (from ssmdoc.ingest) into the model; windows before the last are answered here (map).

    `one_window`: the reading is to be saved, so it must be one pass; StateFileError as soon as the input
    needs a second window (before anything is answered). `hooks`: map-reduce's progress, for a UI."""
    report = Report(model_context_tokens=engine.max_context, model_context_source=engine.context.source, chunk_tokens=options.chunk_tokens)
    meter = Meter()
    prompt = build_prompt(engine.tokenizer, task, "whole")
    part_suffix = build_prompt(engine.tokenizer, task, "part").suffix
    reader = WindowReader(
        engine, prompt.prefix, options.chunk_tokens, _capacity(engine, task, options), meter, report,
        on_progress=on_progress,
    )
    partials: list[Partial] = []
    for window in reader.windows(tokenize(segments, engine.tokenizer)):
        if window.final:
            return Reading(task, window, partials, reader.sources.to_list(), report, meter)
        if one_window:
            from ssmdoc.errors import StateFileError
            from ssmdoc.pipeline.saved import MAP_REDUCE_REFUSED

            raise StateFileError(*MAP_REDUCE_REFUSED)
        if not partials:
            combine_capacity(engine, task, options.gen)  # fail now, not after answering every window
            hooks.say(f"map-reduce: the input is longer than the model's context ({engine.max_context:,} tokens); "
                      f"answering it by windows of up to {reader.capacity:,} document tokens, then combining")
        where = "" if not window.first else f", {window.first}" + (
            "" if window.last == window.first else f" to {window.last}")
        hooks.say(f"map-reduce: window {window.index + 1} read ({window.tokens:,} tokens{where}); answering it")
        out = answer(engine, window.state, part_suffix, options.gen, meter, report, hooks=hooks)
        if out.interrupted:
            raise KeyboardInterrupt  # Ctrl-C while a part was answered: stop here, as the user asked
        partials.append(Partial(out.ids, out.text, window.first, window.last))
    raise AssertionError("WindowReader always ends with a final window")  # pragma: no cover


def respond(
    engine: Engine,
    reading: Reading,
    options: RunOptions,
    on_text: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
    hooks: Hooks = NO_HOOKS,
) -> TaskResult:
    """Answer the task from what was read, streaming the answer's text to `on_text`."""
    task, report, meter = reading.task, reading.report, reading.meter
    last_state = reading.last.state
    if not reading.partials:
        suffix = build_prompt(engine.tokenizer, task, "whole").suffix
        needed = last_state.seen_tokens + len(suffix) + options.gen.max_new_tokens
        if engine.max_context is not None and needed > engine.max_context and warn:
            warn(
                f"read {report.input_tokens:,} tokens in one pass, beyond the model's context of "
                f"{engine.max_context:,} tokens (--strategy stream); the answer may degrade"
            )
        out: Answer = answer(engine, last_state, suffix, options.gen, meter, report, on_text, hooks)
        report.strategy = "stream"
    else:
        suffix = build_prompt(engine.tokenizer, task, "part").suffix
        hooks.say(f"map-reduce: window {reading.last.index + 1} (the last) read ({reading.last.tokens:,} tokens); "
                  "answering it")
        last = answer(engine, last_state, suffix, options.gen, meter, report, hooks=hooks)
        parts = reading.partials + [Partial(last.ids, last.text, reading.last.first, reading.last.last)]
        out = combine(engine, task, parts, options.chunk_tokens, options.gen, meter, report, on_text, hooks)
        report.strategy = "map-reduce"
    # A transformer would read prompt + whole input + answer as one sequence: the last window's prompt and
    # answer tokens stand for that overhead.
    overhead = last_state.seen_tokens - reading.last.tokens
    finish_report(engine, report, meter, report.input_tokens + overhead)
    return TaskResult(
        task.name, engine.name, out.text, reading.sources, report,
        read_interrupted=reading.last.interrupted, answer_interrupted=out.interrupted,
    )


def finish_report(engine: Engine, report: Report, meter: Meter, sequence_tokens: int) -> Report:
    """Fill in what is known only at the end: memory peaks, rates, the transformer comparison.

    `sequence_tokens`: the length of the one sequence a transformer would have had to hold (prompt, all of
    the input, answer), for `transformer_kv_equivalent_bytes`.
    """
    from ssmdoc.models import transformer_kv_equivalent_bytes

    report.transformer_kv_equivalent_bytes = transformer_kv_equivalent_bytes(
        engine.config, sequence_tokens, engine.dtype
    )
    report.weights_bytes = engine.model.weights_nbytes()
    report.peak_memory_bytes = peak_rss_bytes()
    if engine.device.type == "cuda":
        import torch

        report.peak_cuda_bytes = torch.cuda.max_memory_allocated(engine.device)
    report.prefill_tokens_per_second, report.decode_tokens_per_second = meter.rates()
    report.elapsed_seconds = time.perf_counter() - meter.started
    return report


def run(
    engine: Engine,
    segments: Iterable,
    task: Task,
    options: RunOptions | None = None,
    on_text: Callable[[str], None] | None = None,
    on_progress: Callable[[int, float], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> TaskResult:
    """Read then respond. `segments` come from `ssmdoc.ingest.iter_segments(inputs)`."""
    options = options or RunOptions()
    return respond(engine, read(engine, segments, task, options, on_progress), options, on_text, warn)
