"""Context honesty: a checkpoint that states no context is "unknown" (never "unlimited"); a state-spaces
Mamba release gets its known 2048-token training length and `--strategy auto` reads past it by windows;
--context N sets it; the report and `inspect` say where the number came from."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from checkpoints import tiny_checkpoint
from ssmdoc.cli import app


def run(*args, input=None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture(scope="module")
def state_spaces_mamba(tmp_path_factory):
    """A tiny Mamba where the Hugging Face cache keeps state-spaces/mamba-130m-hf (the name says which)."""
    snapshot = tmp_path_factory.mktemp("hub") / "models--state-spaces--mamba-130m-hf" / "snapshots" / "r1"
    return tiny_checkpoint(snapshot, "mamba")


def _long_text(examples, tokens_at_least: int, checkpoint) -> str:
    from ssmdoc.models.tokenizer import Tokenizer

    tok = Tokenizer.from_dir(checkpoint)
    line_block = examples["log"].read_text()
    text = line_block
    while len(tok.encode(text, parse_special=False)) < tokens_at_least:
        text += line_block
    return text


def test_known_training_length_map_reduces_past_it(state_spaces_mamba, examples):
    text = _long_text(examples, 2600, state_spaces_mamba)
    result = run("summarize", "-", "--model", state_spaces_mamba, "--max-new-tokens", "2", "--chunk-tokens", "512",
                 "--json", input=text)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)["report"]
    assert (report["model_context_tokens"], report["model_context_source"]) == (2048, "known")
    assert report["strategy"] == "map-reduce" and report["input_tokens"] > 2048


def test_context_option_sets_it_and_the_report_says_so(mamba_ckpt, examples):
    text = "".join(examples["log"].read_text().splitlines(keepends=True)[:16])
    out = run("summarize", "-", "--model", mamba_ckpt, "--max-new-tokens", "2", "--chunk-tokens", "64",
              "--context", "320", "--json", input=text)
    assert out.exit_code == 0, out.stderr
    report = json.loads(out.stdout)["report"]
    assert (report["model_context_tokens"], report["model_context_source"]) == (320, "--context")
    assert report["strategy"] == "map-reduce"
    table = run("summarize", "-", "--model", mamba_ckpt, "--max-new-tokens", "2", input="short text\n")
    assert "unknown" in table.stderr and "unlimited" not in table.stderr


def test_inspect_shows_where_the_context_comes_from(state_spaces_mamba, mamba_ckpt, examples):
    known = run("inspect", examples["log"], "--model", state_spaces_mamba)
    assert known.exit_code == 0 and "2,048-token context (its known training length)" in known.stdout
    unknown = run("inspect", examples["log"], "--model", mamba_ckpt, "--json")
    model = json.loads(unknown.stdout)["model"]
    assert model["max_context"] is None and model["context_source"] == "unknown"
    given = json.loads(run("inspect", examples["log"], "--model", mamba_ckpt, "--context", "500", "--json").stdout)
    assert (given["model"]["max_context"], given["model"]["context_source"]) == (500, "--context")


def test_map_reduce_without_a_context_asks_for_one(mamba_ckpt):
    result = run("summarize", "-", "--model", mamba_ckpt, "--strategy", "map-reduce", input="text\n")
    assert result.exit_code == 2 and "--context N" in result.stderr
