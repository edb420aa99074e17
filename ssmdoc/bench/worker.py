"""One measurement in its own process: `python -m ssmdoc.bench.worker --engine E --model DIR --tokens N`.

Prints JSON lines on stdout, read by the harness:
    {"event": "ready", ...}      weights loaded and warmed up; the measured part starts now
    {"event": "prefilled"}       the prefill is done (the harness enforces --max-seconds against it)
    {"event": "result", ...}     seconds, tokens_per_second, peak_memory_bytes, state_bytes, decode figures
    {"event": "error", "message", "hint"}   a user-facing error (exit status 2)
A fresh process per measurement keeps each peak RSS its own: the allocator never gives memory back to the
OS reliably, so a second measurement in the same process would inherit the first one's peak.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

WARMUP_TOKENS = 64  # first calls pay for lazy initialisation (allocator, kernels); keep that out of the timing


def _emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def _proc_status(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def peak_rss_bytes() -> int:
    """This process image's peak RSS. VmHWM first: ru_maxrss can carry over the parent's peak across exec."""
    peak = _proc_status("VmHWM")
    if peak is None:
        from ssmdoc.report import peak_rss_bytes as rusage_peak

        peak = rusage_peak()
    return peak


def rss_bytes() -> int | None:
    """RSS now (None where /proc is not there)."""
    return _proc_status("VmRSS")


def measure(args) -> dict:
    import torch

    from ssmdoc.bench.engines import load_runner
    from ssmdoc.errors import UsageError

    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    cuda = device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        raise UsageError(f"--device {device}: torch sees no CUDA device here", "use --device cpu")
    if args.dtype == "auto":  # bfloat16 where the hardware has it natively, float32 on CPU
        args.dtype = "bfloat16" if cuda else "float32"
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    t0 = time.perf_counter()
    runner, vocab, n_params = load_runner(args.engine, Path(args.model), device, args.dtype,
                                          args.tokens + args.decode_tokens)
    # the same random document for every engine: ids depend only on the seed, vocab and length
    gen = torch.Generator().manual_seed(args.seed)
    ids = torch.randint(0, vocab, (1, args.tokens), generator=gen).to(device)

    with torch.inference_mode():
        runner.prefill(ids[:, : min(WARMUP_TOKENS, args.tokens)])
        runner.step(ids[:, :1])
        runner.reset()
        sync()
        load_seconds = time.perf_counter() - t0
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        ready_rss = rss_bytes()  # weights + runtime, before the measured part: peak minus this is its working memory
        _emit(event="ready", load_seconds=load_seconds, device=device,
              device_name=torch.cuda.get_device_name(device) if cuda else "cpu",
              torch_threads=torch.get_num_threads(), parameters=n_params)

        start = time.perf_counter()
        token = runner.prefill(ids)
        sync()
        seconds = time.perf_counter() - start
        _emit(event="prefilled", seconds=seconds)
        state_bytes = runner.state_bytes()

        start = time.perf_counter()
        for _ in range(args.decode_tokens):
            token = runner.step(token)
        sync()
        decode_seconds = time.perf_counter() - start

    result = {
        "engine": args.engine,
        "tokens": args.tokens,
        "seconds": seconds,
        "tokens_per_second": args.tokens / seconds if seconds > 0 else None,
        "peak_memory_bytes": peak_rss_bytes(),
        "ready_rss_bytes": ready_rss,
        "state_bytes": state_bytes,  # after the prefill, before decoding
        "decode_tokens": args.decode_tokens,
        "decode_seconds": decode_seconds,
        "decode_tokens_per_second": args.decode_tokens / decode_seconds if decode_seconds > 0 else None,
        "load_seconds": load_seconds,
        "parameters": n_params,
        "device": device,
        "dtype": args.dtype,
    }
    if cuda:
        result["peak_cuda_bytes"] = int(torch.cuda.max_memory_allocated())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ssmdoc.bench.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--engine", required=True, choices=["ssmdoc", "transformers", "attention"])
    parser.add_argument("--model", required=True, help="checkpoint directory (already resolved)")
    parser.add_argument("--tokens", required=True, type=int)
    parser.add_argument("--decode-tokens", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["auto", "float32", "bfloat16", "float16"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0: torch's default")
    args = parser.parse_args(argv)

    from ssmdoc.errors import USER_ERRORS

    try:
        result = measure(args)
    except USER_ERRORS as exc:
        _emit(event="error", message=exc.message, hint=exc.hint)
        return 2
    _emit(event="result", **result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
