"""`ssmdoc demo`: a first run with no network and no download, on the checkpoint shipped with ssmdoc
(recall-hybrid, from the eval issue), whose answer can be checked against the generated document."""

import json
import os
import subprocess
import sys

import pytest

from ssmdoc.demo import demo_checkpoint
from ssmdoc.errors import ModelError

try:
    demo_checkpoint()
    INSTALLED = True
except ModelError:
    INSTALLED = False

needs_model = pytest.mark.skipif(not INSTALLED, reason="ssmdoc/data/recall-hybrid (issue #14) is not in this tree")


def run(*args):
    env = dict(os.environ, HF_HUB_OFFLINE="1", SSMDOC_PROGRESS_INTERVAL="3600")
    return subprocess.run([sys.executable, "-m", "ssmdoc", "demo", *map(str, args)], capture_output=True,
                          text=True, timeout=300, env=env)


@needs_model
def test_demo_prints_a_correct_checked_answer_and_the_report():
    proc = run()
    assert proc.returncode == 0, proc.stderr
    assert "for demonstration only" in proc.stdout and "question: What is the access code for" in proc.stdout
    assert "correct:" in proc.stdout and "warning: wrong" not in proc.stderr
    assert "ssmdoc report" in proc.stderr and "input tokens" in proc.stderr
    assert "hf download" in proc.stderr and "--model" in proc.stderr  # how to get a real model


@needs_model
@pytest.mark.parametrize("seed", [1, 2])
def test_demo_json_answer_follows_the_document(seed):
    proc = run("--json", "--seed", seed)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    demo = out["demo"]
    assert demo["correct"] is True and demo["answer_code"] == demo["expected"]
    assert out["report"]["chunks"] >= 5 and out["report"]["input_tokens"] == out["sources"][0]["tokens"] > 400
    assert out["sources"][0]["address"] == "generated-document.txt" and out["complete"] is True


def test_demo_without_its_model_says_so_in_one_error_line(tmp_path):
    """As an install that lost its package data would run: the packaged folder is empty."""
    code = ("import sys, pathlib, ssmdoc.eval as e; e.packaged_checkpoint = lambda name: pathlib.Path(sys.argv[1]); "
            "sys.argv = ['ssmdoc', 'demo']; from ssmdoc.entry import main; main()")
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and "demonstration model" in proc.stderr and "hint: " in proc.stderr
    assert "Traceback" not in proc.stderr
