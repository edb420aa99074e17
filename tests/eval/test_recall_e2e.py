"""Answers that are right for a reason: the trained hybrid finds the access code through `ssmdoc ask`.

The haystack holds three needles; each question names one of them and must get that one's code (a model
that repeated any code it saw, or the first one, would fail). The same holds when the haystack is streamed
in chunks of 16 tokens, read from stdin, and asked from a saved state (read without the question).
"""

import random

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
def haystack(tmp_path_factory, hybrid):
    tok = Tokenizer.from_dir(hybrid)
    hay = build_haystack(filler_units(2024), 400, NEEDLES, lambda t: len(tok.encode(t, parse_special=False)))
    path = tmp_path_factory.mktemp("hay") / "haystack.txt"
    path.write_text(hay.text + "\n")
    return path


def question(n: Needle) -> str:
    return f"What is the access code for {n.name}?"


@pytest.mark.parametrize("needle", NEEDLES, ids=lambda n: n.name)
def test_ask_a_file_streamed_in_small_chunks(hybrid, haystack, needle, monkeypatch):
    monkeypatch.chdir(haystack.parent)
    out = invoke("ask", haystack.name, question(needle), "--model", hybrid, "--chunk-tokens", "16", "--quiet")
    assert out.stdout.strip() == needle.code


@pytest.mark.parametrize("needle", NEEDLES[:2], ids=lambda n: n.name)
def test_ask_from_stdin(hybrid, haystack, needle):
    out = invoke("ask", "-", question(needle), "--model", hybrid, "--chunk-tokens", "64", "--quiet",
                 input=haystack.read_text())
    assert out.stdout.strip() == needle.code


def test_ask_a_saved_state_read_without_the_question(hybrid, haystack, tmp_path, monkeypatch):
    monkeypatch.chdir(haystack.parent)
    state = tmp_path / "hay.state"
    invoke("read", haystack.name, "--save", state, "--model", hybrid, "--chunk-tokens", "32", "--quiet")
    for needle in NEEDLES:
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
