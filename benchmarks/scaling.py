"""The scaling runs quoted in docs/benchmarks.md ("Scaling"): `ssmdoc bench` on two random pure-Mamba checkpoints.

    python benchmarks/scaling.py tiny   # hidden 24, 2 layers, vocab 512: ssmdoc 4K-256K, others up to 64K
    python benchmarks/scaling.py 100m   # hidden 768, 24 layers, vocab 50280 (mamba-130m's shape): 4K, 16K, 64K

The documented runs add --threads 1. Checkpoints are built with transformers (random weights, float32) into --workdir, never into the repository;
results (bench.json/csv/md, time.png, memory.png) go to --workdir/out-<name>. Needs transformers.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

MAMBA_100M = dict(hidden_size=768, num_hidden_layers=24, vocab_size=50280, state_size=16, expand=2, conv_kernel=4,
                  bos_token_id=0, eos_token_id=0, pad_token_id=0)

RUNS = {
    "tiny": ["--lengths", "4K,8K,16K,32K,64K,128K,256K", "--compare", "transformers", "--baseline-attention",
             "--compare-max-tokens", "64K", "--max-seconds", "300", "--max-memory", "12G"],
    # 4x steps only: ssmdoc's prefill at 64K takes ~10 minutes on one core of the 2-vCPU VM
    "100m": ["--lengths", "4K,16K,64K", "--compare", "transformers", "--max-seconds", "900", "--max-memory", "12G"],
}


def build(name: str, path: Path) -> Path:
    if (path / "config.json").is_file():
        return path
    if name == "tiny":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from checkpoints import tiny_checkpoint  # the tests' tiny random Mamba: hidden 24, 2 layers

        return tiny_checkpoint(path, "mamba")
    import torch
    import transformers

    torch.manual_seed(0)
    model = transformers.MambaForCausalLM(transformers.MambaConfig(**MAMBA_100M)).to(torch.float32).eval()
    model.save_pretrained(path, safe_serialization=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(RUNS))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ssmdoc-scaling"))
    args, extra = parser.parse_known_args()
    checkpoint = build(args.name, args.workdir / f"mamba-{args.name}")
    cmd = [sys.executable, "-m", "ssmdoc", "bench", "-m", str(checkpoint), "--out",
           str(args.workdir / f"out-{args.name}"), *RUNS[args.name], *extra]
    print("$", " ".join(cmd[1:]), flush=True)
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
