"""--top-k, --repetition-penalty and --stop reach the decode loop (ssmdoc.models.generate), checked through
the CLI runner against the library on the same tiny random checkpoint."""

import json

from typer.testing import CliRunner

from ssmdoc.cli import app

TEXT = "The nightly export failed at 03:12 because the disk holding /var/spool was full.\n" * 4


def output(checkpoint, *options) -> str:
    result = CliRunner().invoke(app, ["summarize", "-", "--model", str(checkpoint), "--max-new-tokens", "12",
                                      "--json", *map(str, options)], input=TEXT, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["output"]


def test_top_k_one_makes_sampling_greedy(mamba_ckpt):
    greedy = output(mamba_ckpt)
    sampled = [output(mamba_ckpt, "--temperature", "5", "--seed", seed) for seed in (1, 2)]
    assert greedy not in sampled  # at temperature 5 the random model's draws are not its argmax
    assert output(mamba_ckpt, "--temperature", "5", "--seed", "1", "--top-k", "1") == greedy


def test_repetition_penalty_changes_the_greedy_answer(mamba_ckpt):
    from ssmdoc.models.tokenizer import Tokenizer

    plain = output(mamba_ckpt)
    tokens = Tokenizer.from_dir(mamba_ckpt).encode(plain)
    assert len(set(tokens)) < len(tokens)  # the greedy answer repeats itself...
    penalised = output(mamba_ckpt, "--repetition-penalty", "50")
    assert penalised != plain  # ...and the penalty changes it
    assert output(mamba_ckpt, "--repetition-penalty", "1") == plain


def test_stop_ends_the_answer_where_the_stop_text_starts(mamba_ckpt):
    varied = ("--repetition-penalty", "50")  # the random model's greedy answer is one character repeated
    plain = output(mamba_ckpt, *varied)
    # a stop text of two letters that first occurs a few characters into the answer
    start = next(i for i in range(3, len(plain) - 1) if plain[i:i + 2].isalnum() and plain.index(plain[i:i + 2]) == i)
    stop = plain[start : start + 2]
    assert output(mamba_ckpt, *varied, "--stop", stop) == plain[:start]
    assert output(mamba_ckpt, *varied, "--stop", "no such text", "--stop", stop) == plain[:start]


def test_save_with_map_reduce_is_refused_before_anything_is_read_or_loaded(tmp_path):
    state = tmp_path / "mr.state"
    result = CliRunner().invoke(app, ["summarize", "-", "--model", str(tmp_path / "no-such-model"),
                                      "--strategy", "map-reduce", "--save", str(state)], input=TEXT)
    assert result.exit_code == 2 and result.stderr.startswith("error: --save needs one pass")
    assert "no-such-model" not in result.stderr and not state.exists()
