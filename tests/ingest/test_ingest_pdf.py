"""PDF ingestion: one segment per page with its address; encrypted, truncated, blank and bogus files."""

import os

import pytest

from ingest.fixtures import encrypt_pdf, make_pdf
from ssmdoc.errors import InputError
from ssmdoc.ingest import IngestOptions, IngestStats, iter_segments

PAGES = ["Alpha page one\nsecond line of one", "Beta (page two) \\ done", "Gamma page three"]


def read(path, **options):
    warnings: list[str] = []
    stats = IngestStats()
    segments = list(iter_segments([str(path)], IngestOptions(warn=warnings.append, **options), stats))
    return segments, stats, warnings


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "flate"])
def test_multipage_pdf_gives_one_addressed_segment_per_page(tmp_path, compress):
    path = tmp_path / "doc.pdf"
    path.write_bytes(make_pdf(PAGES, compress=compress))
    segments, stats, warnings = read(path)
    assert [s.source.page for s in segments] == [1, 2, 3]
    assert [str(s.source) for s in segments] == [f"{path} p.{n}" for n in (1, 2, 3)]
    for segment, text in zip(segments, PAGES):
        assert segment.source.kind == "pdf"
        assert segment.text.splitlines()[0] == f"=== {path}, page {segment.source.page} ==="
        for line in text.split("\n"):
            assert line in segment.text
    assert stats.files_read == 1 and stats.pages_read == 3 and stats.bytes_read == path.stat().st_size
    assert warnings == []


def test_layout_extraction_keeps_the_text(tmp_path):
    path = tmp_path / "doc.pdf"
    path.write_bytes(make_pdf(PAGES))
    segments, _, _ = read(path, layout=True)
    assert len(segments) == 3
    assert "Gamma page three" in segments[2].text


def test_pdf_is_read_lazily_page_by_page(tmp_path, monkeypatch):
    from pypdf import PageObject

    calls = []
    original = PageObject.extract_text
    monkeypatch.setattr(PageObject, "extract_text", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    path = tmp_path / "long.pdf"
    path.write_bytes(make_pdf([f"page {n}" for n in range(1, 201)], compress=True))
    segments = iter_segments([str(path)], IngestOptions(warn=lambda m: None))
    first = next(segments)
    assert first.source.page == 1 and "page 1" in first.text
    assert len(calls) == 1  # the 199 other pages are not parsed yet
    assert sum(1 for _ in segments) == 199


@pytest.mark.parametrize("algorithm", ["AES-256", "RC4-128"])
def test_encrypted_pdf_reads_with_the_password(tmp_path, algorithm):
    path = tmp_path / "secret.pdf"
    path.write_bytes(encrypt_pdf(make_pdf(PAGES), "s3cret", algorithm))
    segments, _, _ = read(path, password="s3cret")
    assert [s.source.page for s in segments] == [1, 2, 3]
    assert "Beta (page two)" in segments[1].text


def test_encrypted_pdf_without_password_is_an_input_error_with_a_hint(tmp_path):
    path = tmp_path / "secret.pdf"
    path.write_bytes(encrypt_pdf(make_pdf(PAGES), "s3cret"))
    with pytest.raises(InputError, match="encrypted") as info:
        read(path)
    assert "--password" in info.value.hint
    with pytest.raises(InputError, match="wrong password"):
        read(path, password="nope")


def test_empty_user_password_is_tried_first(tmp_path):
    path = tmp_path / "restricted.pdf"
    path.write_bytes(encrypt_pdf(make_pdf(PAGES), ""))
    segments, _, _ = read(path)
    assert len(segments) == 3


def test_truncated_pdf_yields_the_pages_that_survive_with_a_warning(tmp_path):
    data = make_pdf(PAGES, compress=True)
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: data.index(b"xref")])  # the cross-reference table and trailer are gone
    segments, _, warnings = read(path)
    assert [s.source.page for s in segments] == [1, 2, 3]
    assert any("truncated" in w and "cut.pdf" in w for w in warnings)


def test_pdf_cut_in_its_first_objects_is_an_input_error(tmp_path):
    path = tmp_path / "stub.pdf"
    path.write_bytes(make_pdf(PAGES)[:40])
    with pytest.raises(InputError):
        read(path)


def test_blank_page_is_named_in_a_warning(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf([PAGES[0], None, PAGES[2]]))
    segments, stats, warnings = read(path)
    assert [s.source.page for s in segments] == [1, 3]
    assert stats.pages_without_text == [f"{path} p.2"]
    assert len(warnings) == 1 and "page(s) 2 " in warnings[0]


def test_pdf_without_any_text_layer_is_an_input_error(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf([None, None]))
    with pytest.raises(InputError, match="text layer") as info:
        read(path)
    assert "OCR" in info.value.hint


def test_damaged_page_is_skipped_and_named(tmp_path, monkeypatch):
    # pypdf is lenient with broken content streams; force the failure mode a hostile page can trigger.
    from pypdf import PageObject

    original = PageObject.extract_text

    def flaky(self, *args, **kwargs):
        if b"Beta" in self.get_contents().get_data():
            raise KeyError("/Font")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", flaky)
    path = tmp_path / "doc.pdf"
    path.write_bytes(make_pdf(PAGES))
    segments, stats, warnings = read(path)
    assert [s.source.page for s in segments] == [1, 3]
    assert stats.unreadable_pages == [f"{path} p.2"]
    assert any("could not read page(s) 2 " in w for w in warnings)


@pytest.mark.parametrize(
    "data", [b"", os.urandom(3000), b"%PDF-1.7\n" + os.urandom(500)], ids=["empty", "random", "header"]
)
def test_not_a_pdf_is_an_input_error(tmp_path, data):
    path = tmp_path / "bogus.pdf"
    path.write_bytes(data)
    with pytest.raises(InputError, match="bogus.pdf"):
        read(path)
