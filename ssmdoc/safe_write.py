"""Every file ssmdoc writes goes through here: checked first, written beside its target, renamed into place.

    target = check_target(args.save, inputs=args.inputs, force=args.force, accept=is_state_file)
    with atomic_path(target) as tmp:
        save_file(tensors, tmp)          # any failure, Ctrl-C or SIGTERM here removes tmp
    # only now does `target` change, in one rename: a good old file is never half-overwritten

Refused (UsageError, one line + hint, before any work is done): an empty path, a directory, a device or
pipe, a missing or unwritable directory, one of the inputs being read (never, even with --force: it would be
read while it is overwritten), and an existing file that `accept` does not recognise (a state file where a
state is saved) unless `force`. Write failures (full disk, file-size limit) become one error naming the file.

Temporary files in flight are registered, so that the signal handlers (ssmdoc.signals) can remove them when
the process has to end at once (a second Ctrl-C).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ssmdoc.errors import SsmdocError, UsageError
from ssmdoc.terminal import safe

# Temporary files being written right now (absolute paths); see remove_in_flight().
_IN_FLIGHT: set[str] = set()


class WriteError(SsmdocError):
    """A file could not be written (disk full, file-size limit, permissions changed under us)."""


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_target(
    path: str | os.PathLike | None,
    *,
    inputs: Iterable[str | os.PathLike] = (),
    force: bool = False,
    accept: Callable[[Path], bool] | None = None,
    what: str = "output file",
    option: str = "--save",
) -> Path:
    """The target as a Path, or UsageError saying why ssmdoc will not write there."""
    raw = os.fspath(path) if path is not None else ""
    if not raw.strip():
        raise UsageError(f"{option}: the {what} path is empty", f"name a file, e.g. {option} doc.state")
    target = Path(raw).expanduser()
    shown = safe(raw)
    for name in inputs:
        name = os.fspath(name)
        if name != "-" and os.path.exists(name) and not os.path.isdir(name) and _same_file(name, str(target)):
            raise UsageError(f"{option} {shown}: that is one of the inputs; writing it would destroy what is read",
                             f"choose another file name, e.g. {option} {safe(raw)}.state")
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise UsageError(f"{option} {shown}: cannot use this path ({exc.strerror or exc})") from exc
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{option} {shown}: is a directory", f"name a file inside it, e.g. {option} {shown}/doc.state")
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"{option} {shown}: is not a regular file (a device, pipe or socket)",
                             "name a regular file")
        if accept is not None and not force and not accept(target):
            raise UsageError(f"{option} {shown}: the file exists and is not an ssmdoc {what}; refusing to overwrite it",
                             "choose another name, or pass --force to replace it")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{option} {shown}: the directory {safe(str(parent))} does not exist", "create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {shown}: the directory {safe(str(parent))} is not writable",
                         "choose a directory you can write to")
    return target


def _describe(exc: OSError, target: Path) -> WriteError:
    why = {errno.ENOSPC: "the disk is full", errno.EFBIG: "the file-size limit was reached",
           errno.EDQUOT: "the disk quota is exceeded", errno.EROFS: "the file system is read-only",
           errno.EACCES: "permission denied"}.get(exc.errno, exc.strerror or str(exc))
    return WriteError(f"cannot write {safe(str(target))}: {why}", "nothing was written; free space or choose another place")


def write_failure(exc: Exception, target: str | os.PathLike) -> WriteError:
    """A WriteError for a writer that wraps the OS error in its own type (safetensors says "(os error 27)")."""
    import re

    found = re.search(r"os error (\d+)", str(exc))
    if isinstance(exc, OSError):
        return _describe(exc, Path(target))
    if found:
        code = int(found.group(1))
        return _describe(OSError(code, os.strerror(code)), Path(target))
    return WriteError(f"cannot write {safe(str(target))}: {safe(str(exc))[:200]}")


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """A fresh temporary path in the target's directory; renamed onto `target` when the block succeeds,
    removed when it fails in any way (an exception, KeyboardInterrupt, SystemExit)."""
    target = Path(target)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:80]}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise _describe(exc, target) from exc
    os.close(fd)
    tmp = os.path.abspath(tmp)
    _IN_FLIGHT.add(tmp)
    try:
        try:
            yield Path(tmp)
            os.replace(tmp, target)
        except OSError as exc:
            raise _describe(exc, target) from exc
    finally:
        _IN_FLIGHT.discard(tmp)
        if os.path.lexists(tmp):
            try:
                os.unlink(tmp)
            except OSError:
                pass


def write_bytes(target: str | os.PathLike, data: bytes) -> None:
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)


def write_text(target: str | os.PathLike, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def remove_in_flight() -> None:
    """Remove every temporary file still being written (called when the process must end at once)."""
    for tmp in list(_IN_FLIGHT):
        try:
            os.unlink(tmp)
        except OSError:
            pass
        _IN_FLIGHT.discard(tmp)
