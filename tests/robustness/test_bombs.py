"""Why, bullet 6: bombs — chat templates, PDF decompression, /dev/zero on stdin — and AES-encrypted PDFs."""

import io
import json
import shutil
import time
import zlib

import pytest
from contract import cli, finish, process

from ingest.fixtures import encrypt_pdf, make_pdf


@pytest.fixture
def doc(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text("The tenant pays rent monthly.\n")
    return path


@pytest.mark.parametrize("template", [
    "{{ 'x' * 10**10 }}",
    "{% for i in range(10**9) %}x{% endfor %}",
    "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    "{{ 'x'|center(10**10) }}",
    "{{ 'x'.ljust(10**10) }}",
    "{{ 2 ** 100000000 }}",
], ids=["repeat", "range", "doubling", "center", "ljust", "power"])
def test_chat_template_bombs_end_in_one_error_quickly(mamba_ckpt, doc, tmp_path, template):
    ckpt = tmp_path / "ckpt"
    shutil.copytree(mamba_ckpt, ckpt)
    config = json.loads((ckpt / "tokenizer_config.json").read_text())
    config["chat_template"] = template
    (ckpt / "tokenizer_config.json").write_text(json.dumps(config))
    started = time.monotonic()
    cli("summarize", doc, "--model", ckpt, "--max-new-tokens", "2").error("chat template")
    assert time.monotonic() - started < 20


def _pdf_with_streams(streams: list[bytes]) -> bytes:
    """A one-page PDF whose content is the given (already compressed) FlateDecode streams."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"]
    first = 5
    refs = b" ".join(b"%d 0 R" % (first + i) for i in range(len(streams)))
    objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents [%s] "
                   b"/Resources << /Font << /F1 4 0 R >> >> >>" % refs)
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for data in streams:
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_pdf_stream_decompression_bomb_ends_cleanly(tmp_path):
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(_pdf_with_streams([zlib.compress(b" " * (100 << 20), 9)]))  # 100 MB from ~100 KB
    started = time.monotonic()
    cli("inspect", bomb).error()
    assert time.monotonic() - started < 30


def test_pdf_page_slow_to_interpret_hits_the_page_time_limit(tmp_path, monkeypatch):
    # by name: a test elsewhere re-imports ssmdoc modules, and the CLI then reads the fresh module
    monkeypatch.setattr("ssmdoc.ingest.pdf_limits.PAGE_SECONDS", 1.0)
    # 4 x 32k text operators, under pypdf's token budget: 13.7 s of interpretation (pypdf 7.1.1, the 2-vCPU
    # AMD EPYC VM, 2026-11-29, load average ~10), far past the 1 s limit set here
    chunk = zlib.compress(b"BT /F1 12 Tf (x) Tj ET\n" * (1 << 15), 9)
    bomb = tmp_path / "many.pdf"
    bomb.write_bytes(_pdf_with_streams([chunk] * 4))
    started = time.monotonic()
    cli("inspect", bomb).error("page 1")
    assert time.monotonic() - started < 30


def test_dev_zero_on_stdin_is_refused_at_once(mamba_ckpt):
    with open("/dev/zero", "rb") as zero:
        run = finish(process(["summarize", "-", "--model", mamba_ckpt], stdin=zero), timeout=60)
    run.error("NUL")


def test_nul_bytes_on_stdin_are_refused_like_a_binary_file(mamba_ckpt):
    cli("summarize", "-", "--model", mamba_ckpt, input=b"text\n\0\0\0binary").error("binary")


def test_aes_encrypted_pdf_with_its_password_is_read(tmp_path):
    pdf = tmp_path / "aes.pdf"
    pdf.write_bytes(encrypt_pdf(make_pdf(["Clause one: rent is due monthly."]), "pw", algorithm="AES-256"))
    report = json.loads(cli("inspect", pdf, "--password", "pw", "--json").ok().stdout)
    assert report["ingest"]["pages_read"] == 1
    cli("inspect", pdf, "--password", "wrong").error("password")
