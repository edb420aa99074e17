"""Builders for ingestion fixtures: small PDFs written by hand (so the bytes are known), encrypted copies, and
a repository tree with every kind of file a walk must handle. Everything is written under the test's tmp_path."""

from __future__ import annotations

import io
import os
import zlib
from pathlib import Path


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[str | None], compress: bool = False) -> bytes:
    """A PDF 1.4 with one page per entry: the text drawn line by line in Helvetica, or no content at all for
    None (a page without a text layer). `compress` puts the content streams through /FlateDecode."""
    objects: list[bytes] = []  # object i+1

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below, once the page tree's number is known
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for text in pages:
        resources = f"/Resources << /Font << /F1 {font} 0 R >> >>".encode()
        page_fields = b"/Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] " % pages_obj + resources
        if text is not None:
            ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
            for line in text.split("\n"):
                ops.append(f"({_escape(line)}) Tj T*")
            ops.append("ET")
            stream = "\n".join(ops).encode("latin-1")
            extra = b""
            if compress:
                stream, extra = zlib.compress(stream), b" /Filter /FlateDecode"
            content = add(b"<< /Length %d%s >>\nstream\n" % (len(stream), extra) + stream + b"\nendstream")
            page_fields += b" /Contents %d 0 R" % content
        kids.append(add(b"<< " + page_fields + b" >>"))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    kid_refs = b" ".join(b"%d 0 R" % k for k in kids)
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kid_refs, len(kids))

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref))
    return out.getvalue()


def encrypt_pdf(data: bytes, password: str, algorithm: str = "AES-256") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def make_repo(root: Path) -> dict[str, set[str]]:
    """A small repository; returns the relative paths expected as read and as skipped per reason."""
    write(root / ".gitignore", "*.log\n!keep.log\nbuild/\n/secret.txt\n")
    write(root / "README.md", "# demo\n\nA demo repository.\n")
    write(root / "secret.txt", "top-level secret, ignored by an anchored pattern\n")
    write(root / "app.log", "ignored log\n")
    write(root / "keep.log", "negated: this log is kept\n")
    write(root / "build" / "out.txt", "inside an ignored directory\n")
    write(root / "src" / "main.py", "def main():\n    return 42\n")
    write(root / "src" / "secret.txt", "not anchored at src/: read\n")
    # A nested .gitignore: it re-includes *.log below src/ and ignores *.tmp there only.
    write(root / "src" / ".gitignore", "!*.log\n*.tmp\n")
    write(root / "src" / "debug.log", "re-included by src/.gitignore\n")
    write(root / "src" / "scratch.tmp", "ignored by src/.gitignore\n")
    write(root / "scratch.tmp", "not ignored at the top level\n")
    write(root / "src" / "deep" / "util.py", "X = 1\n")
    write(root / "image.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)))
    write(root / "data.bin", os.urandom(64) + b"\0")
    write(root / "big.txt", "x" * 2000 + "\n")  # over the cap the tests set (1000 bytes)
    write(root / "empty.py", "")
    write(root / ".git" / "config", "[core]\n")
    (root / "src" / "deep" / "loop").symlink_to("..", target_is_directory=True)  # a cycle: src/deep/loop -> src
    (root / "dangling").symlink_to(root / "nowhere")
    return {
        "read": {
            ".gitignore", "README.md", "keep.log", "scratch.tmp", "src/.gitignore", "src/debug.log",
            "src/deep/util.py", "src/main.py", "src/secret.txt",
        },
        "gitignored": {"secret.txt", "app.log", "build/", "src/scratch.tmp"},
        "binary": {"image.png", "data.bin"},
        "too large": {"big.txt"},
        "empty": {"empty.py"},
        "broken symlink": {"dangling"},
    }
