"""The scaling table in docs/scaling.md: `ssmdoc batch` with 1 and then 2 replicas on the same documents.

    python benchmarks/batch_scaling.py [--workdir /tmp/ssmdoc-batch-scaling] [--docs 6] [--lines 60]

The checkpoint is mamba-130m's shape with random weights (hidden 768, 24 layers, state 16) and the tests'
tiny tokenizer (vocabulary 512), built with transformers into --workdir, never into the repository. Each run
starts its own local Ray and writes a fresh results file; the script prints each run's `--json` report and
a table row: replicas, documents, tokens, wall seconds, tokens/s in total and per replica (tokens read per
second of the replica's busy time), and the 1-minute load average before and after the run (the machine is shared).
Needs transformers (the test extra) and Ray (the ray extra).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

SHAPE = dict(hidden_size=768, num_hidden_layers=24, state_size=16, expand=2, conv_kernel=4)


def checkpoint(workdir: Path) -> Path:
    path = workdir / "mamba-130m-shape"
    if not (path / "config.json").is_file():
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from checkpoints import tiny_checkpoint

        tiny_checkpoint(path, "mamba", **SHAPE)
    return path


def documents(workdir: Path, n: int, lines: int) -> list[str]:
    docs = workdir / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(n):
        path = docs / f"contract{i:02d}.txt"
        path.write_text("".join(f"Contract {i}, clause {k}: the supplier delivers within {k + 3} days, or pays "
                                f"a penalty of {k % 7 + 1}% of the order.\n" for k in range(lines)))
        names.append(str(path))
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ssmdoc-batch-scaling"))
    parser.add_argument("--docs", type=int, default=6)
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--max-new-tokens", type=int, default=8)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    model = checkpoint(args.workdir)
    names = documents(args.workdir, args.docs, args.lines)
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    print("| replicas | documents | input tokens | wall s | tokens/s total | tokens/s per replica (busy) | "
          "load avg 1 min before / after |")
    print("|---:|---:|---:|---:|---:|:---|:---|")
    for replicas in (1, 2):
        out = args.workdir / f"results-{replicas}.jsonl"
        out.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "ssmdoc", "batch", *names, "--out", str(out), "--model", str(model),
               "--max-new-tokens", str(args.max_new_tokens), "--replicas", str(replicas), "--json"]
        load_before = os.getloadavg()[0]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        load_after = os.getloadavg()[0]
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        report = json.loads(done.stdout)
        print(json.dumps(report), file=sys.stderr)
        per = ", ".join(f"{r['tokens_per_second']:,.1f} ({r['documents']} docs)" for r in report["per_replica"])
        print(f"| {replicas} | {report['documents']} | {report['input_tokens']:,} | {report['wall_seconds']:,.1f} | "
              f"{report['tokens_per_second']:,.1f} | {per} | {load_before:.2f} / {load_after:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
