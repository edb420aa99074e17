"""Progress on stderr while a run reads and answers: honest about what it knows.

- `bar` (a terminal): a bar with the done fraction, ETA and total whenever the input's size is known
  (files and directories by bytes, PDFs by page, stdin redirected from a file by its size), beside the
  tokens read, tokens/s and peak memory; a spinner with the same figures when the size is not known (a pipe).
- `lines` (off a terminal: nohup, CI, a log file): the same figures as one plain line every `interval`
  seconds, so a long job shows it is alive without flooding the log.
- `none`: nothing (also --quiet).

Events that change the shape of the run (map-reduce starting, a round of combining) and the answer being
generated are reported in all modes but `none`.

`Progress.segments(iterable)` passes ingest segments through, counting how much of each input they cover;
`Progress.tokens(read, elapsed)` is the pipeline's `on_progress` callback.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

MODES = ("auto", "bar", "lines", "none")


def stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def resolve_mode(mode: str, quiet: bool = False) -> str:
    from ssmdoc.errors import UsageError

    if mode not in MODES:
        raise UsageError(f"unknown --progress {mode!r}", f"use one of {', '.join(MODES)}")
    if quiet:
        return "none"
    if mode == "auto":
        return "bar" if stderr_is_tty() else "lines"
    return mode


def _dir_bytes(root: str, max_file_bytes: int | None) -> int:
    """Bytes of the regular files a walk would read, roughly: hidden directories (.git) and files over the
    size limit are left out, as the walk leaves them out; .gitignore is not applied (the bar may then end
    early, never run past 100%)."""
    total = 0
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            try:
                st = os.stat(os.path.join(directory, name))
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and (max_file_bytes is None or st.st_size <= max_file_bytes):
                total += st.st_size
    return total


def _pdf_pages(path: str) -> int | None:
    try:
        from pypdf import PdfReader

        return len(PdfReader(path).pages)
    except Exception:  # encrypted, damaged: the bar falls back to not knowing this input's size
        return None


@dataclass
class InputSize:
    """How big one input is and how much of it was read: bytes, or pages for a PDF."""

    name: str
    total: int | None  # None: unknown (a pipe)
    unit: str  # "bytes" | "pages"
    weight: int  # its share of the whole bar, in bytes
    done: int = 0


@dataclass
class Sizes:
    inputs: dict[str, InputSize] = field(default_factory=dict)

    @classmethod
    def measure(cls, inputs: Sequence[str], max_file_bytes: int | None = None, stdin=None) -> Sizes:
        sizes = cls()
        for name in inputs:
            total: int | None
            unit, weight = "bytes", 0
            try:
                if name == "-":
                    stream = stdin if stdin is not None else sys.stdin
                    st = os.fstat(stream.fileno())
                    total = st.st_size if stat.S_ISREG(st.st_mode) else None
                elif os.path.isdir(name):
                    total = _dir_bytes(name, max_file_bytes)
                elif name.lower().endswith(".pdf"):
                    weight = os.path.getsize(name)
                    total, unit = _pdf_pages(name), "pages"
                else:
                    st = os.stat(name)
                    total = st.st_size if stat.S_ISREG(st.st_mode) else None
            except (OSError, ValueError, AttributeError):
                total = None
            sizes.inputs[name] = InputSize(name, total, unit, weight or (total or 0))
        return sizes

    @property
    def known(self) -> bool:
        return bool(self.inputs) and all(s.total is not None for s in self.inputs.values())

    @property
    def total_bytes(self) -> int:
        return sum(s.weight for s in self.inputs.values())

    def fraction(self) -> float | None:
        if not self.known or self.total_bytes == 0:
            return None
        done = sum(s.weight * min(1.0, s.done / s.total) for s in self.inputs.values() if s.total)
        return min(0.999, done / self.total_bytes)  # 100% only when reading is over

    def note(self, segment) -> None:
        src = segment.source
        key = getattr(src, "root", None) or src.path
        size = self.inputs.get(key)
        if size is None:
            return
        if size.unit == "pages":
            size.done = max(size.done, int(getattr(src, "page", 0) or 0))
        else:
            size.done += len(segment.text.encode("utf-8", "replace"))


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class Progress:
    """What the CLI shows on stderr while a run goes on (module docstring)."""

    def __init__(self, mode: str = "auto", quiet: bool = False, interval: float = 10.0, sizes: Sizes | None = None,
                 stream=None):
        self.mode = resolve_mode(mode, quiet)
        self.interval = interval
        self.sizes = sizes
        self.stream = stream  # for tests; default sys.stderr at the time of writing
        self._bar = None
        self._task = None
        self._last_draw = 0.0
        self._last_line = time.monotonic()
        self._started = time.monotonic()
        self._phase = "reading"
        self.read_tokens = 0
        self.rate = 0.0
        self._gen_started = time.monotonic()
        self._quiet_tokens = False  # the answer streams to the terminal: it is its own progress

    # -- output ------------------------------------------------------------------------------------------
    def _write(self, line: str) -> None:
        out = self.stream or sys.stderr
        out.write(line + "\n")
        out.flush()

    def event(self, message: str) -> None:
        """A line that stays: the shape of the run changed (map-reduce starts, a combining round)."""
        if self.mode == "none":
            return
        if self._bar is not None:
            self._bar.console.print(message, markup=False, highlight=False)
        else:
            self._write(message)

    def _status(self) -> str:
        from ssmdoc.report import human_bytes, peak_rss_bytes

        parts = [f"{self.read_tokens:,} tokens", f"{self.rate:,.0f} tokens/s",
                 f"peak memory {human_bytes(peak_rss_bytes())}"]
        return ", ".join(parts)

    def _line(self) -> str:
        if self._phase != "reading":
            from ssmdoc.report import human_bytes, peak_rss_bytes

            return f"progress: {self._phase}, peak memory {human_bytes(peak_rss_bytes())}"
        fraction = self.sizes.fraction() if self.sizes else None
        head = f"progress: {self._phase}"
        if fraction is not None:
            elapsed = time.monotonic() - self._started
            eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
            from ssmdoc.report import human_bytes

            head += f" {int(100 * fraction)}% of {human_bytes(self.sizes.total_bytes)}"
            if eta is not None:
                head += f", ETA {_duration(eta)}"
        return f"{head}, {self._status()}"

    def _tick(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.mode == "lines":
            if force or now - self._last_line >= self.interval:
                self._last_line = now
                self._write(self._line())
        elif self.mode == "bar" and self._bar is not None:
            if not force and now - self._last_draw < 0.2:  # redrawing is not free; 5 times a second is plenty
                return
            self._last_draw = now
            fraction = self.sizes.fraction() if self.sizes and self._phase == "reading" else None
            stats = self._status() if self._phase == "reading" else ""
            kwargs = {"description": self._phase, "stats": stats}
            if fraction is not None:
                kwargs["completed"] = fraction * 1000
            self._bar.update(self._task, **kwargs)

    # -- phases ------------------------------------------------------------------------------------------
    @contextmanager
    def show(self, phase: str = "reading"):
        """The bar (on a terminal) for the duration of the block."""
        self._phase = phase
        self._started = time.monotonic()
        if self.mode != "bar":
            yield self
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress as RichProgress, SpinnerColumn, TextColumn, TimeRemainingColumn

        known = phase == "reading" and self.sizes is not None and self.sizes.known
        columns = [SpinnerColumn(), TextColumn("{task.description}")]
        if known:
            from ssmdoc.report import human_bytes

            total = human_bytes(self.sizes.total_bytes).replace("[", "\\[")
            columns += [BarColumn(), TextColumn("{task.percentage:>3.0f}% of " + total), TimeRemainingColumn()]
        columns.append(TextColumn("{task.fields[stats]}"))
        with RichProgress(*columns, console=Console(stderr=True), transient=True) as bar:
            self._bar = bar
            self._task = bar.add_task(phase, total=1000 if known else None, stats="")
            try:
                yield self
            finally:
                self._bar = None

    def hooks(self):
        """The pipeline's hooks (ssmdoc.pipeline.hooks): map-reduce events as lines, generation as progress."""
        from ssmdoc.pipeline.hooks import Hooks

        return Hooks(event=self.event, token=None if self._quiet_tokens else self.generated)

    @contextmanager
    def answering(self, streams_to_terminal: bool):
        """The answer's phase. When its text streams to the terminal it shows progress itself: no bar then."""
        self._quiet_tokens = streams_to_terminal
        self._phase = "answering"
        if streams_to_terminal:
            yield self
            return
        with self.show("answering"):
            yield self

    def phase(self, name: str) -> None:
        self._phase = name
        self._tick(force=self.mode == "bar")

    def segments(self, segments: Iterable) -> Iterator:
        for segment in segments:
            if self.sizes is not None:
                self.sizes.note(segment)
            yield segment

    def tokens(self, read: int, elapsed: float) -> None:
        """The pipeline's on_progress: document tokens read so far, seconds since reading started."""
        self.read_tokens = read
        self.rate = read / elapsed if elapsed > 0 else 0.0
        self._phase = "reading"
        self._tick()

    def generated(self, count: int, limit: int) -> None:
        """Tokens generated so far (of at most `limit`)."""
        elapsed = time.monotonic() - self._gen_started if count > 1 else 0.0
        if count <= 1:
            self._gen_started = time.monotonic()
        rate = f", {count / elapsed:,.1f} tokens/s" if elapsed > 0 else ""
        self._phase = f"answering: {count:,} of at most {limit:,} tokens{rate}"
        self._tick()
