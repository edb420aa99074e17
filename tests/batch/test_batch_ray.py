"""`ssmdoc batch` on a real local Ray: 20 documents on 2 replicas, each row what `summarize --json` prints."""

import importlib.util
import json
import shutil

import pytest
from batch_helpers import assert_row_equals_summarize, rows, run_batch_cli, summarize_json
from fixtures import make_pdf
from typer.testing import CliRunner

from ssmdoc.cli import app

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_ray_at_a_time"),
              pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the ray extra is not installed")]

MAX_NEW = "6"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, examples):
    """20 documents: 14 text files, 3 PDFs, a small repository, a log, and one broken PDF."""
    root = tmp_path_factory.mktemp("corpus")
    docs = root / "docs"
    docs.mkdir()
    names = []
    for i in range(14):
        path = docs / f"note{i:02d}.txt"
        path.write_text("".join(f"Note {i}, line {n}: the lease renews unless notice is given.\n"
                                for n in range(5 + 7 * i)))
        names.append(f"docs/{path.name}")
    for i in range(3):
        (docs / f"letter{i}.pdf").write_bytes(make_pdf([f"Letter {i}\nDear tenant,\nthe rent rises by {i + 2}%.",
                                                         f"Page two of letter {i}."]))
        names.append(f"docs/letter{i}.pdf")
    shutil.copytree(examples["repo"], root / "repo")
    names.append("repo")
    shutil.copy(examples["log"], docs / "app.log")
    names.append("docs/app.log")
    (docs / "broken.pdf").write_bytes(make_pdf(["fine page"])[:60])  # cut off: not a readable PDF
    names.append("docs/broken.pdf")
    assert len(names) == 20
    return root, names


def test_twenty_documents_on_two_replicas_each_one_row_equal_to_summarize(corpus, mamba_ckpt):
    root, names = corpus
    (root / "manifest.txt").write_text("# the PDFs and the repository\n" + "\n".join(names[14:]) + "\n\n")
    out, states = root / "results.jsonl", root / "states"
    done = run_batch_cli(*names[:14], "@manifest.txt", "--out", out, "--model", mamba_ckpt, "--max-new-tokens",
                         MAX_NEW, "--replicas", "2", "--save-states", states, "--json", cwd=root)
    assert done.returncode == 2, done.stderr
    assert "error: 1 of 20 documents failed" in done.stderr and "Traceback" not in done.stderr
    summary = json.loads(done.stdout)
    assert (summary["documents"], summary["succeeded"], summary["failed"], summary["replicas"]) == (20, 19, 1, 2)
    assert len(summary["per_replica"]) == 2  # both replicas took documents
    assert sum(r["documents"] for r in summary["per_replica"]) == 20

    by_input = {}
    for row in rows(out):
        assert row["input"] not in by_input, f"two rows for {row['input']}"
        by_input[row["input"]] = row
    assert sorted(by_input) == sorted(names)

    broken = by_input.pop("docs/broken.pdf")
    assert "not a readable PDF" in broken["error"]["message"] and broken["error"]["hint"]
    assert "output" not in broken
    for name, row in by_input.items():
        assert "error" not in row, row
        assert_row_equals_summarize(row, summarize_json(name, "--model", mamba_ckpt, "--max-new-tokens", MAX_NEW,
                                                        cwd=root))
    assert summary["input_tokens"] == sum(r["report"]["input_tokens"] for r in by_input.values())

    # --save-states: one state per document, named by its content hash, that `ssmdoc ask` answers from.
    row = by_input["docs/letter1.pdf"]
    state = states / f"{row['content_hash']}.state"
    assert row["state_file"] == str(state) and state.is_file()
    assert len(list(states.glob("*.state"))) == 19
    asked = CliRunner().invoke(app, ["ask", str(state), "what rises?", "--max-new-tokens", "4", "--json"])
    assert asked.exit_code == 0, asked.output
    assert json.loads(asked.stdout)["report"]["resumed"]["tokens"] == row["report"]["input_tokens"]
