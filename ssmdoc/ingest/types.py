"""The document model: segments of text, each with the address it came from, and what a run read or skipped."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field


def warn_to_stderr(message: str) -> None:
    """The default warning sink: one `warning: ...` line on stderr; the run goes on."""
    from ssmdoc.terminal import safe  # file names may hold escape sequences

    print(f"warning: {safe(message)}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Source:
    """Where a segment's text came from.

    kind: `pdf` (path + page), `file` (a file named on the command line), `repo` (a file found by walking a
    directory; path is relative to that directory, `root`), or `stdin` (path `-`). Lines are 1-based and
    inclusive; a line split because it was overlong keeps its number in every piece.
    """

    kind: str
    path: str
    page: int | None = None
    line_start: int | None = None
    line_end: int | None = None
    root: str | None = None  # the directory as given on the command line (kind "repo" only)

    def __str__(self) -> str:
        if self.page is not None:
            return f"{self.path} p.{self.page}"
        if self.line_start is None:
            return self.path
        if self.line_end is None or self.line_end == self.line_start:
            return f"{self.path}:{self.line_start}"
        return f"{self.path}:{self.line_start}-{self.line_end}"


@dataclass(frozen=True)
class Segment:
    """A modest piece of text (a PDF page, up to a few hundred lines) so that callers can tokenize as it comes."""

    text: str
    source: Source


@dataclass
class IngestOptions:
    """How inputs are read. Every field has a default that suits the command line."""

    password: str | None = None  # for encrypted PDFs; the empty password is always tried first
    layout: bool = False  # PDF: pypdf's layout-preserving extraction (keeps columns and tables aligned)
    include: tuple[str, ...] = ()  # directory walks: gitignore-style globs; when given, only matches are read
    exclude: tuple[str, ...] = ()  # directory walks: gitignore-style globs of files to skip
    max_file_bytes: int = 1 << 20  # directory walks: larger files of any kind are skipped ("too large"), 1 MiB
    include_secrets: bool = False  # walks: read files that look like secrets (ssmdoc.ingest.secrets) too
    max_line_chars: int = 100_000  # longer lines (stdin, text files) are split so no line is held unbounded
    segment_lines: int = 200  # a text segment holds at most this many lines...
    segment_chars: int = 32_000  # ...and at most about this many characters
    warn: Callable[[str], None] = warn_to_stderr  # where warnings go (damaged pages, skipped files, ...)


@dataclass
class IngestStats:
    """What a run read and what it left out, filled in as the segments are consumed."""

    files_read: int = 0
    bytes_read: int = 0  # bytes of the inputs consumed (file sizes; bytes from stdin)
    pages_read: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason -> paths
    pages_without_text: list[str] = field(default_factory=list)  # "doc.pdf p.3"
    unreadable_pages: list[str] = field(default_factory=list)
    secrets_read: list[str] = field(default_factory=list)  # files read that look like secrets

    def skip(self, path: str, reason: str) -> None:
        self.skipped.setdefault(reason, []).append(path)

    @property
    def n_skipped(self) -> int:
        return sum(len(paths) for paths in self.skipped.values())

    def to_dict(self) -> dict:
        return {
            "files_read": self.files_read,
            "bytes_read": self.bytes_read,
            "pages_read": self.pages_read,
            "skipped": {reason: list(paths) for reason, paths in sorted(self.skipped.items())},
            "pages_without_text": list(self.pages_without_text),
            "unreadable_pages": list(self.unreadable_pages),
            "secrets_read": list(self.secrets_read),
        }
