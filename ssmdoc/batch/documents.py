"""The documents of a batch: inputs (and @manifests) -> one `Document` each, with its content hash and key.

A document is one input as `ssmdoc summarize INPUT` would read it: a file, or a directory walked as one
document. Its content hash covers what the model reads: the input's name as given (it opens the text, in the
`=== path ===` header) and its bytes, or for a directory every file's relative path and bytes. The resume key
adds what else decides the row: task, question, model (name and weights), dtype, generation and reading options.
Two runs that agree on all of that would write the same row (greedy decoding), so the second one skips it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ssmdoc.errors import UsageError

HASH_VERSION = "ssmdoc-document/1"  # bump when what the content hash covers changes


@dataclass
class Document:
    input: str  # as the user gave it (relative paths stay relative: the model reads the name)
    content_hash: str | None  # None: not readable here, see `error`
    key: str  # the resume key (sha256 hex)
    error: dict | None = None  # {"message", "hint"} found before any worker saw it (missing, too large)


def expand_inputs(inputs: Iterable[str]) -> list[str]:
    """INPUT... with each `@FILE` replaced by the manifest's lines (one input per line; blank lines and lines
    starting with `#` are skipped). Repeated inputs are kept once, in first-seen order."""
    out: list[str] = []
    for item in inputs:
        if item == "-":
            raise UsageError("standard input is not a batch input", "name files or directories, or @MANIFEST")
        if item.startswith("@") and len(item) > 1:
            out.extend(_manifest(item[1:]))
        else:
            out.append(item)
    if not out:
        raise UsageError("no documents to process", "name files or directories, or @MANIFEST with one per line")
    return list(dict.fromkeys(out))


def _manifest(path: str) -> Iterator[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read manifest {path}: {exc.strerror or exc}", "one input path per line") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"manifest {path} is not UTF-8 text", "one input path per line") from exc
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            if line == "-":
                raise UsageError(f"manifest {path}: standard input is not a batch input")
            yield line


def _sha(*parts: bytes) -> hashlib._Hash:
    digest = hashlib.sha256(HASH_VERSION.encode())
    for part in parts:
        digest.update(b"\0" + part)
    return digest


def _file_digest(digest, path: str) -> None:
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)


def content_hash(name: str, max_file_bytes: int) -> str:
    """SHA-256 over the name as given and the bytes: a file's, or a directory's files in sorted order.

    In a directory, `.git/` is left out (it is never read) and a file larger than `max_file_bytes` (skipped by
    the walk) counts by its size and modification time, not its bytes; a symbolic link counts by its target.
    """
    digest = _sha(b"name", name.encode("utf-8", "surrogateescape"))
    if not os.path.isdir(name):
        digest.update(b"\0file\0")
        _file_digest(digest, name)
        return digest.hexdigest()
    for directory, dirs, files in os.walk(name):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for entry in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(directory, d))]:
            path = os.path.join(directory, entry)
            rel = os.path.relpath(path, name).encode("utf-8", "surrogateescape")
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                digest.update(b"\0link\0" + rel + b"\0" + os.readlink(path).encode("utf-8", "surrogateescape"))
            elif stat.S_ISREG(st.st_mode) and st.st_size <= max_file_bytes:
                digest.update(b"\0file\0" + rel + b"\0" + str(st.st_size).encode() + b"\0")
                try:
                    _file_digest(digest, path)
                except OSError:  # unreadable: the walk skips it too
                    digest.update(b"unreadable")
            elif stat.S_ISREG(st.st_mode):
                digest.update(b"\0large\0" + rel + f"\0{st.st_size}\0{st.st_mtime_ns}".encode())
    return digest.hexdigest()


def resume_key(content: str, identity: dict) -> str:
    """The row's key: the document's content hash and everything else that decides the row (`identity`)."""
    return hashlib.sha256(json.dumps({"content": content, **identity}, sort_keys=True).encode()).hexdigest()


def document(name: str, identity: dict, max_file_bytes: int) -> Document:
    """One input, checked and hashed here, on the driver: a missing, unreadable or too large file becomes a
    failed Document at once (its row says why) rather than a task for a worker."""
    error = _check(name, max_file_bytes)
    if error is not None:
        message, hint, marker = error
        return Document(name, None, resume_key(f"unread:{marker}:{name}", identity), {"message": message, "hint": hint})
    try:
        digest = content_hash(name, max_file_bytes)
    except OSError as exc:
        return Document(name, None, resume_key(f"unread:unreadable:{name}", identity),
                        {"message": f"{name}: cannot read ({exc.strerror or exc})", "hint": "check its permissions"})
    return Document(name, digest, resume_key(digest, identity))


def _check(name: str, max_file_bytes: int) -> tuple[str, str, str] | None:
    try:
        st = os.stat(name)
    except FileNotFoundError:
        hint = "it is a broken symbolic link" if os.path.islink(name) else "check the path"
        return f"{name}: no such file or directory", hint, "missing"
    except OSError as exc:
        return f"{name}: cannot read ({exc.strerror or exc})", "check its permissions", "unreadable"
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        return f"{name}: not a regular file or directory", "a batch reads files and directories", "special"
    if not os.access(name, os.R_OK):
        return f"{name}: permission denied", "check its permissions", "unreadable"
    if st.st_size > max_file_bytes:
        return (f"{name}: {st.st_size:,} bytes, larger than --max-file-bytes {max_file_bytes:,}",
                f"raise --max-file-bytes to read it (e.g. --max-file-bytes {st.st_size})",
                f"large:{st.st_size}:{st.st_mtime_ns}")
    return None
