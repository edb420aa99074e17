"""Reading: token pieces -> fixed-size chunks fed into one model state, as the input arrives.

`WindowReader.windows` consumes the input lazily (stdin is read while it is being written) and yields a
`Window` each time the state holds as many document tokens as it may (`capacity`, from the model's context),
then goes on with a fresh state. With no capacity (a model without a stated context, or `--strategy
stream`) there is one window over the whole input. Nothing is dropped: every token lands in some window.

Ctrl-C while reading ends the input early; the tokens read so far still form the last window. SIGINT is
deferred while a chunk is in the model, because a state advanced through half of its layers would be
inconsistent.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ssmdoc.pipeline.engine import Engine, Meter, feed
from ssmdoc.report import Report


@dataclass
class Piece:
    """Token ids from one place of the input (`source` None for text ssmdoc wrote itself, e.g. part headers)."""

    ids: list[int]
    source: object | None = None  # ssmdoc.ingest.Source


def tokenize(segments: Iterable, tokenizer) -> Iterator[Piece]:
    """Segments -> token pieces, one segment at a time (incremental: never the whole input at once).

    Special-token text inside a document (`<|eos|>`, `<|im_start|>` in a tokenizer's source code) is read
    as plain text: a document must not be able to end the user's turn or open the assistant's.
    """
    for segment in segments:
        yield Piece(tokenizer.encode(segment.text, parse_special=False), segment.source)


@dataclass
class SourceTally:
    """Token counts per input (a file, a PDF, stdin), in the order the inputs were first seen."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, source, n: int) -> None:
        # A file found in a directory walk is named from that directory as given, so that two
        # repositories' README.md stay apart.
        root = getattr(source, "root", None)
        key = (source.kind, os.path.join(root, source.path) if root else source.path)
        self.counts[key] = self.counts.get(key, 0) + n

    def to_list(self) -> list[dict]:
        return [{"kind": kind, "address": path, "tokens": n} for (kind, path), n in self.counts.items()]


@dataclass
class Window:
    index: int  # 0, 1, ...
    state: object  # the InferenceState holding prefix + this window's document tokens
    tokens: int  # document tokens in this window
    first: str | None  # address of its first and last source ("contract.pdf p.3")
    last: str | None
    final: bool  # no input follows
    interrupted: bool = False  # Ctrl-C ended the input here


class _DeferSigint:
    """Holds SIGINT (and SIGTERM under the `ssmdoc` command) back while the model runs; re-raises it as
    KeyboardInterrupt right after. A second signal ends the process at once (ssmdoc.signals)."""

    def guard(self):
        from ssmdoc.signals import deferred

        return deferred()


class WindowReader:
    def __init__(
        self,
        engine: Engine,
        prefix: list[int],
        chunk_tokens: int,
        capacity: int | None,
        meter: Meter,
        report: Report,
        count_chunks: bool = True,
        on_progress: Callable[[int, float], None] | None = None,
        kv_window: int | None = None,
    ):
        if chunk_tokens < 1:
            raise ValueError("chunk_tokens must be positive")
        self.engine, self.prefix, self.chunk_tokens, self.capacity = engine, prefix, chunk_tokens, capacity
        self.meter, self.report, self.count_chunks = meter, report, count_chunks
        self.on_progress, self.kv_window = on_progress, kv_window
        self.sources = SourceTally()
        self.tokens_read = 0
        self._sigint = _DeferSigint()

    def new_state(self):
        state = self.engine.model.new_state(kv_window=self.kv_window)
        self.feed(state, self.prefix, document=False)
        return state

    def feed(self, state, ids: list[int], document: bool) -> None:
        interrupted = False
        try:
            with self._sigint.guard():
                feed(self.engine, ids, state, self.meter)
        except KeyboardInterrupt:
            # Ctrl-C came while the chunk was in the model: the chunk is in the state, so it is counted
            # below like any other before the interrupt goes on (the report must agree with `sources`).
            interrupted = True
        self.report.note_state(state.nbytes())
        if document:
            self.tokens_read += len(ids)
            if self.count_chunks:
                self.report.chunks += 1
                self.report.input_tokens += len(ids)
            if self.on_progress is not None and not interrupted:
                self.on_progress(self.tokens_read, time.perf_counter() - self.meter.started)
        if interrupted:
            raise KeyboardInterrupt

    def windows(self, pieces: Iterable[Piece]) -> Iterator[Window]:
        state, buf, in_window, index = None, [], 0, 0
        first = last = None
        interrupted = False
        try:
            for piece in pieces:
                ids, pos = piece.ids, 0
                while pos < len(ids):
                    if state is None:
                        state = self.new_state()
                    room = len(ids) - pos if self.capacity is None else self.capacity - in_window
                    if room <= 0:  # full, and more input exists: close this window, open the next
                        rest, buf = buf, []  # emptied first: an interrupt after the feed must not feed it twice
                        self.feed(state, rest, document=True)
                        yield Window(index, state, in_window, first, last, final=False)
                        state, in_window, first, last = None, 0, None, None
                        index += 1
                        continue
                    take = ids[pos : pos + room]
                    pos += len(take)
                    in_window += len(take)
                    buf.extend(take)
                    if piece.source is not None:
                        self.sources.add(piece.source, len(take))
                        first = first or str(piece.source)
                        last = str(piece.source)
                    while len(buf) >= self.chunk_tokens:
                        chunk, buf = buf[: self.chunk_tokens], buf[self.chunk_tokens :]
                        self.feed(state, chunk, document=True)
        except KeyboardInterrupt:
            interrupted = True  # what was read so far is still answered
        if state is None:
            state = self.new_state()  # empty input: the task still runs (and says there was nothing)
        if buf:
            self.feed(state, buf, document=True)
        yield Window(index, state, in_window, first, last, final=True, interrupted=interrupted)
