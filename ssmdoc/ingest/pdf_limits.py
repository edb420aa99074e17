"""Bounds on what one PDF may cost: time per page, and text per document.

pypdf limits each decompressed stream itself (75 MB in pypdf 6+); a bomb of many such streams, or a page
whose content takes minutes to interpret, is stopped here: extracting one page may take PAGE_SECONDS (a
SIGALRM timer, on the main thread where signals arrive; elsewhere, e.g. a Ray worker, the page runs to its
end and is refused afterwards), and a document may yield MAX_DOCUMENT_CHARS characters of text in all. Either ends the file
with one InputError naming the page.
"""

from __future__ import annotations

import contextlib
import signal
import threading

PAGE_SECONDS = 20.0
MAX_DOCUMENT_CHARS = 256 << 20


class PageTimeout(BaseException):
    """Raised inside pypdf by the timer; a BaseException so that pypdf's broad `except Exception` cannot eat it."""


def _raise(signum, frame):
    raise PageTimeout


@contextlib.contextmanager
def page_deadline(seconds: float | None = None):
    seconds = PAGE_SECONDS if seconds is None else seconds
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
