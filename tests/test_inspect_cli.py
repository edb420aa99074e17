"""`ssmdoc inspect` over every ingestion fixture: exit 0 or 2 as the contract says, never a traceback."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ingest.fixtures import encrypt_pdf, make_pdf, make_repo, write
from ssmdoc.cli import app

PAGES = ["first page text", "second page text"]


def fixture(tmp_path, name):
    """Builds the named fixture; returns (args, stdin bytes or None, expected exit status)."""
    pdf = make_pdf(PAGES, compress=True)
    if name == "plain-pdf":
        return [str(write(tmp_path / "a.pdf", make_pdf(PAGES)))], None, 0
    if name == "flate-pdf":
        return [str(write(tmp_path / "a.pdf", pdf))], None, 0
    if name == "encrypted-no-password":
        return [str(write(tmp_path / "e.pdf", encrypt_pdf(pdf, "pw")))], None, 2
    if name == "encrypted-password":
        return [str(write(tmp_path / "e.pdf", encrypt_pdf(pdf, "pw"))), "--password", "pw"], None, 0
    if name == "truncated-pdf":
        return [str(write(tmp_path / "t.pdf", pdf[: pdf.index(b"xref")]))], None, 0
    if name == "blank-page-pdf":
        return [str(write(tmp_path / "b.pdf", make_pdf([PAGES[0], None])))], None, 0
    if name == "random-pdf":
        return [str(write(tmp_path / "r.pdf", os.urandom(2000)))], None, 2
    if name == "empty-file":
        return [str(write(tmp_path / "empty.txt", ""))], None, 2
    if name == "missing":
        return [str(tmp_path / "missing.txt")], None, 2
    if name == "repo":
        make_repo(tmp_path / "repo")
        return [str(tmp_path / "repo"), "--max-file-bytes", "1000"], None, 0
    if name == "stdin-invalid-utf8":
        return ["-"], b"ok line\n\xff\xfe\xc3(\r\n" + bytes(range(1, 256)), 0  # NUL: refused as binary
    if name == "stdin-huge-line":
        return ["-"], b"y" * (3 << 20), 0
    raise AssertionError(name)


NAMES = [
    "plain-pdf", "flate-pdf", "encrypted-no-password", "encrypted-password", "truncated-pdf", "blank-page-pdf",
    "random-pdf", "empty-file", "missing", "repo", "stdin-invalid-utf8", "stdin-huge-line",
]


def check_streams(code, expected, stdout, stderr):
    assert code == expected, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    lines = stderr.strip().splitlines()
    assert all(line.startswith(("error: ", "hint: ", "warning: ")) for line in lines), stderr
    if expected == 2:
        assert sum(line.startswith("error: ") for line in lines) == 1


@pytest.mark.parametrize("name", NAMES)
def test_inspect_json_through_the_runner(tmp_path, name):
    args, stdin, expected = fixture(tmp_path, name)
    result = CliRunner().invoke(app, ["inspect", *args, "--json"], input=stdin)
    check_streams(result.exit_code, expected, result.stdout, result.stderr)
    if expected == 0:
        report = json.loads(result.stdout)
        assert report["total_tokens"] > 0 and report["tokens_exact"] is False
        assert report["total_tokens"] == sum(node["tokens"] for node in report["tree"])


# Few: every `python -m ssmdoc` start pays for the whole CLI import; the runner covers every fixture above.
@pytest.mark.parametrize("name", ["random-pdf", "stdin-huge-line"])
def test_inspect_in_a_subprocess(tmp_path, name):
    args, stdin, expected = fixture(tmp_path, name)
    proc = subprocess.run(
        [sys.executable, "-m", "ssmdoc", "inspect", *args], input=stdin or b"", capture_output=True, timeout=120
    )
    stdout, stderr = proc.stdout.decode(), proc.stderr.decode()
    check_streams(proc.returncode, expected, stdout, stderr)
    if expected == 0:
        assert "total: ~" in stdout and "(estimate)" in stdout


def test_warnings_reach_stderr_and_the_run_goes_on(tmp_path):
    args, _, _ = fixture(tmp_path, "blank-page-pdf")
    result = CliRunner().invoke(app, ["inspect", *args])
    assert result.exit_code == 0
    assert "warning: " in result.stderr and "page(s) 2" in result.stderr
    assert "first page" not in result.stdout  # it counts, it does not print the text
    assert "total: ~" in result.stdout


def test_encrypted_pdf_error_has_a_password_hint(tmp_path):
    args, _, _ = fixture(tmp_path, "encrypted-no-password")
    result = CliRunner().invoke(app, ["inspect", *args])
    assert result.exit_code == 2
    assert "hint: " in result.stderr and "--password" in result.stderr


def test_human_output_with_a_model_shows_context_and_state(tmp_path):
    from checkpoints import tiny_checkpoint

    model = tiny_checkpoint(tmp_path / "mamba", "mamba")
    make_repo(tmp_path / "repo")
    result = CliRunner().invoke(app, ["inspect", str(tmp_path / "repo"), "--model", str(model)])
    assert result.exit_code == 0, result.stderr
    assert "tokenizer of" in result.stdout and "(estimate)" not in result.stdout
    assert "context is unknown" in result.stdout  # tiny Mamba configs state none: unknown, not unlimited
    assert "state after reading them" in result.stdout and "KV cache" in result.stdout
    assert "skipped 2 (binary)" in result.stdout


def test_debug_flag_is_accepted(tmp_path):
    args, _, _ = fixture(tmp_path, "random-pdf")
    result = CliRunner().invoke(app, ["inspect", *args, "--debug"])
    assert result.exit_code == 2


def test_file_names_are_not_read_as_markup(tmp_path, monkeypatch):
    write(tmp_path / "d" / "[bold]x[red].txt", "text\n")
    monkeypatch.chdir(tmp_path)  # a short path, so that the table does not wrap the name
    result = CliRunner().invoke(app, ["inspect", "d"])
    assert result.exit_code == 0, result.stderr
    assert "[bold]x[red].txt" in result.stdout
