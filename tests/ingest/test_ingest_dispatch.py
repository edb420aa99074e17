"""Several inputs in one call, the errors ingestion raises, and the property that bad bytes never crash it."""

import io
import os
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.fixtures import make_pdf, write
from ssmdoc.errors import InputError
from ssmdoc.ingest import IngestOptions, IngestStats, iter_segments


def quiet(**kwargs):
    return IngestOptions(warn=lambda message: None, **kwargs)


def test_inputs_are_read_in_the_order_given(tmp_path):
    pdf = write(tmp_path / "a.pdf", make_pdf(["page one"]))
    notes = write(tmp_path / "notes" / "n.md", "# note\n")
    text = write(tmp_path / "b.txt", "bee\n")
    stdin = io.BytesIO(b"from stdin\n")
    stats = IngestStats()
    segments = list(iter_segments([str(text), str(pdf), "-", str(tmp_path / "notes")], quiet(), stats, stdin=stdin))
    assert [(s.source.kind, str(s.source)) for s in segments] == [
        ("file", f"{text}:1"),
        ("pdf", f"{pdf} p.1"),
        ("stdin", "-:1"),
        ("repo", "n.md:1"),
    ]
    assert stats.files_read == 3
    assert stats.bytes_read == text.stat().st_size + pdf.stat().st_size + notes.stat().st_size + len(b"from stdin\n")


def test_named_pipe_is_read_like_stdin(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def writer():
        with open(fifo, "wb") as fh:
            fh.write(b"piped one\npiped two\n")

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        segments = list(iter_segments([str(fifo)], quiet()))
    finally:
        thread.join(timeout=10)
    assert "".join(s.text for s in segments) == "piped one\npiped two\n"
    assert str(segments[0].source) == f"{fifo}:1-2" and segments[0].source.kind == "file"


def test_closed_stdin_is_an_input_error(monkeypatch):
    monkeypatch.setattr("sys.stdin", None)
    with pytest.raises(InputError, match="standard input is closed"):
        list(iter_segments(["-"], quiet()))


def test_missing_input_fails_before_anything_is_read(tmp_path):
    good = write(tmp_path / "good.txt", "x\n")
    with pytest.raises(InputError, match="missing.txt: no such file"):
        iter_segments([str(good), str(tmp_path / "missing.txt")], quiet())


def test_stdin_named_twice_and_no_inputs_are_errors():
    with pytest.raises(InputError):
        iter_segments(["-", "-"], quiet())
    with pytest.raises(InputError):
        iter_segments([], quiet())


def test_binary_file_named_explicitly_is_an_input_error(tmp_path):
    path = write(tmp_path / "photo.jpg", b"\xff\xd8\xff\xe0\0\x10JFIF" + os.urandom(200))
    with pytest.raises(InputError, match="binary") as info:
        list(iter_segments([str(path)], quiet()))
    assert info.value.hint


def test_empty_inputs_are_nothing_to_read(tmp_path):
    empty = write(tmp_path / "empty.txt", "")
    warnings = []
    with pytest.raises(InputError, match="nothing to read"):
        list(iter_segments([str(empty)], IngestOptions(warn=warnings.append)))
    assert warnings == [f"{empty}: empty file"]
    with pytest.raises(InputError, match="nothing to read"):
        list(iter_segments(["-"], quiet(), stdin=io.BytesIO(b"")))


def test_directory_with_only_skipped_files_says_why(tmp_path):
    write(tmp_path / "d" / "x.bin", b"\0\1\2")
    with pytest.raises(InputError, match="nothing to read") as info:
        list(iter_segments([str(tmp_path / "d")], quiet()))
    assert "1 binary" in info.value.hint


def _consume(segments):
    for segment in segments:
        assert isinstance(segment.text, str) and segment.text


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PDF_PREFIX = make_pdf(["fuzzed page"], compress=True)


@FUZZ
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".txt", ".pdf", ".bin", ""]))
def test_no_bytes_as_a_file_raise_anything_but_input_error(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        _consume(iter_segments([str(path)], quiet(max_line_chars=64)))
    except InputError:
        pass


@FUZZ
@given(cut=st.integers(min_value=0, max_value=len(PDF_PREFIX)), noise=st.binary(max_size=64))
def test_no_damaged_pdf_raises_anything_but_input_error(tmp_path, cut, noise):
    path = tmp_path / "damaged.pdf"
    path.write_bytes(PDF_PREFIX[:cut] + noise + PDF_PREFIX[cut + len(noise) :])
    try:
        _consume(iter_segments([str(path)], quiet()))
    except InputError:
        pass


@FUZZ
@given(chunks=st.lists(st.binary(max_size=300), max_size=8))
def test_no_bytes_on_stdin_raise_anything_but_input_error(chunks):
    chunks = [chunk for chunk in chunks if chunk]  # an empty read means EOF
    data = b"".join(chunks)
    class Chunks(io.RawIOBase):
        def readable(self):
            return True

        def read(self, size=-1):
            return chunks.pop(0) if chunks else b""

    stats = IngestStats()
    try:
        segments = list(iter_segments(["-"], quiet(max_line_chars=50), stats, stdin=Chunks()))
    except InputError:
        return
    # every byte is accounted for, every line survives (a last line without newline gets one), none is huge
    assert stats.bytes_read == len(data)
    text = "".join(s.text for s in segments)
    assert text.count("\n") == data.count(b"\n") + (not data.endswith(b"\n"))
    assert all(len(s.text) <= 51 * 200 for s in segments)
