"""The driver's bookkeeping without Ray: inputs and manifests, content hashes and keys, the results file."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ssmdoc.batch.documents import content_hash, document, expand_inputs, resume_key
from ssmdoc.batch.results import ResultsFile
from ssmdoc.cli import app
from ssmdoc.errors import UsageError

IDENTITY = {"task": "summarize", "question": None, "model": "m", "weights": "w", "dtype": "auto", "options": {}}


def test_manifest_lines_expand_in_order_without_blanks_comments_or_repeats(tmp_path):
    manifest = tmp_path / "list.txt"
    manifest.write_text("# contracts\na.pdf\n\n  b.txt  \na.pdf\n")
    assert expand_inputs(["x.txt", f"@{manifest}", "x.txt", "c/"]) == ["x.txt", "a.pdf", "b.txt", "c/"]
    with pytest.raises(UsageError, match="standard input"):
        expand_inputs(["a.txt", "-"])
    with pytest.raises(UsageError, match="cannot read manifest"):
        expand_inputs([f"@{tmp_path / 'missing.txt'}"])


def test_content_hash_follows_the_name_and_the_bytes_but_not_git(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "a.py").write_text("x = 1\n")
    (tmp_path / "repo" / ".git" / "HEAD").write_text("ref: main\n")
    (tmp_path / "one.txt").write_text("same\n")
    (tmp_path / "two.txt").write_text("same\n")
    repo = content_hash("repo", 1 << 20)
    assert content_hash("one.txt", 1 << 20) != content_hash("two.txt", 1 << 20)  # the model reads the name
    (tmp_path / "repo" / ".git" / "HEAD").write_text("ref: other\n")
    assert content_hash("repo", 1 << 20) == repo
    (tmp_path / "repo" / "a.py").write_text("x = 2\n")
    assert content_hash("repo", 1 << 20) != repo
    assert resume_key("h", IDENTITY) != resume_key("h", IDENTITY | {"options": {"max_new_tokens": 5}})


def test_documents_that_cannot_be_read_fail_on_the_driver_with_a_hint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "big.txt").write_text("x" * 100)
    (tmp_path / "ok.txt").write_text("fine\n")
    missing = document("nope.txt", IDENTITY, 1 << 20)
    big = document("big.txt", IDENTITY, 50)
    ok = document("ok.txt", IDENTITY, 50)
    assert "no such file" in missing.error["message"] and missing.content_hash is None
    assert "larger than --max-file-bytes 50" in big.error["message"] and "--max-file-bytes" in big.error["hint"]
    assert ok.error is None and len(ok.content_hash) == 64
    assert len({missing.key, big.key, ok.key}) == 3


def test_results_file_drops_a_partial_last_line_and_knows_what_is_done(tmp_path):
    path = tmp_path / "r.jsonl"
    good = {"input": "a", "key": "k1", "output": "x"}
    failed = {"input": "b", "key": "k2", "error": {"message": "bad", "hint": None}}
    partial = '{"input": "c", "ke'
    path.write_text(json.dumps(good) + "\n" + json.dumps(failed) + "\n" + partial)
    warnings = []
    results = ResultsFile(path, warnings.append)
    existing = results.load()
    assert existing.ok == {"k1"} and set(existing.failed) == {"k2"} and existing.dropped_bytes == len(partial)
    assert any("partial last line" in w for w in warnings)
    results.append({"input": "c", "key": "k3", "output": "y"})
    results.close()
    lines = path.read_text().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["k1", "k2", "k3"]


def test_a_second_batch_on_the_same_results_file_is_refused(tmp_path):
    path = tmp_path / "r.jsonl"
    first = ResultsFile(path, print)
    try:
        with pytest.raises(UsageError, match="another ssmdoc batch is writing"):
            ResultsFile(path, print)
    finally:
        first.close()
    ResultsFile(path, print).close()  # free again once the first one is done


def test_help_shows_examples():
    result = CliRunner().invoke(app, ["batch", "--help"])
    assert result.exit_code == 0
    for fragment in ("Examples", "@manifest.txt", "--task ask", "--save-states", "--ray-address", "--replicas"):
        assert fragment in result.output, fragment


def test_without_ray_one_error_line_with_the_install_hint(tmp_path, mamba_ckpt):
    """Ray blocked from being imported (as if it were not installed): one error, the hint, exit status 2."""
    (tmp_path / "a.txt").write_text("hello\n")
    code = ("import sys; sys.modules['ray'] = None\n"  # `import ray` now raises ImportError
            "from ssmdoc.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", code, "batch", "a.txt", "--out", "r.jsonl", "--model",
                             str(mamba_ckpt)], cwd=tmp_path, capture_output=True, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"), timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ssmdoc batch needs Ray Data, which is not installed")
    assert result.stderr.splitlines()[-1] == 'hint: install the Ray extra: pip install "ssmdoc[ray]"'
    assert "Traceback" not in result.stderr and not (tmp_path / "r.jsonl").exists()


@pytest.mark.parametrize("args, fragment", [
    (["--task", "ask"], "--task ask needs --question"),
    (["--task", "translate"], "unknown --task"),
    (["--question", "why?"], "--question is for --task ask"),
    (["--device", "cuda"], "add --gpus-per-replica"),
])
def test_bad_task_options_are_one_error_line(tmp_path, mamba_ckpt, args, fragment):
    (tmp_path / "a.txt").write_text("hello\n")
    result = CliRunner().invoke(app, ["batch", str(tmp_path / "a.txt"), "--out", str(tmp_path / "r.jsonl"),
                                      "--model", str(mamba_ckpt), *args])
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and fragment in result.stderr


def test_a_ray_address_that_does_not_answer_is_one_error_line_at_once(tmp_path, mamba_ckpt):
    (tmp_path / "a.txt").write_text("hello\n")
    result = CliRunner().invoke(app, ["batch", str(tmp_path / "a.txt"), "--out", str(tmp_path / "r.jsonl"),
                                      "--model", str(mamba_ckpt), "--ray-address", "127.0.0.1:1"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: no Ray cluster answers at 127.0.0.1:1")
    assert (tmp_path / "r.jsonl").read_text() == ""  # nothing written, nothing lost
