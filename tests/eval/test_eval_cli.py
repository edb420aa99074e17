"""`ssmdoc eval`: scores that separate a trained checkpoint from a random one, a resumable case log, the
outputs, the run without matplotlib, and every bad option as one error line with exit status 2."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ssmdoc.cli import app

SMALL = ["--lengths", "200", "--depths", "0,1", "--trials", "2", "--quiet"]


def invoke(*args, input=None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def ok(*args):
    result = invoke(*args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def user_error(*args, fragment: str):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    assert fragment in result.stderr, result.stderr


def rows(path):
    lines = path.read_text().splitlines()
    return json.loads(lines[0])["run"], [json.loads(line) for line in lines[1:]]


def test_trained_hybrid_scores_and_random_does_not(hybrid, random_like_hybrid):
    trained = json.loads(ok("eval", "--model", hybrid, *SMALL, "--json").stdout)
    random_ = json.loads(ok("eval", "--model", random_like_hybrid, *SMALL, "--json").stdout)
    assert trained["cases"] == random_["cases"] == 4
    assert trained["accuracy"] >= 0.75 and random_["accuracy"] == 0.0
    # The log-prob of the right code (two tokens of three digits): near 0 nats for the trained model, near
    # 2 x ln(vocab) = -15 for a random one.
    worst_trained = min(c["mean_logprob"] for c in trained["cells"])
    best_random = max(c["mean_logprob"] for c in random_["cells"])
    assert worst_trained > -3.0 and best_random < -10.0


def test_out_dir_holds_cases_summary_heatmap_and_the_table_is_printed(random_hybrid, tmp_path):
    out = tmp_path / "run"
    result = ok("eval", "--model", random_hybrid, *SMALL, "--out", out)
    assert sorted(p.name for p in out.iterdir()) == ["cases.jsonl", "heatmap.png", "summary.json"]
    assert (out / "heatmap.png").read_bytes().startswith(b"\x89PNG")
    summary = json.loads((out / "summary.json").read_text())
    meta, cases = rows(out / "cases.jsonl")
    assert meta.items() <= summary["options"].items() and len(cases) == 4
    assert summary["options"]["lengths"] == [200] and summary["options"]["trials"] == 2
    assert {"length", "depth", "trial", "name", "code", "answer", "correct", "logprob", "tokens",
            "seconds"} <= set(cases[0])
    assert all(180 <= c["tokens"] <= 230 for c in cases)  # about the 200 asked for
    assert sum(c["correct"] for c in cases) / 4 == summary["accuracy"]
    assert all(isinstance(c["logprob"], float) and c["logprob"] < 0 for c in cases)
    table = result.stdout.splitlines()
    assert table[1].split() == ["depth", "200"] and table[-1].split()[0] == "all"


def test_a_run_resumes_from_its_case_log(random_hybrid, tmp_path):
    out = tmp_path / "run"
    ok("eval", "--model", random_hybrid, "--lengths", "128", "--depths", "0,1", "--trials", "1", "--quiet", "--out", out)
    _, first = rows(out / "cases.jsonl")
    assert len(first) == 2
    # A crash mid-write leaves half a line: it is dropped and that case runs again; the other is kept.
    log = out / "cases.jsonl"
    text = log.read_text()
    log.write_text(text[: len(text) - 20])
    ok("eval", "--model", random_hybrid, "--lengths", "128", "--depths", "0,1", "--trials", "2", "--quiet", "--out", out)
    _, second = rows(log)
    assert len(second) == 4
    assert second[0] == first[0]  # kept as it was, seconds included: not run again
    assert {(r["depth"], r["trial"]) for r in second} == {(0.0, 0), (1.0, 0), (0.0, 1), (1.0, 1)}
    redo = next(r for r in second if (r["depth"], r["trial"]) == (first[1]["depth"], first[1]["trial"]))
    assert {k: v for k, v in redo.items() if k != "seconds"} == {k: v for k, v in first[1].items() if k != "seconds"}


def test_a_log_from_other_settings_is_refused(random_hybrid, tmp_path):
    out = tmp_path / "run"
    ok("eval", "--model", random_hybrid, "--lengths", "64", "--depths", "0", "--trials", "1", "--quiet", "--out", out)
    user_error("eval", "--model", random_hybrid, "--lengths", "64", "--depths", "0", "--trials", "1", "--seed", "9",
               "--out", out, fragment="other settings")


def test_without_matplotlib_the_rest_is_written_and_stderr_says_so(random_hybrid, tmp_path):
    out = tmp_path / "run"
    code = ("import sys; sys.modules['matplotlib'] = None\n"  # as if it were not installed: import fails
            "from ssmdoc.cli import main; sys.argv = ['ssmdoc'] + sys.argv[1:]; main()")
    proc = subprocess.run(
        [sys.executable, "-c", code, "eval", "--model", str(random_hybrid), "--lengths", "64", "--depths", "0",
         "--trials", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "matplotlib is not installed" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["cases.jsonl", "summary.json"]
    assert "depth" in proc.stdout


def test_haystack_files_go_through_ingestion(random_hybrid, tmp_path):
    doc = tmp_path / "notes.txt"
    doc.write_text("".join(f"Line {i} of the notes says nothing at all.\n" for i in range(50)))
    result = json.loads(ok("eval", "--model", random_hybrid, "--haystack", doc, "--lengths", "150", "--depths", "0.5",
                           "--trials", "1", "--quiet", "--json").stdout)
    assert result["options"]["haystack"] == [str(doc)] and result["cases"] == 1


@pytest.mark.parametrize("args, fragment", [
    (["--lengths", "abc"], "--lengths"),
    (["--lengths", "0"], "--lengths"),
    (["--lengths", "1.5"], "--lengths"),
    (["--depths", "0,2"], "--depths"),
    (["--depths", "x"], "--depths"),
    (["--needles", "0"], "--needles"),
    (["--needles", "49"], "--needles"),
    (["--trials", "0"], "--trials"),
    (["--strategy", "sideways"], "strategy"),
    (["--haystack", "/no/such/file.txt"], "/no/such/file.txt"),
])
def test_bad_options_are_one_error_line_and_exit_2(random_hybrid, args, fragment):
    user_error("eval", "--model", random_hybrid, *args, fragment=fragment)


def test_out_that_is_a_file_is_refused(random_hybrid, tmp_path):
    f = tmp_path / "x"
    f.write_text("")
    user_error("eval", "--model", random_hybrid, "--lengths", "64", "--out", f, fragment="not a directory")
