"""Inputs -> one lazy stream of segments: `-` is stdin, a directory is walked, a PDF is paged, text is read."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from ssmdoc.errors import InputError
from ssmdoc.ingest.pdf import iter_pdf
from ssmdoc.ingest.stdin import iter_stdin
from ssmdoc.ingest.text import SNIFF_BYTES, binary_reason, iter_text_file, read_sample
from ssmdoc.ingest.secrets import file_reason
from ssmdoc.ingest.tree import iter_tree
from ssmdoc.ingest.types import IngestOptions, IngestStats, Segment
from ssmdoc.terminal import decoded_name

STDIN = "-"


def _check(inputs: Sequence[str]) -> None:
    """Fails before anything is read, so a typo in the last of ten inputs does not cost the first nine."""
    if not inputs:
        raise InputError("no input given", hint="name files, directories, or - for standard input")
    if list(inputs).count(STDIN) > 1:
        raise InputError("standard input (-) is named more than once")
    for name in inputs:
        if name == STDIN:
            continue
        if not os.path.exists(name):
            hint = "check the path" if not os.path.islink(name) else "it is a broken symbolic link"
            raise InputError(f"{name}: no such file or directory", hint=hint)
        if not (os.path.isdir(name) or os.path.isfile(name) or _is_stream(name)):
            raise InputError(f"{name}: not a regular file, directory or pipe")
        if not os.access(name, os.R_OK):
            raise InputError(f"{name}: permission denied")


def _is_stream(name: str) -> bool:
    try:
        mode = os.stat(name).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def iter_segments(
    inputs: Sequence[str],
    options: IngestOptions | None = None,
    stats: IngestStats | None = None,
    stdin: BinaryIO | None = None,
) -> Iterator[Segment]:
    """All inputs' segments, in the order given, read lazily as the caller consumes them.

    Raises InputError at once for a missing input, and while reading for an input that cannot be read at
    all (an encrypted PDF without its password, a binary file named explicitly) or when, in the end, the
    inputs held no text at all. `stdin` is the binary stream `-` stands for (default: sys.stdin.buffer).
    """
    inputs = [os.fspath(name) for name in inputs]
    _check(inputs)
    return _generate(inputs, options or IngestOptions(), stats if stats is not None else IngestStats(), stdin)


def _generate(inputs, options, stats, stdin) -> Iterator[Segment]:
    produced = False
    for name in inputs:
        for segment in _one(name, options, stats, stdin):
            produced = True
            yield segment
    if not produced:
        what = "the input" if len(inputs) == 1 else "any of the inputs"
        raise InputError(f"nothing to read: no text in {what}", hint=_skipped_hint(stats))


def _skipped_hint(stats: IngestStats) -> str | None:
    if not stats.skipped:
        return None
    reasons = ", ".join(f"{len(paths)} {reason}" for reason, paths in sorted(stats.skipped.items()))
    return f"files skipped: {reasons} (see --include/--exclude, --max-file-bytes)"


def _one(name: str, options: IngestOptions, stats: IngestStats, stdin) -> Iterator[Segment]:
    if name == STDIN:
        yield from iter_stdin(options, stats, stdin)
        return
    if os.path.isdir(name):
        yield from iter_tree(name, options, stats)
        return
    if _is_stream(name):  # a named pipe or `<(command)`: read like stdin, as it arrives
        try:
            stream = open(name, "rb", buffering=0)
        except OSError as exc:
            raise InputError(f"{name}: cannot open ({exc.strerror or exc})") from exc
        with stream:
            yield from iter_stdin(options, stats, stream, name=decoded_name(name), kind="file")
        return
    try:
        size = os.path.getsize(name)
        sample = read_sample(name)
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from exc
    shown = decoded_name(name)  # what segments and messages call it; `name` is what opens it
    if name.lower().endswith(".pdf") or sample.startswith(b"%PDF-"):
        yield from iter_pdf(name, shown, options, stats)
    elif size == 0:
        options.warn(f"{name}: empty file")
    else:
        reason = binary_reason(sample, complete=size <= SNIFF_BYTES)
        if reason is not None:
            raise InputError(
                f"{name}: looks like a binary file, not text or PDF ({reason})",
                hint="ssmdoc reads PDFs and UTF-8 text (.txt .md .log .json .csv, source code)",
            )
        if (secret := file_reason(name, name)) is not None:
            options.warn(f"{shown} looks like a secret ({secret}); reading it because it was named")
            stats.secrets_read.append(shown)
        yield from iter_text_file(name, shown, options)
    stats.files_read += 1
    stats.bytes_read += size
