"""Plain-text files (logs, markdown, source code): binary sniffing, then line-numbered segments, streamed."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterable, Iterator

from ssmdoc.ingest.types import IngestOptions, Segment, Source

SNIFF_BYTES = 8192
# Control characters that real text contains; any other C0 control hints at a binary file.
_TEXT_CONTROLS = {"\t", "\n", "\r", "\f", "\b", "\x1b", "\v"}


def header(path: str) -> str:
    """The line that opens each file's text, so the model (and the reader of a prompt) knows which file it is."""
    return f"=== {path} ===\n"


def read_sample(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(SNIFF_BYTES)


def binary_reason(sample: bytes, complete: bool) -> str | None:
    """Why `sample` (the start of a file) is not text, or None when it reads as UTF-8 text.

    A NUL byte is the classic sign (git uses the same test). Otherwise the sample is decoded as UTF-8 with
    replacement; more than a tenth of replaced or control characters means some other binary format or an
    encoding we do not read. `complete` says the sample is the whole file (else a final partial character
    is not an error).
    """
    if b"\0" in sample:
        return "contains NUL bytes"
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(sample, final=complete)
    if not text:
        return None
    bad = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in _TEXT_CONTROLS))
    if bad > len(text) / 10:
        return "not UTF-8 text"
    return None


class LineBatcher:
    """Collects numbered lines and cuts them into segments of at most `segment_lines` lines / ~`segment_chars`."""

    def __init__(self, options: IngestOptions, make_source, first_text: str = ""):
        self.options = options
        self.make_source = make_source  # (line_start, line_end) -> Source
        self.prefix = first_text  # e.g. the file header, put before the first segment only
        self.parts: list[str] = []
        self.chars = 0
        self.start: int | None = None
        self.end: int | None = None

    def add(self, line_no: int, piece: str) -> Segment | None:
        """Adds one line (or one piece of an overlong line); returns a segment when one is full."""
        if self.start is None:
            self.start = line_no
        self.end = line_no
        self.parts.append(piece)
        self.chars += len(piece)
        if len(self.parts) >= self.options.segment_lines or self.chars >= self.options.segment_chars:
            return self.flush()
        return None

    def flush(self) -> Segment | None:
        if not self.parts:
            return None
        segment = Segment(self.prefix + "".join(self.parts), self.make_source(self.start, self.end))
        self.prefix, self.parts, self.chars, self.start, self.end = "", [], 0, None, None
        return segment


def number_lines(pieces: Iterable[str], first_line: int = 1) -> Iterator[tuple[int, str]]:
    """Numbers pieces of text that each end a line ("...\\n") or continue one (an overlong line's parts)."""
    line_no = first_line
    for piece in pieces:
        yield line_no, piece
        if piece.endswith("\n"):
            line_no += 1


def iter_text_file(
    path: str, display: str, options: IngestOptions, kind: str = "file", root: str | None = None
) -> Iterator[Segment]:
    """Streams a text file as segments of lines; the first one starts with the file's header line.

    Universal newlines (CRLF and lone CR become LF); a BOM is dropped; invalid UTF-8 is replaced, never fatal;
    a line longer than `max_line_chars` is cut into pieces so memory stays bounded.
    """

    def source(start: int, end: int) -> Source:
        return Source(kind, display, line_start=start, line_end=end, root=root)

    batcher = LineBatcher(options, source, header(display))
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline=None)
        pieces = _final_newline(iter(lambda: text.readline(options.max_line_chars), ""))
        for line_no, piece in number_lines(pieces):
            segment = batcher.add(line_no, piece)
            if segment is not None:
                yield segment
    last = batcher.flush()
    if last is not None:
        yield last


def _final_newline(pieces: Iterator[str]) -> Iterator[str]:
    """Ends the last line with a newline, so the next file's header never joins a file's last line."""
    last = None
    for piece in pieces:
        if last is not None:
            yield last
        last = piece
    if last is not None:
        yield last if last.endswith("\n") else last + "\n"
