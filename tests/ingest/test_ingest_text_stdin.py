"""Text files and stdin: line addresses, CRLF, invalid UTF-8, overlong lines, and reading stdin as it arrives."""

import io
import select
import subprocess
import sys

from ssmdoc.ingest import IngestOptions, IngestStats, iter_segments


def options(**kwargs):
    return IngestOptions(warn=lambda message: None, **kwargs)


class Trickle(io.RawIOBase):
    """A stream that hands out its chunks one read at a time, like a pipe fed by a slow writer."""

    def __init__(self, chunks):
        self.chunks = list(chunks)

    def readable(self):
        return True

    def read(self, size=-1):
        return self.chunks.pop(0) if self.chunks else b""


def stdin_segments(data_or_chunks, **kwargs):
    stream = io.BytesIO(data_or_chunks) if isinstance(data_or_chunks, bytes) else Trickle(data_or_chunks)
    return list(iter_segments(["-"], options(**kwargs), IngestStats(), stdin=stream))


def test_text_file_lines_crlf_and_invalid_utf8(tmp_path):
    path = tmp_path / "notes.log"
    path.write_bytes(b"first\r\nsecond \xff\xfe here\r\nthird")
    (segment,) = list(iter_segments([str(path)], options()))
    assert segment.text == f"=== {path} ===\nfirst\nsecond \ufffd\ufffd here\nthird\n"
    assert (segment.source.kind, segment.source.line_start, segment.source.line_end) == ("file", 1, 3)


def test_text_file_overlong_line_is_split_and_keeps_its_number(tmp_path):
    path = tmp_path / "min.js"
    path.write_text("a" * 2500 + "\nb\n")
    segments = list(iter_segments([str(path)], options(max_line_chars=1000, segment_lines=2)))
    body = "".join(s.text for s in segments).split("===\n", 1)[1]
    assert body == "a" * 2500 + "\nb\n"
    assert [(s.source.line_start, s.source.line_end) for s in segments] == [(1, 1), (1, 2)]


def test_stdin_lines_have_addresses_and_crlf_is_removed():
    segments = stdin_segments(b"one\r\ntwo\nthree")
    assert "".join(s.text for s in segments) == "one\ntwo\nthree\n"
    assert all(s.source.kind == "stdin" and s.source.path == "-" for s in segments)
    assert (segments[0].source.line_start, segments[-1].source.line_end) == (1, 3)


def test_stdin_crlf_and_utf8_characters_split_across_reads():
    euro = "€".encode()  # three bytes
    segments = stdin_segments([b"a\r", b"\nb" + euro[:1], euro[1:] + b"\n"])
    assert "".join(s.text for s in segments) == "a\nb€\n"


def test_stdin_emits_a_segment_per_read_not_at_eof():
    segments = stdin_segments([b"l1\nl2\n", b"l3\n", b"par", b"tial\n"])
    assert [s.text for s in segments] == ["l1\nl2\n", "l3\n", "partial\n"]
    assert [str(s.source) for s in segments] == ["-:1-2", "-:3", "-:4"]


def test_stdin_invalid_utf8_is_replaced():
    segments = stdin_segments(bytes(range(1, 256)) + b"\n")  # no NUL: that is refused as binary
    text = "".join(s.text for s in segments)
    assert "\ufffd" in text and text.endswith("\n")


def test_stdin_multi_megabyte_line_is_split_with_bounded_pieces():
    line = b"x" * (3 << 20)
    chunks = [line[i : i + 65536] for i in range(0, len(line), 65536)] + [b"\nafter\n"]
    segments = stdin_segments(chunks, max_line_chars=100_000)
    assert max(len(s.text) for s in segments) <= 100_000 + 1
    assert "".join(s.text for s in segments) == "x" * (3 << 20) + "\nafter\n"
    assert segments[-1].source.line_end == 2
    assert all(s.source.line_start == 1 for s in segments[:-1])


CHILD = """
import sys
from ssmdoc.ingest import iter_segments
for segment in iter_segments(["-"]):
    sys.stdout.write(repr((str(segment.source), segment.text)) + "\\n")
    sys.stdout.flush()
"""


def _readline(proc, timeout=20.0):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "no segment came out before the timeout: stdin is not read incrementally"
    return proc.stdout.readline().decode()


def test_stdin_is_read_as_it_arrives_in_a_real_pipe():
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        proc.stdin.write(b"first line\r\n")
        proc.stdin.flush()
        assert _readline(proc) == repr(("-:1", "first line\n")) + "\n"  # the pipe is still open
        proc.stdin.write(b"second \xff\n")
        proc.stdin.flush()
        assert _readline(proc) == repr(("-:2", "second \ufffd\n")) + "\n"
        proc.stdin.write(b"tail without newline")
        proc.stdin.close()
        assert _readline(proc) == repr(("-:3", "tail without newline\n")) + "\n"
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
