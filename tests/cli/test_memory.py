"""Memory does not grow with the input: 10x more stdin through `--strategy stream`, peak RSS measured per process.

Each run is its own `python -m ssmdoc` process; its peak RSS comes from the kernel (os.wait4's rusage of
that very child), not from ssmdoc's own report. A pure Mamba must stay within a couple of MiB. A hybrid
grows by its KV cache (attention keeps every token with --strategy stream) plus slack: the attention's
working set for one chunk (scores of chunk x context, GQA-expanded keys/values, the KV buffer's growth by
doubling), kept small here with 16-token chunks.
"""

import json
import os
import subprocess
import sys

import pytest

from checkpoints import tiny_checkpoint

MiB = 1 << 20


@pytest.fixture(scope="module")
def wide_jamba(tmp_path_factory):
    # 1 KiB of KV per token (2 attention layers x k,v x 4 heads x 16 dims x 4 bytes): 10x the input adds
    # several MiB of KV, so the bound below is not swamped by its slack.
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "wide_jamba", "jamba", hidden_size=64,
                           num_attention_heads=4, num_key_value_heads=4)


def log_text(lines: int) -> str:
    return "".join(f"2024-03-14 02:{i // 60 % 60:02d}:{i % 60:02d} INFO worker-{i % 4}: batch {i} written, "
                   f"{i * 37 % 5000} rows\n" for i in range(lines))


def peak_rss(tmp_path, checkpoint, text: str, chunk_tokens: int) -> tuple[int, dict]:
    source = tmp_path / f"in-{len(text)}.log"
    source.write_text(text)
    with open(source, "rb") as stdin, open(tmp_path / "out.json", "w+b") as out, open(tmp_path / "err", "w+b") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ssmdoc", "summarize", "-", "--model", str(checkpoint), "--strategy", "stream",
             "--chunk-tokens", str(chunk_tokens), "--max-new-tokens", "2", "--json"],
            stdin=stdin, stdout=out, stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        assert proc.returncode == 0, err.read().decode()
        report = json.loads(out.read())["report"]
    return usage.ru_maxrss * 1024, report  # Linux: KiB


@pytest.mark.slow
def test_pure_mamba_memory_does_not_grow_with_the_input(tmp_path, mamba_ckpt):
    small_rss, small = peak_rss(tmp_path, mamba_ckpt, log_text(25), 256)
    big_rss, big = peak_rss(tmp_path, mamba_ckpt, log_text(250), 256)
    assert big["input_tokens"] >= 9 * small["input_tokens"]
    assert big["state_bytes"] == small["state_bytes"]  # fixed-size state: not a byte more
    assert big_rss - small_rss <= 2 * MiB, (small_rss / MiB, big_rss / MiB)


@pytest.mark.slow
def test_hybrid_memory_grows_by_its_kv_cache_only(tmp_path, wide_jamba):
    small_rss, small = peak_rss(tmp_path, wide_jamba, log_text(25), 16)
    big_rss, big = peak_rss(tmp_path, wide_jamba, log_text(250), 16)
    assert big["input_tokens"] >= 9 * small["input_tokens"]
    kv_growth = big["state_bytes"]["kv"] - small["state_bytes"]["kv"]
    assert kv_growth >= 5 * MiB  # what the test is about: attention keeps every token
    assert big["state_bytes"]["ssm"] == small["state_bytes"]["ssm"]
    slack = 8 * MiB
    assert big_rss - small_rss <= kv_growth + slack, ((big_rss - small_rss) / MiB, kv_growth / MiB)
