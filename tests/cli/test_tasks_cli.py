"""summarize / ask / watch end to end, through typer's CliRunner and as a subprocess, on tiny random checkpoints.

The models are random, so their text is noise; what is checked is everything around it: what was read
(every token of every source), the streams (answer on stdout, report on stderr), the JSON schema, errors.
"""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ssmdoc.cli import app
from ssmdoc.ingest import iter_segments
from ssmdoc.models.tokenizer import Tokenizer

REPORT_KEYS = {
    "input_tokens", "model_context_tokens", "model_context_source", "strategy", "chunks", "chunk_tokens", "state_bytes",
    "transformer_kv_equivalent_bytes", "weights_bytes", "peak_memory_bytes", "prefill_tokens_per_second",
    "decode_tokens_per_second", "elapsed_seconds",
}  # peak_cuda_bytes too, on CUDA only


def invoke(*args, input=None):
    # mix_stderr is gone from click 8.2 / typer's vendored click: result.stdout and result.stderr are separate.
    return CliRunner().invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)


def json_run(*args, input=None) -> dict:
    result = invoke(*args, "--json", input=input)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def token_counts(checkpoint, inputs, stdin_text=None) -> dict[str, int]:
    """Tokens per input address, counted independently of the pipeline: ingest + tokenizer, nothing else."""
    import io

    tok = Tokenizer.from_dir(checkpoint)
    stdin = io.BytesIO(stdin_text.encode()) if stdin_text is not None else None
    counts: dict[str, int] = {}
    for segment in iter_segments([str(i) for i in inputs], stdin=stdin):
        src = segment.source
        address = f"{src.root.rstrip('/')}/{src.path}" if src.root else src.path
        counts[address] = counts.get(address, 0) + len(tok.encode(segment.text, parse_special=False))
    return counts


def test_summarize_a_pdf_streams_the_answer_and_reports_every_page(mamba_ckpt, examples):
    result = invoke("summarize", examples["pdf"], "--model", mamba_ckpt, "--max-new-tokens", "12")
    assert result.exit_code == 0, result.stderr
    assert "ssmdoc report" in result.stderr and "input tokens" in result.stderr
    assert "ssmdoc report" not in result.stdout  # the answer alone on stdout
    out = json_run("summarize", examples["pdf"], "--model", mamba_ckpt, "--max-new-tokens", "12")
    (source,) = out["sources"]
    assert source["kind"] == "pdf"
    expected = token_counts(mamba_ckpt, [examples["pdf"]])
    assert source["tokens"] == expected[source["address"]] == out["report"]["input_tokens"]
    assert out["report"]["strategy"] == "stream"  # a pure Mamba states no context limit
    assert out["report"]["model_context_tokens"] is None
    assert out["report"]["model_context_source"] == "unknown"  # never "unlimited"


def test_ask_over_a_repository_counts_each_file(jamba_ckpt, examples):
    out = json_run("ask", examples["repo"], "where is authentication handled?", "--model", jamba_ckpt,
                   "--max-new-tokens", "8", "--chunk-tokens", "128")
    assert out["task"] == "ask" and isinstance(out["output"], str)
    by_address = {s["address"]: s["tokens"] for s in out["sources"]}
    assert by_address == token_counts(jamba_ckpt, [examples["repo"]])
    root = str(examples["repo"])
    assert {f"{root}/shopfront/auth.py", f"{root}/shopfront/app.py", f"{root}/README.md"} <= set(by_address)
    assert all(s["kind"] == "repo" for s in out["sources"])
    report = out["report"]
    assert report["input_tokens"] == sum(by_address.values())
    assert report["chunks"] >= -(-report["input_tokens"] // 128)  # 128-token chunks, none skipped
    assert report["state_bytes"]["kv"] > 0  # Jamba has attention layers


def test_json_schema_has_exactly_the_documented_keys(mamba_ckpt, examples):
    out = json_run("summarize", examples["log"], "--model", mamba_ckpt, "--max-new-tokens", "4")
    assert set(out) == {"task", "model", "output", "complete", "interrupted", "sources", "report"}
    assert out["complete"] is True and out["interrupted"] is None
    assert out["task"] == "summarize" and out["model"] == str(mamba_ckpt)
    report = out["report"]
    assert set(report) == REPORT_KEYS  # no peak_cuda_bytes on CPU
    assert set(report["state_bytes"]) == {"ssm", "conv", "kv"}
    assert report["state_bytes"]["kv"] == 0 and report["state_bytes"]["ssm"] > 0
    assert report["chunk_tokens"] == 2048 and report["chunks"] >= 1
    assert report["weights_bytes"] > 0 and report["peak_memory_bytes"] > 0
    assert report["transformer_kv_equivalent_bytes"] > 0
    assert report["prefill_tokens_per_second"] > 0 and report["decode_tokens_per_second"] > 0
    assert report["elapsed_seconds"] > 0
    assert all(set(s) == {"kind", "address", "tokens"} for s in out["sources"])


def test_multiple_inputs_keep_their_order_and_counts(mamba_ckpt, examples):
    inputs = [examples["log"], examples["pdf"], examples["repo"]]
    out = json_run("summarize", *inputs, "--model", mamba_ckpt, "--max-new-tokens", "4")
    kinds = [s["kind"] for s in out["sources"]]
    assert kinds[0] == "file" and kinds[1] == "pdf" and set(kinds[2:]) == {"repo"}
    assert {s["address"]: s["tokens"] for s in out["sources"]} == token_counts(mamba_ckpt, inputs)


@pytest.mark.parametrize("task", [["summarize", "-"], ["ask", "-", "why did the export fail?"]])
def test_stdin(mamba_ckpt, examples, task):
    text = examples["log"].read_text()
    out = json_run(*task, "--model", mamba_ckpt, "--max-new-tokens", "4", input=text)
    assert out["sources"] == [{"kind": "stdin", "address": "-", "tokens": token_counts(mamba_ckpt, ["-"], text)["-"]}]


def test_summarize_stdin_in_a_subprocess(mamba_ckpt, examples):
    proc = subprocess.run(
        [sys.executable, "-m", "ssmdoc", "summarize", "-", "--model", str(mamba_ckpt), "--max-new-tokens", "6"],
        input=examples["log"].read_text(), capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ssmdoc report" in proc.stderr and "strategy" in proc.stderr
    assert "\r" not in proc.stderr  # no progress animation when stderr is not a terminal


def test_watch_digests_every_n_lines_then_summarizes(jamba_ckpt, examples):
    lines = examples["log"].read_text().splitlines(keepends=True)[:45]
    result = invoke("watch", "--every", "20", "--window", "64", "--model", jamba_ckpt, "--max-new-tokens", "4",
                    input="".join(lines))
    assert result.exit_code == 0, result.stderr
    headers = [l for l in result.stdout.splitlines() if l.startswith("--- ")]
    assert headers == ["--- digest 1 after 20 lines ---", "--- digest 2 after 40 lines ---",
                       "--- final summary after 45 lines ---"]
    assert "sliding-window (attention keeps the last 64 tokens)" in result.stderr


def test_watch_json_lines(mamba_ckpt, examples):
    text = "".join(examples["log"].read_text().splitlines(keepends=True)[:25])
    result = invoke("watch", "--every", "10", "--json", "--model", mamba_ckpt, "--max-new-tokens", "3", input=text)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r.get("digest"), r.get("lines")) for r in rows[:-1]] == [(1, 10), (2, 20)]
    final = rows[-1]
    assert set(final) == {"task", "model", "output", "complete", "interrupted", "sources", "report"}
    assert final["task"] == "watch" and final["complete"] is True
    assert final["report"]["strategy"] == "stream"  # pure Mamba: no attention window to speak of
    assert final["sources"][0]["tokens"] == final["report"]["input_tokens"] > 0


def test_map_reduce_reads_every_token_of_an_input_several_contexts_long(short_jamba_ckpt, examples):
    text = "".join(examples["log"].read_text().splitlines(keepends=True)[:16])
    expected = token_counts(short_jamba_ckpt, ["-"], text)["-"]
    assert expected > 2 * 320
    out = json_run("summarize", "-", "--model", short_jamba_ckpt, "--max-new-tokens", "4", "--chunk-tokens", "64",
                   input=text)
    report = out["report"]
    assert report["strategy"] == "map-reduce" and report["model_context_tokens"] == 320
    assert report["model_context_source"] == "config"
    assert report["input_tokens"] == expected == out["sources"][0]["tokens"]
    assert report["chunks"] >= -(-expected // 64)  # chunks of at most 64 tokens, none left out
    # Forcing one pass over the same model reads the same tokens, says so, and warns about the context.
    result = invoke("summarize", "-", "--model", short_jamba_ckpt, "--max-new-tokens", "2", "--strategy", "stream",
                    "--chunk-tokens", "1000", "--json", input=text)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)["report"]
    assert report["strategy"] == "stream" and report["input_tokens"] == expected and report["chunks"] == 1
    assert "warning: read" in result.stderr and "beyond the model's context of 320" in result.stderr


def test_ctrl_c_while_reading_still_answers_what_was_read(mamba_ckpt, monkeypatch):
    import io

    import ssmdoc.ingest

    class InterruptedStdin(io.RawIOBase):
        """Delivers some lines, then Ctrl-C arrives while the next read is blocked."""

        def __init__(self, data):
            self.data = data

        def readable(self):
            return True

        def read1(self, n=-1):
            if self.data is None:
                raise KeyboardInterrupt
            data, self.data = self.data, None
            return data

        read = read1

    text = "first line of the stream\nsecond line\n"
    real = ssmdoc.ingest.iter_segments
    monkeypatch.setattr(ssmdoc.ingest, "iter_segments",
                        lambda inputs, **kw: real(inputs, stdin=InterruptedStdin(text.encode()), **kw))
    result = invoke("summarize", "-", "--model", mamba_ckpt, "--max-new-tokens", "3", "--json")
    assert result.exit_code == 3, result.stderr  # a partial answer: its own exit status (README)
    assert "warning: interrupted" in result.stderr
    out = json.loads(result.stdout)
    assert out["complete"] is False and out["interrupted"] == "reading"
    assert out["report"]["input_tokens"] == token_counts(mamba_ckpt, ["-"], text)["-"]


def run_cli(*args, input=None):
    return subprocess.run([sys.executable, "-m", "ssmdoc", *map(str, args)], capture_output=True, text=True,
                          timeout=120, input=input)


def assert_user_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and all(l.startswith(("error: ", "hint: ")) for l in lines)
    for fragment in fragments:
        assert fragment in proc.stderr


def test_offline_without_cache_is_one_error_line_with_a_hint(examples):
    proc = run_cli("summarize", examples["log"], "--model", "nobody/absent-model")
    assert_user_error(proc, "not in the local cache", "HF_HUB_OFFLINE", "hf download nobody/absent-model")


def cli_error(*args, fragments=()):
    """A user error through the runner: exit 2, one error line (+ hints), no traceback."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    proc = subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)
    assert_user_error(proc, *fragments)


def test_the_default_model_offline_without_cache_says_so(examples):
    cli_error("ask", examples["log"], "what failed?", fragments=["ai21labs/AI21-Jamba2-3B", "hf download"])


@pytest.mark.parametrize("model, message", [("./no/such/checkpoint", "not a directory"),
                                            ("not a repo id!", "valid Hub repo id")])
def test_unknown_model_errors(examples, model, message):
    cli_error("summarize", examples["log"], "--model", model, fragments=[message])


def test_unsupported_architecture_is_a_user_error(tmp_path, examples):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}))
    cli_error("summarize", examples["log"], "--model", tmp_path, fragments=["unsupported model architecture"])


def test_a_missing_input_fails_before_the_model_loads(tmp_path):
    # The model does not exist either: the input error must come first (nothing was loaded).
    cli_error("summarize", tmp_path / "missing.pdf", "--model", "nobody/absent-model",
              fragments=["missing.pdf: no such file"])


@pytest.mark.parametrize("option, message", [(["--strategy", "sideways"], "unknown strategy"),
                                             (["--top-p", "0"], "top_p must be in (0, 1]"),
                                             (["--device", "cuda"], "CUDA")])
def test_bad_options_are_user_errors(mamba_ckpt, examples, option, message):
    if option[0] == "--device":
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
    cli_error("summarize", examples["log"], "--model", mamba_ckpt, *option, fragments=[message])


def test_quiet_leaves_only_the_answer(mamba_ckpt, examples):
    loud = invoke("summarize", examples["log"], "--model", mamba_ckpt, "--max-new-tokens", "5")
    quiet = invoke("summarize", examples["log"], "--model", mamba_ckpt, "--max-new-tokens", "5", "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert quiet.stdout == loud.stdout  # greedy: the same answer, only the report is gone
    assert "ssmdoc report" in loud.stderr
