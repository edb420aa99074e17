"""`ask` and `summarize` arguments that forgive: a missing question is not a missing input, a path is never
silently taken for a question, --question/-q goes anywhere, and a piped stdin gets a hint at `-`."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ssmdoc.cli import app


def invoke(*args, input=None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def one_error(result, *words):
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and all(l.startswith(("error: ", "hint: ")) for l in lines)
    for w in words:
        assert w in result.stderr, result.stderr
    return result.stderr


def test_missing_question_is_told_apart_from_missing_input(examples):
    one_error(invoke("ask", examples["repo"]), "missing question", "the question goes after it")
    one_error(invoke("ask", "where is auth handled?"), "missing input")
    one_error(invoke("ask"), "missing input and question")


def test_a_path_is_not_taken_for_the_question(examples):
    err = one_error(invoke("ask", examples["repo"], examples["log"]), "is an existing path, not a question",
                    "--question")
    assert "Traceback" not in err


def test_question_first_says_it_goes_last(examples):
    one_error(invoke("ask", "where is auth?", examples["repo"]), "the question goes last")


def test_question_option_anywhere_even_a_path(mamba_ckpt, examples):
    for args in (["-q", "why did it fail?", examples["log"]],
                 [examples["log"], "--question", "why did it fail?"],
                 [examples["log"], examples["repo"], "-q", str(examples["log"])]):  # a path is a question with -q
        result = invoke("ask", *args, "--model", mamba_ckpt, "--max-new-tokens", "2", "--json")
        assert result.exit_code == 0, result.stderr
        out = json.loads(result.stdout)
        assert out["task"] == "ask" and out["report"]["input_tokens"] > 0


@pytest.mark.parametrize("argv", [["summarize"], ["ask", "why did the job fail?"]])
def test_piped_stdin_without_dash_gets_a_hint(argv):
    proc = subprocess.run([sys.executable, "-m", "ssmdoc", *argv], input="some log line\n", capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: missing input")
    assert "hint: stdin is piped: name it with -" in proc.stderr


def test_no_input_without_a_pipe_names_an_example():
    proc = subprocess.run([sys.executable, "-m", "ssmdoc", "summarize"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "error: missing input" in proc.stderr and "stdin is piped" not in proc.stderr
