"""CPU prefill: ssmdoc vs transformers on the same random Jamba, time and peak RSS, each run in its own process.

The model is the issue's: hidden 256, 8 layers (one attention layer, Mamba-1 elsewhere), 4 experts on every
other layer, intermediate 512, vocabulary 1024 -> 11.6M parameters, float32. Each engine reads the prompt
once and keeps only the last position's logits (what a prefill needs), with its cache/state on so that the
sequence could be continued. The last logits of both engines are compared as a sanity check.

    python benchmarks/cpu_prefill.py                      # 4K and 16K tokens, table on stdout
    python benchmarks/cpu_prefill.py --lengths 4096 --threads 1

Needs transformers (a test dependency) for the reference and to build the random checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JAMBA = dict(vocab_size=1024, hidden_size=256, intermediate_size=512, num_hidden_layers=8, num_attention_heads=8,
             num_key_value_heads=2, attn_layer_period=8, attn_layer_offset=4, num_experts=4, num_experts_per_tok=2,
             expert_layer_period=2, expert_layer_offset=1, mamba_d_state=16, mamba_d_conv=4, mamba_expand=2,
             max_position_embeddings=65536)


def build_checkpoint(path: Path) -> int:
    import torch
    import transformers

    torch.manual_seed(0)
    model = transformers.JambaForCausalLM(transformers.JambaConfig(**JAMBA)).eval()
    model.save_pretrained(path, safe_serialization=True)
    return sum(p.numel() for p in model.parameters())


def peak_rss_mb() -> float:
    """This process's peak resident set, MiB. VmHWM, not ru_maxrss: on Linux the latter survives exec and so
    would include the parent's RSS at fork time (the parent has transformers and a model loaded)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def worker(engine: str, checkpoint: str, length: int, threads: int, out: str) -> None:
    import torch

    torch.set_num_threads(threads)
    ids = torch.randint(0, JAMBA["vocab_size"], (1, length), generator=torch.Generator().manual_seed(1))
    if engine == "ssmdoc":
        from ssmdoc.models import load_pretrained

        model = load_pretrained(checkpoint)
        model(ids[:, :64], logits="none")  # warm-up: first-call allocations and dispatch
        rss_loaded = peak_rss_mb()
        start = time.perf_counter()
        state = model.new_state()
        logits = model(ids, state, logits="last")
    else:
        import transformers

        model = transformers.AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32).eval()
        with torch.no_grad():
            model(ids[:, :64], logits_to_keep=1)
        rss_loaded = peak_rss_mb()
        start = time.perf_counter()
        with torch.no_grad():
            logits = model(ids, use_cache=True, logits_to_keep=1).logits
    seconds = time.perf_counter() - start
    torch.save(logits[0, -1].float().clone(), out)
    print(json.dumps(dict(seconds=seconds, peak_rss_mb=peak_rss_mb(), rss_after_load_mb=rss_loaded)))


def run(engine: str, checkpoint: Path, length: int, threads: int, scratch: Path) -> dict:
    out = scratch / f"{engine}-{length}.pt"
    cmd = [sys.executable, __file__, "--worker", engine, "--checkpoint", str(checkpoint), "--lengths", str(length),
           "--threads", str(threads), "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ | {"TRANSFORMERS_VERBOSITY": "error"})
    if proc.returncode != 0:
        raise SystemExit(f"{engine} at {length} tokens failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]) | {"logits": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default="4096,16384")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker", choices=["ssmdoc", "transformers"])
    parser.add_argument("--checkpoint")
    parser.add_argument("--out")
    args = parser.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    if args.worker:
        worker(args.worker, args.checkpoint, lengths[0], args.threads, args.out)
        return

    import torch

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        n_params = build_checkpoint(scratch / "jamba")
        print(f"random Jamba: {n_params / 1e6:.2f}M parameters, float32; {args.threads} torch threads; "
              f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}")
        print("| tokens | engine | prefill s | peak RSS MB | RSS after load MB | speed-up | memory ratio |")
        print("|---:|---|---:|---:|---:|---:|---:|")
        drifts = []
        for length in lengths:
            ref = run("transformers", scratch / "jamba", length, args.threads, scratch)
            ours = run("ssmdoc", scratch / "jamba", length, args.threads, scratch)
            a, b = torch.load(ref["logits"]), torch.load(ours["logits"])
            drift = ((a - b).abs().max() / a.abs().max()).item()
            for name, r in (("transformers", ref), ("ssmdoc", ours)):
                speed = f"{ref['seconds'] / r['seconds']:.1f}x" if name == "ssmdoc" else ""
                mem = f"{r['peak_rss_mb'] / ref['peak_rss_mb']:.2f}" if name == "ssmdoc" else ""
                print(f"| {length} | {name} | {r['seconds']:.2f} | {r['peak_rss_mb']:.0f} | "
                      f"{r['rss_after_load_mb']:.0f} | {speed} | {mem} |")
            drifts.append(f"{length} tokens: {drift:.1e}")
        print("\nlast-position logits, max abs difference / max |logit|: " + ", ".join(drifts))


if __name__ == "__main__":
    main()
