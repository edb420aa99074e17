"""results.jsonl: one JSON row per document, appended by the driver alone, safe to resume after any crash.

Each row is written with one `write` of the whole line, then flushed and fsync'ed, so a killed driver leaves
every finished row complete. A machine that dies mid-write can leave a partial last line (no newline at the
end): opening the file again cuts it off, with a warning, and that document is done again. An exclusive
lock (flock) keeps two batches from appending to the same file at once.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ssmdoc.errors import SsmdocError, UsageError


@dataclass
class Existing:
    """What the file held when the batch started: which keys have a row, and which of those only failed."""

    ok: set[str] = field(default_factory=set)
    failed: dict[str, dict] = field(default_factory=dict)  # key -> the last error row, when no row succeeded
    rows: int = 0
    dropped_bytes: int = 0  # a partial last line, cut off


class ResultsFile:
    def __init__(self, path: str | os.PathLike, warn: Callable[[str], None]):
        self.path = Path(path)
        if self.path.is_dir():
            raise UsageError(f"--out {self.path} is a directory", "name a file, e.g. --out results.jsonl")
        if not self.path.parent.is_dir():
            raise UsageError(f"--out {self.path}: no such directory {self.path.parent}")
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise UsageError(f"cannot open --out {self.path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise UsageError(f"another ssmdoc batch is writing {self.path}",
                             "wait for it to finish, or write to another --out file") from None
        self.warn = warn

    def load(self) -> Existing:
        """Read the rows already there, after cutting off a partial last line."""
        existing = Existing()
        with open(self.fd, "rb", closefd=False) as fh:
            fh.seek(0)
            data = fh.read()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            os.ftruncate(self.fd, end)
            existing.dropped_bytes = len(data) - end
            self.warn(f"{self.path}: dropped a partial last line ({existing.dropped_bytes:,} bytes) left by an "
                      "interrupted write; that document is done again")
        for number, line in enumerate(data[:end].splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                key = row["key"]
            except (ValueError, KeyError, TypeError):
                self.warn(f"{self.path}:{number}: not a batch row; ignored")
                continue
            existing.rows += 1
            if "error" in row:
                if key not in existing.ok:
                    existing.failed[key] = row
            else:
                existing.ok.add(key)
                existing.failed.pop(key, None)
        return existing

    def append(self, row: dict) -> None:
        """One complete line, on disk before this returns."""
        data = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape")
        view = memoryview(data)
        try:
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
            os.fsync(self.fd)
        except OSError as exc:
            raise SsmdocError(f"cannot write {self.path}: {exc.strerror or exc}",
                              "free some space; the same command resumes where this one stopped") from exc

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # releases the lock
            self.fd = -1
