"""Why, bullet 5: hostile repositories — control files that never end, patterns that backtrack, links out of
the tree, PDFs past --max-file-bytes, names with terminal escapes or bytes that are not UTF-8."""

import json
import os
import time

import pytest
from contract import bounded, cli

ESC_NAMES = ["title\x1b]0;pwned\x07.txt", "clear\x1b[2J.txt", "csi\x9b31m.txt"]


def small_repo(root):
    root.mkdir()
    (root / "main.py").write_text("print('hi')\n")
    return root


def inspect_json(*args):
    return json.loads(cli("inspect", *args, "--json").ok().stdout)


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom"])
def test_gitignore_linked_to_an_endless_device_is_not_read(tmp_path, target):
    root = small_repo(tmp_path / "repo")
    (root / ".gitignore").symlink_to(target)
    started = time.monotonic()
    run = cli("inspect", root, "--json").ok()
    assert time.monotonic() - started < 10 and ".gitignore" in run.stderr
    assert json.loads(run.stdout)["ingest"]["files_read"] == 1


def test_gitignore_that_is_a_fifo_does_not_block(tmp_path):
    root = small_repo(tmp_path / "repo")
    os.mkfifo(root / ".gitignore")  # nobody ever writes to it: opening it would block forever
    with bounded():
        run = cli("inspect", root, "--json").ok()
    assert "not a regular file" in run.stderr


def test_gitignore_linked_out_of_the_tree_is_not_read(tmp_path):
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("main.py\n")  # would hide main.py if it were obeyed
    root = small_repo(tmp_path / "repo")
    (root / ".gitignore").symlink_to(outside)
    run = cli("inspect", root, "--json").ok()
    assert "out of the tree" in run.stderr and json.loads(run.stdout)["ingest"]["files_read"] == 1


def test_gitignore_patterns_that_would_backtrack_take_bounded_time(tmp_path):
    root = small_repo(tmp_path / "repo")
    (root / ".gitignore").write_text("a" + "*" * 40 + "b\n" + "*a" * 8 + "*b\n" + "*.log\n")
    (root / ("a" * 200)).write_text("a long name that fails to match every pattern\n")
    (root / "x.log").write_text("ignored\n")
    started = time.monotonic()
    report = inspect_json(root)
    assert time.monotonic() - started < 10
    assert report["ingest"]["skipped"].get("gitignored") == ["x.log"]  # the sane pattern still applies


def test_exclude_pattern_that_would_backtrack_is_refused(tmp_path):
    root = small_repo(tmp_path / "repo")
    cli("inspect", root, "--exclude", "*a" * 8 + "*b").error("too complex")


def test_pdf_in_a_walk_obeys_max_file_bytes(tmp_path):
    root = small_repo(tmp_path / "repo")
    with open(root / "scan.pdf", "wb") as fh:  # a sparse 3 GiB "PDF": no disk used, gigabytes if read
        fh.write(b"%PDF-1.4\n")
        fh.truncate(3 << 30)
    report = inspect_json(root)
    assert report["ingest"]["skipped"]["too large"] == ["scan.pdf"] and report["ingest"]["files_read"] == 1


def test_terminal_escapes_in_names_never_reach_the_terminal_raw(tmp_path):
    root = small_repo(tmp_path / "repo")
    for name in ESC_NAMES:
        (root / name).write_bytes(b"\0binary")  # skipped (binary): named in the skip list
        (root / (name + ".md")).write_text("text\n")  # read: named in the table
    run = cli("inspect", root, "--depth", "3").ok()
    missing = tmp_path / "gone\x1b[2J.txt"
    err = cli("inspect", missing).error()
    for out in (run.stdout, run.stderr, err.stderr):
        assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out
    assert "\\x1b" in run.stdout and "\\x1b" in err.stderr


def test_a_name_that_is_not_utf8_is_shown_with_a_replacement(mamba_ckpt, tmp_path):
    root = small_repo(tmp_path / "repo")
    raw = os.path.join(os.fsencode(root), b"caf\xe9-\xff.txt")
    with open(raw, "wb") as fh:
        fh.write(b"a file whose name is Latin-1\n")
    report = inspect_json(root)
    assert "caf\ufffd-\ufffd.txt" in json.dumps(report["tree"], ensure_ascii=False)
    run = cli("summarize", root, "--model", mamba_ckpt, "--max-new-tokens", "2", "--json").ok()
    assert any("\ufffd" in s["address"] for s in json.loads(run.stdout)["sources"])
    cli("inspect", os.fsdecode(raw)).ok()  # named on the command line too
