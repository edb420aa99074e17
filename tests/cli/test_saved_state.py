"""Saved document states end to end: read once, ask many times; constant size for SSMs; every refusal."""

import json

import pytest
from typer.testing import CliRunner

from ssmdoc.cli import app
from ssmdoc.statefile import FORMAT_VERSION, read_state

QUESTION = "who may terminate the agreement?"


def invoke(*args, input=None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def ok(*args, input=None):
    result = invoke(*args, input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def json_out(*args, input=None) -> dict:
    return json.loads(ok(*args, "--json", input=input).stdout)


def user_error(*args, fragment: str):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert fragment in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    para = "The tenant pays rent monthly. Either party may terminate with 30 days notice in writing.\n"
    short, long = root / "short.txt", root / "long.txt"
    short.write_text(para * 3)
    long.write_text(para * 100)
    return short, long


def tensor_bytes(path) -> dict[str, int]:
    tensors, _ = read_state(path)
    return {name: t.numel() * t.element_size() for name, t in tensors.items()}


def test_pure_mamba_state_is_the_same_size_for_a_20x_longer_document(mamba_ckpt, docs, tmp_path):
    short, long = docs
    a, b = tmp_path / "short.state", tmp_path / "long.state"
    ra = json_out("read", short, "--save", a, "--model", mamba_ckpt)
    rb = json_out("read", long, "--save", b, "--model", mamba_ckpt)
    assert rb["report"]["input_tokens"] >= 20 * ra["report"]["input_tokens"]
    assert tensor_bytes(a) == tensor_bytes(b)
    assert a.stat().st_size == pytest.approx(b.stat().st_size, abs=512)  # only the metadata differs
    info = json.loads(ok("state", "info", b, "--json").stdout)
    assert info["state_bytes"]["kv"] == 0 and info["state_bytes"]["ssm"] > 0
    assert info["token_count"] == rb["report"]["input_tokens"]
    assert info["sources"][0]["path"].endswith("long.txt") and len(info["sources"][0]["sha256"]) == 64


@pytest.mark.parametrize("ckpt", ["mamba_ckpt", "jamba_ckpt"])
def test_greedy_ask_from_a_saved_state_equals_ask_over_the_inputs(ckpt, docs, tmp_path, request):
    checkpoint = request.getfixturevalue(ckpt)
    short, _ = docs
    state = tmp_path / "doc.state"
    fresh = json_out("ask", short, QUESTION, "--model", checkpoint, "--max-new-tokens", "12", "--save", state)
    resumed = json_out("ask", state, QUESTION, "--max-new-tokens", "12")  # the model comes from the state
    assert resumed["output"] == fresh["output"]
    assert resumed["report"]["resumed"]["tokens"] == fresh["report"]["input_tokens"]
    assert resumed["report"]["input_tokens"] == fresh["report"]["input_tokens"]
    assert "resumed" not in fresh["report"]
    # The file stays clean: asking again gives the same answer again.
    again = json_out("ask", state, QUESTION, "--max-new-tokens", "12", "--model", checkpoint)
    assert again["output"] == fresh["output"]


def test_a_read_state_answers_like_reading_now(jamba_ckpt, docs, tmp_path):
    """`read --save` then `ask FILE` equals reading the same prefix + document in-process and asking."""
    from ssmdoc.ingest import iter_segments
    from ssmdoc.pipeline import GenOptions, RunOptions, Task, load_engine, read, respond

    short, _ = docs
    state = tmp_path / "read.state"
    ok("read", short, "--save", state, "--model", jamba_ckpt, "--quiet")
    from_file = json_out("ask", state, QUESTION, "--max-new-tokens", "10")
    engine = load_engine(str(jamba_ckpt), device="cpu")
    options = RunOptions(2048, "stream", GenOptions(max_new_tokens=10))
    reading = read(engine, iter_segments([str(short)]), Task("read"), options)
    reading.task = Task("ask", QUESTION)
    assert respond(engine, reading, options).output == from_file["output"]
    summary = json_out("summarize", state, "--max-new-tokens", "5")
    assert summary["task"] == "summarize" and summary["report"]["resumed"]["state_file"] == str(state)


def test_refusals_tampered_truncated_wrong_model_wrong_version(mamba_ckpt, jamba_ckpt, docs, tmp_path):
    short, _ = docs
    state = tmp_path / "doc.state"
    ok("read", short, "--save", state, "--model", mamba_ckpt, "--quiet")
    good = state.read_bytes()

    user_error("ask", state, QUESTION, "--model", jamba_ckpt, fragment="another model")
    user_error("ask", state, QUESTION, "--dtype", "bfloat16", fragment="float32")

    tampered = bytearray(good)
    tampered[-5] ^= 0x10
    state.write_bytes(bytes(tampered))
    user_error("ask", state, QUESTION, fragment="content hash")

    state.write_bytes(good[: len(good) // 2])
    user_error("ask", state, QUESTION, fragment="truncated")

    n = int.from_bytes(good[:8], "little")
    header = good[8 : 8 + n].decode()
    bumped = header.replace(f'\\"format_version\\": {FORMAT_VERSION}', '\\"format_version\\": 99')
    assert bumped != header
    state.write_bytes(len(bumped.encode()).to_bytes(8, "little") + bumped.encode() + good[8 + n :])
    user_error("ask", state, QUESTION, fragment="version")
    user_error("state", "info", state, fragment="version")


def test_save_refuses_a_map_reduce_reading(short_jamba_ckpt, examples, tmp_path):
    state = tmp_path / "mr.state"
    text = examples["log"].read_text()
    result = invoke("summarize", "-", "--model", short_jamba_ckpt, "--max-new-tokens", "2", "--save", state,
                    input=text)
    assert result.exit_code == 2 and "map-reduce" in result.stderr and not state.exists()


def test_ingest_options_reach_summarize_and_read(mamba_ckpt, tmp_path):
    """--password (and the other ingest options) work on the commands that read, not only on inspect."""
    from ingest.fixtures import encrypt_pdf, make_pdf

    pdf = tmp_path / "locked.pdf"
    pdf.write_bytes(encrypt_pdf(make_pdf(["Clause one: rent is due monthly.", "Clause two: notice."]), "s3cret"))
    user_error("summarize", pdf, "--model", mamba_ckpt, fragment="password")
    out = json_out("summarize", pdf, "--model", mamba_ckpt, "--password", "s3cret", "--max-new-tokens", "2")
    assert out["report"]["input_tokens"] > 0 and [s["kind"] for s in out["sources"]] == ["pdf"]
    state = tmp_path / "locked.state"
    ok("read", pdf, "--save", state, "--model", mamba_ckpt, "--password", "s3cret", "--quiet")
    assert state.exists()
