"""Streams that `watch` reads without end: a file followed like `tail -F`, and a reader that can be stopped.

`FollowedFile(path)` reads the file from its start, then waits for more: when the file grows it reads the
new bytes; when it is rotated (the name now points at another file: logrotate's rename + create) it
finishes the old file and goes on with the new one from its start; when it is truncated in place
(copytruncate) it starts again from the beginning. It ends only when stopped (Ctrl-C ends `watch`).

`stoppable(stream, stop)` reads a stream's file descriptor directly (os.read after select, 0.1 s at a time)
instead of through Python's buffered stdin, so that the reading thread (1) never holds the interpreter's
stdin lock at exit and (2) returns EOF promptly once `stop` is set.
"""

from __future__ import annotations

import os
import select
import threading
import time

from ssmdoc.errors import InputError

POLL_SECONDS = 0.1


class FollowedFile:
    kind_for_sources = "file"

    def __init__(self, path: str, poll: float = POLL_SECONDS):
        self.path = path
        self.name_for_sources = path
        self.poll = poll
        self.stop: threading.Event | None = None
        try:
            self._fh = open(path, "rb")  # noqa: SIM115 - held for the life of the watch
        except FileNotFoundError:
            raise InputError(f"no such file: {path}", "name an existing file, or - to read stdin") from None
        except IsADirectoryError:
            raise InputError(f"{path} is a directory; watch follows one file", "name a log file") from None
        except OSError as exc:
            raise InputError(f"cannot open {path} ({exc.strerror or exc})") from None

    def _rotated(self) -> bool:
        try:
            st = os.stat(self.path)
        except OSError:
            return False  # between rename and create: keep the old file for now
        return st.st_ino != os.fstat(self._fh.fileno()).st_ino

    def read(self, n: int = -1) -> bytes:
        while True:
            data = self._fh.read(n)
            if data:
                return data
            if self._rotated():
                self._fh.close()
                self._fh = open(self.path, "rb")  # noqa: SIM115
                continue
            try:
                if os.stat(self.path).st_size < self._fh.tell():  # truncated in place
                    self._fh.seek(0)
                    continue
            except OSError:
                pass
            if self.stop is not None and self.stop.is_set():
                return b""
            time.sleep(self.poll)

    def close(self) -> None:
        self._fh.close()


class _Stoppable:
    def __init__(self, fd: int, stop: threading.Event):
        self.fd, self.stop = fd, stop

    def read(self, n: int = 1 << 16) -> bytes:
        while not self.stop.is_set():
            try:
                ready, _, _ = select.select([self.fd], [], [], POLL_SECONDS)
            except (OSError, ValueError):
                ready = [self.fd]  # not selectable (some platforms' files): read and let the OS decide
            if ready:
                return os.read(self.fd, n)
        return b""


def stoppable(stream, stop: threading.Event):
    """A stream with `.read(n)` that returns b"" (EOF) soon after `stop` is set (module docstring)."""
    if isinstance(stream, FollowedFile):
        stream.stop = stop
        return stream
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return stream  # an in-memory stream (tests, library callers): it ends by itself
    return _Stoppable(fd, stop)
