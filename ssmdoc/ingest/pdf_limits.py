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


RETRY_SECONDS = 0.25  # the timer fires again until the page ends: a handler run inside a gc callback or a
# __del__ would have its exception swallowed ("Exception ignored in ..."; seen with hypothesis' gc callback)


def _pypdf_dir() -> str:
    import os

    import pypdf

    return os.path.dirname(pypdf.__file__)


_PYPDF_DIR = ""  # set on first use, so that importing this module does not import pypdf


@contextlib.contextmanager
def page_deadline(seconds: float | None = None):
    seconds = PAGE_SECONDS if seconds is None else seconds
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return
    global _PYPDF_DIR
    _PYPDF_DIR = _PYPDF_DIR or _pypdf_dir()
    active = [True]

    def fire(signum, frame):
        # Only inside pypdf's own code, and not once the block is over (the finally below must run to its
        # end); elsewhere (a gc callback, a __del__) the exception would be swallowed: the next tick retries.
        if active[0] and frame is not None and _PYPDF_DIR in frame.f_code.co_filename:
            raise PageTimeout

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds, RETRY_SECONDS)
    try:
        yield
    finally:
        active[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
