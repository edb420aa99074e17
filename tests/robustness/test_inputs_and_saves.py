"""Why, bullets 1-2: input silently lost (a pipe sniffed as a state file), data loss (--save onto an input)."""

import os
import threading

import pytest
from contract import bounded, cli, finish, leftovers, process, snapshot

from ssmdoc.models.tokenizer import Tokenizer
from ssmdoc.safe_write import atomic_path

TEXT = "".join(f"line {i}: the tenant pays rent monthly and may terminate with notice.\n" for i in range(40))


@pytest.fixture
def doc(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text(TEXT)
    return path



def test_read_save_onto_its_own_input_is_refused_and_the_input_untouched(mamba_ckpt, doc):
    before = snapshot(doc)
    cli("read", doc, "--save", doc, "--model", mamba_ckpt).error("one of the inputs")
    assert snapshot(doc) == before and leftovers(doc.parent) == []


def test_save_onto_an_input_through_another_name_is_refused(mamba_ckpt, doc, tmp_path):
    alias = tmp_path / "alias.txt"
    alias.symlink_to(doc)
    before = snapshot(doc)
    cli("summarize", doc, "--save", alias, "--model", mamba_ckpt, "--max-new-tokens", "2").error("one of the inputs")
    cli("read", doc, "--save", doc, "--model", mamba_ckpt, "--force").error("one of the inputs")  # never, even forced
    assert snapshot(doc) == before


def test_save_onto_an_existing_document_needs_force(mamba_ckpt, doc, tmp_path):
    other = tmp_path / "notes.md"
    other.write_text("my notes\n")
    cli("read", doc, "--save", other, "--model", mamba_ckpt).error("--force")
    assert other.read_text() == "my notes\n"
    cli("read", doc, "--save", other, "--model", mamba_ckpt, "--force", "--quiet").ok()
    assert other.read_bytes()[:8] != b"my notes" and leftovers(tmp_path) == []


def test_save_replaces_an_existing_state_without_force(mamba_ckpt, doc, tmp_path):
    state = tmp_path / "doc.state"
    cli("read", doc, "--save", state, "--model", mamba_ckpt, "--quiet").ok()
    cli("read", doc, "--save", state, "--model", mamba_ckpt, "--quiet").ok()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("target,fragment", [
    ("missing/dir/doc.state", "does not exist"),
    (".", "is a directory"),
    ("", "empty"),
    ("/dev/null", "not a regular file"),
])
def test_save_targets_that_cannot_be_written(mamba_ckpt, doc, tmp_path, target, fragment, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli("read", doc, "--save", target, "--model", mamba_ckpt).error(fragment)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_save_into_an_unwritable_directory(mamba_ckpt, doc, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        cli("read", doc, "--save", locked / "doc.state", "--model", mamba_ckpt).error("not writable")
    finally:
        locked.chmod(0o700)


def test_a_failed_write_leaves_neither_a_temp_file_nor_a_changed_target(tmp_path):
    target = tmp_path / "good.state"
    target.write_bytes(b"the good old file")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half of a new fi")
            raise KeyboardInterrupt  # Ctrl-C or SIGTERM in the middle of the write
    assert target.read_bytes() == b"the good old file" and leftovers(tmp_path) == []


def test_a_named_fifo_is_read_exactly_once_whole(mamba_ckpt, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(TEXT), daemon=True)
    writer.start()
    with bounded():
        run = cli("summarize", fifo, "--model", mamba_ckpt, "--max-new-tokens", "2", "--json").ok()
    writer.join(10)
    import json

    report = json.loads(run.stdout)["report"]
    assert report["input_tokens"] == len(Tokenizer.from_dir(mamba_ckpt).encode(TEXT, parse_special=False))


def test_dev_stdin_as_the_input_reads_every_byte(mamba_ckpt):
    """`ssmdoc summarize /dev/stdin` (and `<(printf ...)`, the same kind of file): no byte eaten by a sniff."""
    import json

    run = finish(process(["summarize", "/dev/stdin", "--model", mamba_ckpt, "--max-new-tokens", "2", "--json"],
                         stdin=-1), input=TEXT.encode()).ok()
    report = json.loads(run.stdout)["report"]
    assert report["input_tokens"] == len(Tokenizer.from_dir(mamba_ckpt).encode(TEXT, parse_special=False))
