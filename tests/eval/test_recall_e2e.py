"""Answers that are right for a reason: the trained hybrid finds the access code through `ssmdoc ask`.

Three haystacks of ~400 tokens (the checkpoint was trained on up to 512), each with one needle at its own
depth: `ssmdoc ask` prints that needle's code when the haystack is streamed in chunks of 16 tokens, when
it is read from stdin, and when it was read without the question and saved (`ssmdoc read --save`, then
`ssmdoc ask STATE`). The codes are random; a last test changes them in the file and the answer follows.
With several needles in one haystack the packaged hybrid does not reliably pick the asked one (docs/eval.md),
so each haystack here holds one.
"""

import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssmdoc.cli import app
from ssmdoc.eval.haystack import Needle, build_haystack, filler_units
from ssmdoc.models.tokenizer import Tokenizer

NEEDLES = [Needle("Greta", "418093", 0.2), Needle("Marco", "750261", 0.55), Needle("Yara", "096347", 0.85)]


def invoke(*args, input=None):
    result = CliRunner().invoke(app, [str(a) for a in args], input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


@pytest.fixture(scope="module")
def haystacks(tmp_path_factory, hybrid) -> dict[str, Path]:
    """One ~400-token haystack per needle, each from its own filler: name -> path."""
    tok = Tokenizer.from_dir(hybrid)
    folder = tmp_path_factory.mktemp("hay")
    paths = {}
    for i, needle in enumerate(NEEDLES):
        hay = build_haystack(filler_units(2024 + i), 400, [needle], lambda t: len(tok.encode(t, parse_special=False)))
        paths[needle.name] = folder / f"haystack-{needle.name.lower()}.txt"
        paths[needle.name].write_text(hay.text + "\n")
    return paths


def question(n: Needle) -> str:
    return f"What is the access code for {n.name}?"


@pytest.mark.parametrize("needle", NEEDLES, ids=lambda n: n.name)
def test_ask_a_file_streamed_in_small_chunks(hybrid, haystacks, needle, monkeypatch):
    monkeypatch.chdir(haystacks[needle.name].parent)
    out = invoke("ask", haystacks[needle.name].name, question(needle), "--model", hybrid, "--chunk-tokens", "16",
                 "--quiet")
    assert out.stdout.strip() == needle.code


@pytest.mark.parametrize("needle", NEEDLES[:2], ids=lambda n: n.name)
def test_ask_from_stdin(hybrid, haystacks, needle):
    out = invoke("ask", "-", question(needle), "--model", hybrid, "--chunk-tokens", "64", "--quiet",
                 input=haystacks[needle.name].read_text())
    assert out.stdout.strip() == needle.code


@pytest.mark.parametrize("needle", NEEDLES, ids=lambda n: n.name)
def test_ask_a_saved_state_read_without_the_question(hybrid, haystacks, needle, tmp_path, monkeypatch):
    monkeypatch.chdir(haystacks[needle.name].parent)
    state = tmp_path / "hay.state"
    invoke("read", haystacks[needle.name].name, "--save", state, "--model", hybrid, "--chunk-tokens", "32", "--quiet")
    out = invoke("ask", state, question(needle), "--quiet")  # the model is the one the state names
    assert out.stdout.strip() == needle.code


def test_the_answer_depends_on_the_document(hybrid, tmp_path, monkeypatch):
    """Same question, codes changed in the file: the answer follows the file (it is not memorised)."""
    monkeypatch.chdir(tmp_path)
    rng = random.Random(5)
    tok = Tokenizer.from_dir(hybrid)
    for i in range(3):
        code = "".join(str(rng.randrange(10)) for _ in range(6))
        hay = build_haystack(filler_units(i), 300, [Needle("Sofia", code, 0.5)],
                             lambda t: len(tok.encode(t, parse_special=False)))
        (tmp_path / "h.txt").write_text(hay.text + "\n")
        out = invoke("ask", "h.txt", "What is the access code for Sofia?", "--model", hybrid, "--quiet")
        assert out.stdout.strip() == code
