"""How the command line ends on a signal: SIGINT and SIGTERM alike, at every moment of a run.

- The first SIGINT or SIGTERM raises KeyboardInterrupt in the main thread. While a chunk is in the model it is
  held back until the chunk is done (`deferred()`), so the state and the counts in the report always agree.
  The pipeline then answers from what was read; the CLI boundary says `interrupted` and exits 130.
- A second one ends the process at once: temporary files in flight are removed, one line is printed, exit 130.
- SIGXFSZ is ignored, so a write past the file-size limit fails with EFBIG (one error) instead of killing us.
- SIGPIPE stays ignored as Python sets it; a closed stdout surfaces as BrokenPipeError, which the boundary
  turns into a quiet exit 0 (`ssmdoc summarize big.pdf | head`).

`install()` is for the `ssmdoc` process only (ssmdoc.entry); a library user keeps their own handlers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading

_received = 0  # SIGINT/SIGTERM seen since install()
_active = False  # install() was called: this process is the `ssmdoc` command


def hard_exit(message: str = "interrupted again: stopped at once") -> None:
    from ssmdoc.safe_write import remove_in_flight

    remove_in_flight()
    try:
        os.write(2, f"\nerror: {message}\n".encode())
    except OSError:
        pass
    os._exit(130)


def exit_interrupted() -> None:
    """Exit 130 after an interrupt. In the `ssmdoc` process this is os._exit after flushing: CPython kills
    itself with SIGINT at exit when a KeyboardInterrupt once escaped code run by exec() (dataclasses and typer
    generate functions that way), however the program handled it afterwards, and a late signal during
    interpreter teardown would find the default handlers back. Elsewhere (tests, a library) sys.exit."""
    import sys

    if not _active:
        sys.exit(130)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(130)


def _on_signal(signum, frame) -> None:
    global _received
    _received += 1
    if _received > 1:
        hard_exit()
    raise KeyboardInterrupt


def install() -> None:
    global _received, _active
    _received, _active = 0, True
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


class _Pending:
    """The handler while a chunk is in the model: note the signal; a second one (here or before) ends at once."""

    def __init__(self):
        self.count = 0

    def __call__(self, signum, frame) -> None:
        global _received
        self.count += 1
        if _active:
            _received += 1
        if self.count > 1 or _received > 1:
            hard_exit()


@contextlib.contextmanager
def deferred():
    """Hold SIGINT/SIGTERM back for the block (a chunk in the model); raise KeyboardInterrupt right after it.

    A second signal inside the block ends the process at once (hard_exit)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals only reach the main thread; nothing to defer elsewhere
        return
    pending = _Pending()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    # Only signals we own are deferred: a SIGTERM left at its default (a library user's process) stays as is.
    owned = [sig for sig, handler in previous.items()
             if sig == signal.SIGINT or handler is _on_signal]
    for sig in owned:
        signal.signal(sig, pending)
    try:
        yield
    finally:
        for sig in owned:
            signal.signal(sig, previous[sig])
    if pending.count:
        raise KeyboardInterrupt
