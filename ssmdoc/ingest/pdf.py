"""PDFs with pypdf: one segment per page, streamed; encrypted, damaged and scanned files handled with care.

pypdf is a parser of untrusted bytes and can fail with almost any exception type on a hostile or truncated
file, so its calls are wrapped broadly here and turned into InputError (the file) or a warning (a page).
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Iterator

from ssmdoc.errors import InputError
from ssmdoc.ingest import pdf_limits
from ssmdoc.ingest.pdf_limits import PageTimeout, page_deadline
from ssmdoc.ingest.types import IngestOptions, IngestStats, Segment, Source

# pypdf reports recoverable damage through `logging`; without a handler Python's last-resort handler would
# print those lines raw on stderr. We report damage ourselves (see _warn_pages), so silence them.
logging.getLogger("pypdf").addHandler(logging.NullHandler())


def page_marker(path: str, page: int) -> str:
    return f"=== {path}, page {page} ===\n"


def _open(fh, display: str, options: IngestOptions):
    from pypdf import PdfReader

    try:
        reader = PdfReader(fh, strict=False)
    except Exception as exc:
        reader = _recover(fh, display, options)
        if reader is None:
            raise InputError(
                f"{display}: not a readable PDF ({_why(exc)})",
                hint="the file may be truncated or not a PDF at all; try opening it in a PDF viewer",
            ) from exc
    if reader.is_encrypted:
        _decrypt(reader, display, options.password)
    return reader


MAX_RECOVER_BYTES = 256 << 20
_OBJ = re.compile(rb"(\d+)\s+\d+\s+obj\b")


def _recover(fh, display: str, options: IngestOptions):
    """Best effort for a truncated file: pypdf needs a trailer to start from, and a truncated PDF has lost
    it (it sits at the end). A synthetic trailer with an invalid startxref makes pypdf rebuild the
    cross-reference table by scanning for objects and find the catalog by its /Type; its /Size must cover
    the object numbers present. The repaired copy is held in memory, hence the size cap."""
    from pypdf import PdfReader

    try:
        fh.seek(0)
        data = fh.read(MAX_RECOVER_BYTES + 1)
        if len(data) > MAX_RECOVER_BYTES or not data.lstrip().startswith(b"%PDF-"):
            return None
        numbers = [int(n) for n in _OBJ.findall(data)]
        if not numbers:
            return None
        tail = b"\ntrailer\n<< /Size %d >>\nstartxref\n0\n%%%%EOF\n" % (max(numbers) + 1)
        reader = PdfReader(io.BytesIO(data + tail), strict=False)
        reader.pages[0] if len(reader.pages) else None  # fails here, not later, if the tree is unusable
    except Exception:
        return None
    options.warn(f"{display}: damaged or truncated PDF; reading what can be recovered")
    return reader


def _decrypt(reader, display: str, password: str | None) -> None:
    from pypdf.errors import DependencyError

    # Many PDFs are "encrypted" with an empty user password only to restrict printing: try that first.
    for attempt in ("", password):
        if attempt is None:
            continue
        try:
            if reader.decrypt(attempt):
                return
        except DependencyError as exc:
            raise InputError(
                f"{display}: encrypted with AES, which needs the 'cryptography' package",
                hint="pip install cryptography",
            ) from exc
        except Exception as exc:
            raise InputError(f"{display}: cannot decrypt ({_why(exc)})") from exc
    if password is None:
        raise InputError(f"{display}: the PDF is encrypted", hint="pass its password with --password")
    raise InputError(f"{display}: wrong password for the encrypted PDF", hint="check the --password value")


def _why(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


def page_ranges(pages: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7', for warnings that name many pages."""
    out: list[str] = []
    for page in sorted(pages):
        if out and page == prev + 1:
            out[-1] = f"{out[-1].split('-')[0]}-{page}"
        else:
            out.append(str(page))
        prev = page
    return ", ".join(out)


def iter_pdf(
    path: str, display: str, options: IngestOptions, stats: IngestStats, kind: str = "pdf", root: str | None = None
) -> Iterator[Segment]:
    """One segment per page with text, opened by a page marker. The file stays open and pages are parsed one
    at a time, so a PDF of thousands of pages is never held in memory as text."""
    mode = "layout" if options.layout else "plain"
    blank: list[int] = []
    broken: list[int] = []
    with open(path, "rb") as fh:
        reader = _open(fh, display, options)
        try:
            n_pages = len(reader.pages)
        except Exception as exc:
            raise InputError(f"{display}: the page tree is damaged ({_why(exc)})") from exc
        total_chars = 0
        for index in range(n_pages):
            number = index + 1
            try:
                started = time.monotonic()
                with page_deadline():
                    text = reader.pages[index].extract_text(extraction_mode=mode) or ""
                if time.monotonic() - started > pdf_limits.PAGE_SECONDS:  # where no timer could run (a thread)
                    raise PageTimeout
            except PageTimeout:
                raise InputError(f"{display}: page {number} took over {pdf_limits.PAGE_SECONDS:.0f} s to extract "
                                 "(a decompression bomb?); the file is left out",
                                 hint="check the file, or remove that page") from None
            except Exception:
                broken.append(number)
                stats.unreadable_pages.append(f"{display} p.{number}")
                continue
            stats.pages_read += 1
            if not text.strip():
                blank.append(number)
                stats.pages_without_text.append(f"{display} p.{number}")
                continue
            total_chars += len(text)
            if total_chars > pdf_limits.MAX_DOCUMENT_CHARS:
                raise InputError(f"{display}: page {number} brings the text past {pdf_limits.MAX_DOCUMENT_CHARS >> 20} Mi "
                                 "characters (a decompression bomb?); stopped there")
            if not text.endswith("\n"):
                text += "\n"
            yield Segment(page_marker(display, number) + text, Source(kind, display, page=number, root=root))
    if broken:
        options.warn(f"{display}: could not read page(s) {page_ranges(broken)} (damaged); they are left out")
    if blank and len(blank) + len(broken) < n_pages:
        options.warn(f"{display}: no text on page(s) {page_ranges(blank)} (scanned, or damaged? no OCR is done)")
    if len(blank) + len(broken) == n_pages:
        if n_pages == 0:
            raise InputError(f"{display}: the PDF has no pages (damaged or truncated?)")
        if not broken:
            raise InputError(
                f"{display}: no page has a text layer (a scanned document?)",
                hint="run OCR first, e.g. `ocrmypdf in.pdf out.pdf`; ssmdoc does not do OCR",
            )
        raise InputError(f"{display}: no page could be read", hint="the file may be damaged or truncated")
