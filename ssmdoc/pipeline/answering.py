"""Answering: the task prompt after the document, then generation streamed to a callback."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ssmdoc.pipeline.engine import Engine, Meter, feed
from ssmdoc.pipeline.hooks import NO_HOOKS, Hooks
from ssmdoc.report import Report


_SAMPLING = ("temperature", "top_p", "top_k", "repetition_penalty")
_GREEDY = dict(temperature=0.0, top_p=1.0, top_k=0, repetition_penalty=1.0)


@dataclass
class GenOptions:
    """Sampling as the user asked for it (temperature 0 is greedy); see ssmdoc.models.generate. A sampling
    setting left None takes the checkpoint's (generation_config.json, as transformers' generate() reads it:
    ssmdoc.models.generation_defaults), greedy when it ships none."""

    max_new_tokens: int = 512
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    top_k: int | None = None  # 0: off
    repetition_penalty: float | None = None  # 1: off
    stop: tuple[str, ...] = ()  # stop strings: the answer ends where one starts

    def __post_init__(self):
        self.stop = tuple(self.stop)
        self.config()  # checked now, not after an hour of reading: GenerationError for bad values

    def sampling(self, defaults=None) -> dict:
        """The sampling settings to use: the user's, else the checkpoint's `defaults`, else greedy."""
        shipped = defaults.sampling() if defaults is not None else _GREEDY
        return {k: getattr(self, k) if getattr(self, k) is not None else shipped[k] for k in _SAMPLING}

    def config(self, eos_token_ids=(), defaults=None):
        from ssmdoc.models.generate import GenerationConfig

        return GenerationConfig(max_new_tokens=self.max_new_tokens, seed=self.seed, stop_strings=self.stop,
                                eos_token_ids=tuple(eos_token_ids), **self.sampling(defaults))


@dataclass
class Answer:
    text: str
    ids: list[int]  # generated ids without the stop token (map-reduce feeds them on, no re-tokenizing)
    interrupted: bool = False  # Ctrl-C stopped the generation; `text` is what came before
    finish: str = ""  # why it ended: "eos", "stop_string", "length"; "" when interrupted


def answer(
    engine: Engine,
    state,
    suffix: list[int],
    gen: GenOptions,
    meter: Meter,
    report: Report,
    on_text: Callable[[str], None] | None = None,
    hooks: Hooks = NO_HOOKS,
) -> Answer:
    """Feed `suffix` into `state` and generate from there, calling `on_text` with each piece of new text
    (and `hooks.token` with the count of tokens so far).

    The suffix is fed as prefill except for its last token, which starts generation: so decode timing
    covers generated tokens only. `state` is advanced; clone it first to keep reading afterwards.
    """
    from ssmdoc.models.generate import generate

    assert suffix, "a task prompt always ends with at least one token"
    feed(engine, suffix[:-1], state, meter)
    tok = engine.tokenizer
    config = gen.config(sorted(set(tok.eos_token_ids) | set(engine.config.eos_token_ids or [])),
                        defaults=engine.generation)
    decoder = tok.decoder()
    pieces: list[str] = []
    ids: list[int] = []
    interrupted = False
    finish = None

    def emit(text: str) -> None:
        if text:
            pieces.append(text)
            if on_text is not None:
                on_text(text)

    start = time.perf_counter()
    tokens = generate(engine.model, suffix[-1:], state, config, tokenizer=tok)  # the one decode loop
    try:
        while True:
            try:
                token_id = next(tokens)
            except StopIteration as stop:
                finish = stop.value  # models.generate.Finish: eos, a stop string, or max_new_tokens
                break
            ids.append(token_id)
            emit(decoder.push(token_id))
            if hooks.token is not None:
                hooks.token(len(ids), gen.max_new_tokens)
    except KeyboardInterrupt:
        interrupted = True
    meter.decode_seconds += time.perf_counter() - start
    # the EOS token was chosen too (it cost a decode step) but is not part of the answer
    meter.decode_tokens += len(ids) + (finish is not None and finish.reason == "eos")
    emit(decoder.flush() + (finish.tail_text if finish is not None else ""))
    report.note_state(state.nbytes())
    return Answer("".join(pieces), ids, interrupted, finish.reason if finish is not None else "")
