"""watch: read a stream without end (`tail -f app.log | ssmdoc watch`), digest it as it goes.

Memory stays bounded however long it runs: the SSM layers carry everything in their fixed-size state and
the attention layers keep only the last `window` tokens of keys and values. A digest is generated from a
clone of the reading state, so reading goes on unchanged afterwards. At EOF or Ctrl-C, a final summary.

A reader thread pulls stdin into a small bounded queue, so that `--interval` digests come on time even
while no line arrives.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ssmdoc.errors import UsageError
from ssmdoc.pipeline.answering import GenOptions, answer
from ssmdoc.pipeline.document import TaskResult, finish_report
from ssmdoc.pipeline.engine import Engine, Meter
from ssmdoc.pipeline.prompts import Task, build_prompt
from ssmdoc.pipeline.reading import SourceTally, WindowReader
from ssmdoc.report import Report

_EOF = object()


@dataclass
class WatchOptions:
    every: int | None = None  # a digest every N lines...
    interval: float | None = None  # ...and/or every S seconds (when new lines came)
    window: int = 4096  # attention layers keep the keys and values of this many recent tokens
    chunk_tokens: int = 2048
    gen: GenOptions = field(default_factory=GenOptions)

    def __post_init__(self):
        if self.every is not None and self.every < 1:
            raise UsageError("--every must be at least 1 line")
        if self.interval is not None and self.interval <= 0:
            raise UsageError("--interval must be a positive number of seconds")
        if self.window < 1:
            raise UsageError("--window must be at least 1 token")


def open_watched(name: str):
    """The binary stream `watch` reads: stdin for "-", else FILE followed like `tail -f` (ingest.follow)."""
    import sys

    from ssmdoc.ingest.follow import FollowedFile

    if name == "-":
        if sys.stdin is None:
            from ssmdoc.errors import InputError

            raise InputError("standard input is closed", "pipe something in, or name a FILE to follow")
        return sys.stdin.buffer
    return FollowedFile(name)


def _put(out: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            out.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _pump(stream, out: queue.Queue, stop: threading.Event) -> None:
    from ssmdoc.ingest import IngestOptions, IngestStats
    from ssmdoc.ingest.follow import stoppable
    from ssmdoc.ingest.stdin import iter_stdin

    try:
        for segment in iter_stdin(IngestOptions(), IngestStats(), stoppable(stream, stop),
                                  name=getattr(stream, "name_for_sources", "-"),
                                  kind=getattr(stream, "kind_for_sources", "stdin")):
            if not _put(out, segment, stop):
                return
    except BaseException as exc:  # handed to the main thread, which raises it there
        _put(out, exc, stop)
    _put(out, _EOF, stop)


def watch(
    engine: Engine,
    stream,
    options: WatchOptions,
    on_digest: Callable[[int, int, bool], None] | None = None,
    on_text: Callable[[str], None] | None = None,
    on_progress: Callable[[int, float], None] | None = None,
) -> TaskResult:
    """Read the binary `stream` to its end (or Ctrl-C), digesting as configured.

    `on_digest(index, lines_read, final)` is called as each digest starts, then its text goes to `on_text`.
    The result's `output` is the final summary.
    """
    task = Task("watch")
    has_attention = any(spec.has_kv for spec in engine.config.layers)  # own or shared attention blocks
    report = Report(model_context_tokens=engine.max_context, model_context_source=engine.context.source, chunk_tokens=options.chunk_tokens)
    report.strategy = "sliding-window" if has_attention else "stream"
    report.kv_window = options.window if has_attention else None
    meter = Meter()
    prompt = build_prompt(engine.tokenizer, task, "final")
    reader = WindowReader(
        engine, prompt.prefix, options.chunk_tokens, None, meter, report,
        on_progress=on_progress, kv_window=options.window,
    )
    state = reader.new_state()
    sources = SourceTally()
    pending: list[int] = []  # tokens not yet in the state (less than a chunk)
    lines = since = 0  # lines read; lines since the last digest
    digests = 0
    last_digest = time.monotonic()

    def take(text: str, source) -> None:
        pending.extend(engine.tokenizer.encode(text, parse_special=False))  # see reading.tokenize
        while len(pending) >= options.chunk_tokens:
            chunk = pending[: options.chunk_tokens]
            del pending[: options.chunk_tokens]
            sources.add(source, len(chunk))
            reader.feed(state, chunk, document=True)

    def flush(source) -> None:
        if pending:
            sources.add(source, len(pending))
            chunk = pending[:]
            pending.clear()
            reader.feed(state, chunk, document=True)

    def digest(source) -> None:
        nonlocal digests, since, last_digest
        flush(source)
        if on_digest:
            on_digest(digests, lines, False)
        suffix = build_prompt(engine.tokenizer, task, "digest", since_line=lines - since + 1).suffix
        out = answer(engine, state.clone(), suffix, options.gen, meter, report, on_text)  # the clone is dropped
        if out.interrupted:
            raise KeyboardInterrupt  # Ctrl-C during a digest ends the watch: on to the final summary
        digests, since, last_digest = digests + 1, 0, time.monotonic()

    inbox: queue.Queue = queue.Queue(maxsize=8)  # bounded: a fast writer waits for the model
    stop = threading.Event()
    # The reader thread never holds the interpreter's stdin buffer (see ingest.follow.stoppable), and it is
    # stopped and joined before watch returns: a thread blocked in a buffered read at interpreter exit
    # aborts the process (`Fatal Python error: _enter_buffered_busy`).
    reader_thread = threading.Thread(target=_pump, args=(stream, inbox, stop), daemon=True,
                                     name="ssmdoc-watch-stdin")
    reader_thread.start()
    source = None
    interrupted = False
    try:
        while True:
            timeout = None
            if options.interval is not None:
                timeout = max(0.0, options.interval - (time.monotonic() - last_digest))
            try:
                item = inbox.get(timeout=timeout)
            except queue.Empty:
                if since and source is not None:
                    digest(source)
                else:
                    last_digest = time.monotonic()
                continue
            if item is _EOF:
                break
            if isinstance(item, BaseException):
                raise item
            source = item.source
            text: list[str] = []
            for line in item.text.splitlines(keepends=True):
                text.append(line)
                lines, since = lines + 1, since + 1
                if options.every is not None and since >= options.every:
                    take("".join(text), source)
                    text.clear()
                    digest(source)
            if text:
                take("".join(text), source)
            if options.interval is not None and since and time.monotonic() - last_digest >= options.interval:
                digest(source)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stop.set()
        reader_thread.join(timeout=2.0)
    if lines == 0:  # as summarize: no summary of nothing
        if interrupted:
            raise KeyboardInterrupt
        from ssmdoc.errors import InputError

        raise InputError("nothing to read: no text in the input", "pipe a log in, or name a FILE to follow")
    if source is not None:
        flush(source)
    if on_digest:
        on_digest(digests, lines, True)
    final_suffix = build_prompt(engine.tokenizer, task, "final").suffix
    out = answer(engine, state, final_suffix, options.gen, meter, report, on_text)
    finish_report(engine, report, meter, state.seen_tokens)  # the whole stream, as a transformer holds it
    return TaskResult(
        "watch", engine.name, out.text, sources.to_list(), report,
        read_interrupted=interrupted, answer_interrupted=out.interrupted,
    )
