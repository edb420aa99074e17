"""Answering: the task prompt after the document, then generation streamed to a callback."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ssmdoc.pipeline.engine import Engine, Meter, feed
from ssmdoc.report import Report


@dataclass
class GenOptions:
    """Sampling as the user asked for it (temperature 0 is greedy)."""

    max_new_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None

    def __post_init__(self):
        # Checked now, not after an hour of reading: GenerationConfig raises UsageError for bad values.
        from ssmdoc.models.generate import GenerationConfig

        GenerationConfig(self.max_new_tokens, self.temperature, self.top_p, seed=self.seed)


@dataclass
class Answer:
    text: str
    ids: list[int]  # generated ids without the stop token (map-reduce feeds them on, no re-tokenizing)
    interrupted: bool = False  # Ctrl-C stopped the generation; `text` is what came before


def answer(
    engine: Engine,
    state,
    suffix: list[int],
    gen: GenOptions,
    meter: Meter,
    report: Report,
    on_text: Callable[[str], None] | None = None,
) -> Answer:
    """Feed `suffix` into `state` and generate from there, calling `on_text` with each piece of new text.

    The suffix is fed as prefill except for its last token, which starts generation: so decode timing
    covers generated tokens only. `state` is advanced; clone it first to keep reading afterwards.
    """
    from ssmdoc.models.generate import GenerationConfig, generate

    assert suffix, "a task prompt always ends with at least one token"
    feed(engine, suffix[:-1], state, meter)
    tok = engine.tokenizer
    stops = set(tok.eos_token_ids) | set(engine.config.eos_token_ids or [])
    config = GenerationConfig(
        max_new_tokens=gen.max_new_tokens,
        temperature=gen.temperature,
        top_p=gen.top_p,
        seed=gen.seed,
        eos_token_ids=tuple(sorted(stops)),
    )
    decoder = tok.decoder()
    pieces: list[str] = []
    ids: list[int] = []
    interrupted = False
    generated = 0  # the stop token too: it cost a decode step

    def emit(text: str) -> None:
        if text:
            pieces.append(text)
            if on_text is not None:
                on_text(text)

    start = time.perf_counter()
    try:
        for token_id in generate(engine.model, suffix[-1:], state, config, tokenizer=tok):
            generated += 1
            if token_id in stops:
                break
            ids.append(token_id)
            emit(decoder.push(token_id))
    except KeyboardInterrupt:
        interrupted = True
    meter.decode_seconds += time.perf_counter() - start
    meter.decode_tokens += generated
    emit(decoder.flush())
    report.note_state(state.nbytes())
    return Answer("".join(pieces), ids, interrupted)
