"""Standard input, read as the data arrives (`tail -f app.log | ssmdoc watch -`), never waiting for EOF.

Each read takes whatever the pipe holds right now (`read1`: at most one system call), so the complete lines
it brings are emitted at once as one or more segments; a partial last line waits for its newline. Bytes are
decoded incrementally (a character split across two reads stays whole) with invalid UTF-8 replaced; CRLF
becomes LF; a line longer than `max_line_chars` is emitted in pieces so nothing grows without bound.
"""

from __future__ import annotations

import codecs
import sys
from collections.abc import Iterator
from typing import BinaryIO

from ssmdoc.errors import InputError
from ssmdoc.ingest.text import LineBatcher
from ssmdoc.ingest.types import IngestOptions, IngestStats, Segment, Source

READ_BYTES = 1 << 16


def _reader(stream: BinaryIO):
    # BufferedReader.read1 returns what is buffered or what one raw read brings; plain read() on a raw
    # stream does the same; read() on a buffered stream would block until READ_BYTES or EOF.
    read1 = getattr(stream, "read1", None)
    return read1 if read1 is not None else stream.read


def iter_stdin(
    options: IngestOptions, stats: IngestStats, stream: BinaryIO | None = None, name: str = "-", kind: str = "stdin"
) -> Iterator[Segment]:
    """Segments of a byte stream as its lines arrive: stdin by default, or a named pipe (`name`, `kind`)."""
    if stream is None:
        if sys.stdin is None:  # started with stdin closed (`<&-`)
            raise InputError("standard input is closed", hint="pipe something in, or name files instead of -")
        stream = sys.stdin.buffer
    read = _reader(stream)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    batcher = LineBatcher(options, lambda start, end: Source(kind, name, line_start=start, line_end=end))
    line_no = 1
    pending = ""  # the start of a line whose newline has not arrived yet
    while True:
        try:
            chunk = read(READ_BYTES)
        except OSError as exc:
            raise InputError(f"cannot read {'standard input' if name == '-' else name} ({exc.strerror or exc})")
        eof = not chunk
        if b"\0" in chunk:  # as for a file named explicitly: NUL bytes mean binary (and /dev/zero never ends)
            what = "standard input" if name == "-" else name
            raise InputError(f"{what} looks like a binary stream (contains NUL bytes), not text",
                             hint="ssmdoc reads UTF-8 text on stdin; pass PDFs and files by name")
        stats.bytes_read += len(chunk)
        lines = (pending + decoder.decode(chunk, final=eof)).split("\n")
        # The last element is an unfinished line ("" after a newline); at EOF it is the final line, if any.
        pending = lines.pop()
        if eof and pending:
            lines.append(pending)
            pending = ""
        for line in lines:
            # removesuffix: CRLF -> LF. A CR that ends one read stays in `pending` until its LF arrives.
            for piece in _pieces(line.removesuffix("\r") + "\n", options.max_line_chars):
                segment = batcher.add(line_no, piece)
                if segment is not None:
                    yield segment
            line_no += 1
        # An overlong unfinished line: emit its full-size pieces now and keep only the rest.
        while len(pending) > options.max_line_chars:
            segment = batcher.add(line_no, pending[: options.max_line_chars])
            pending = pending[options.max_line_chars :]
            if segment is not None:
                yield segment
        # Whatever this read completed goes out now: a `tail -f` reader sees each line as it lands.
        segment = batcher.flush()
        if segment is not None:
            yield segment
        if eof:
            return


def _pieces(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]
