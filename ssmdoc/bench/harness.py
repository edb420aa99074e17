"""Drive the measurements: one worker process per (engine, length), caps enforced while it runs.

Lengths run in increasing order, all engines at one length before the next, so that a slow neighbour on a
shared machine distorts one length of every engine rather than the whole series of one. An engine's series
stops at the first measurement that passes a cap (time or memory), fails, or is killed; the reason is kept
in `BenchResult.stopped` and the notes. While a worker runs, its RSS is polled: past --max-memory it is
killed before it can take the machine down; past --max-seconds of prefill it is killed too.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ssmdoc.bench.fit import fit_all
from ssmdoc.report import human_bytes

ENGINES = ("ssmdoc", "transformers", "attention")
POLL_SECONDS = 0.05
# Loading (imports, weights, warm-up) is not measured, but a stuck load must not hang the run forever.
LOAD_TIMEOUT_SECONDS = 1800.0


@dataclass
class BenchSpec:
    checkpoint: str  # a resolved local checkpoint directory
    lengths: list[int]
    engines: list[str] = field(default_factory=lambda: ["ssmdoc"])
    device: str = "cpu"
    dtype: str = "float32"
    decode_tokens: int = 16
    max_seconds: float | None = None  # cap on one prefill's seconds
    max_memory: int | None = None  # cap on one worker's peak RSS, bytes
    repeats: int = 1  # runs per point; the fastest is kept
    seed: int = 0
    threads: int = 0  # torch threads in each worker; 0: torch's default (all usable cores)
    max_tokens: dict[str, int] = field(default_factory=dict)  # engine -> longest length it is run at


@dataclass
class BenchResult:
    rows: list[dict]
    stopped: dict[str, str]  # engine -> why its series ended early
    notes: list[str]
    machine: dict
    fit: dict[str, dict]

    def to_dict(self) -> dict:
        from ssmdoc.bench.output import ratios

        return {"rows": self.rows, "fit": self.fit, "ratios": ratios(self.rows), "machine": self.machine,
                "stopped": self.stopped, "notes": self.notes}


@dataclass
class _Outcome:
    row: dict | None = None
    failure: str | None = None  # why there is no row
    info: dict = field(default_factory=dict)  # the worker's "ready" event (device name, threads)


def _reader(stream, sink: queue.Queue) -> None:
    for line in stream:
        sink.put(line)
    sink.put(None)


def _worker_command(spec: BenchSpec, engine: str, tokens: int) -> list[str]:
    return [sys.executable, "-m", "ssmdoc.bench.worker", "--engine", engine, "--model", spec.checkpoint,
            "--tokens", str(tokens), "--decode-tokens", str(spec.decode_tokens), "--device", spec.device,
            "--dtype", spec.dtype, "--seed", str(spec.seed), "--threads", str(spec.threads)]


def _rss(proc) -> int:
    if proc is None:
        return 0
    try:
        return int(proc.memory_info().rss)
    except Exception:  # the process has just exited
        return 0


def _apply(line: str, outcome: _Outcome) -> str | None:
    """Apply one stdout line of the worker to `outcome`; returns the phase it starts ("prefill", "decode")."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None  # a stray print from a library; not ours
    kind = event.pop("event", None)
    if kind == "ready":
        outcome.info = event
        return "prefill"
    if kind == "prefilled":
        return "decode"
    if kind == "result":
        outcome.row = event
    elif kind == "error":
        outcome.failure = event.get("message", "failed") + (f" ({event['hint']})" if event.get("hint") else "")
    return None


def _past_live_cap(spec: BenchSpec, rss: int, phase: str, elapsed: float) -> str | None:
    if spec.max_memory and rss > spec.max_memory:
        return f"killed at {human_bytes(rss)} RSS, past --max-memory {human_bytes(spec.max_memory)}"
    if spec.max_seconds and phase == "prefill" and elapsed > spec.max_seconds:
        return f"killed after {elapsed:.0f} s of prefill, past --max-seconds {spec.max_seconds:g}"
    if phase == "load" and elapsed > LOAD_TIMEOUT_SECONDS:
        return f"killed: still loading after {elapsed:.0f} s"
    return None


def run_one(spec: BenchSpec, engine: str, tokens: int) -> _Outcome:
    """One fresh worker: its result row, or why there is none."""
    import psutil

    outcome = _Outcome()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(_worker_command(spec, engine, tokens), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue = queue.Queue()
    stderr_tail: deque = deque(maxlen=40)
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    err_thread = threading.Thread(target=lambda: stderr_tail.extend(proc.stderr), daemon=True)
    err_thread.start()
    try:
        ps = psutil.Process(proc.pid)
    except psutil.NoSuchProcess:  # already gone (it failed at once); its exit status tells why
        ps = None
    phase, phase_start, killed, stdout_open = "load", time.monotonic(), None, True
    try:
        while stdout_open or proc.poll() is None:
            try:
                line = lines.get(timeout=POLL_SECONDS)
            except queue.Empty:
                line = ""
            if line is None:
                stdout_open = False
            elif line:
                new_phase = _apply(line, outcome)
                if new_phase:
                    phase, phase_start = new_phase, time.monotonic()
            if killed is None and proc.poll() is None:
                killed = _past_live_cap(spec, _rss(ps), phase, time.monotonic() - phase_start)
                if killed:
                    proc.kill()
    finally:  # Ctrl-C or a bug here must not leave a worker running
        if proc.poll() is None:
            proc.kill()
    proc.wait()
    err_thread.join(timeout=5)
    if killed:
        return _Outcome(failure=killed, info=outcome.info)
    if outcome.row is None and outcome.failure is None:
        outcome.failure = _why_failed(proc.returncode, list(stderr_tail))
    return outcome


def _why_failed(returncode: int, stderr: list[str]) -> str:
    text = "".join(stderr)
    if returncode < 0:
        return f"killed by signal {-returncode}" + (" (out of memory?)" if returncode == -9 else "")
    if "can't allocate memory" in text or "out of memory" in text.lower():
        return "ran out of memory"
    last = next((line.strip() for line in reversed(stderr) if line.strip()), "")
    return f"worker failed (exit status {returncode})" + (f": {last}" if last else "")


def _past_cap(spec: BenchSpec, row: dict) -> str | None:
    if spec.max_seconds and row["seconds"] > spec.max_seconds:
        return f"{row['seconds']:.1f} s > --max-seconds {spec.max_seconds:g}"
    if spec.max_memory and row["peak_memory_bytes"] > spec.max_memory:
        return f"peak {human_bytes(row['peak_memory_bytes'])} > --max-memory {human_bytes(spec.max_memory)}"
    return None


def run_bench(spec: BenchSpec, progress: Callable[[str], None] = lambda message: None,
              on_update: Callable[[BenchResult], None] | None = None) -> BenchResult:
    """Measure every engine of `spec` at every length (until its caps stop it).

    `on_update` gets the results so far after every measurement (the CLI saves them, so that a long run
    that is interrupted still leaves what it measured).
    """
    from ssmdoc.bench.machine import machine_info

    rows: list[dict] = []
    stopped: dict[str, str] = {}
    notes: list[str] = []
    machine = machine_info()

    def result() -> BenchResult:
        return BenchResult(rows=list(rows), stopped=dict(stopped), notes=list(notes), machine=dict(machine),
                           fit=fit_all(rows))

    for tokens in spec.lengths:
        for engine in spec.engines:
            if engine in stopped:
                continue
            if tokens > spec.max_tokens.get(engine, tokens):
                stopped[engine] = f"not run past {spec.max_tokens[engine]:,} tokens (as asked)"
                notes.append(f"{engine}: {stopped[engine]}")
                continue
            best: _Outcome | None = None
            for _ in range(max(1, spec.repeats)):
                outcome = run_one(spec, engine, tokens)
                if outcome.info:
                    machine.setdefault("device", outcome.info.get("device_name"))
                    machine.setdefault("torch_threads", outcome.info.get("torch_threads"))
                if outcome.row is None:
                    best = outcome
                    break
                if best is None or outcome.row["seconds"] < best.row["seconds"]:
                    best = outcome
            if best.row is None:
                stopped[engine] = f"stopped at {tokens:,} tokens: {best.failure}"
                notes.append(f"{engine}: {stopped[engine]}")
                progress(f"{engine} {tokens:,} tokens: {best.failure}; no longer lengths for {engine}")
                if on_update:
                    on_update(result())
                continue
            row = best.row
            rows.append(row)
            progress(f"{engine} {tokens:,} tokens: {row['seconds']:.3g} s, {row['tokens_per_second']:,.0f} tokens/s, "
                     f"peak {human_bytes(row['peak_memory_bytes'])}")
            cap = _past_cap(spec, row)
            if cap and tokens != spec.lengths[-1]:
                stopped[engine] = f"stopped after {tokens:,} tokens: {cap}"
                notes.append(f"{engine}: {stopped[engine]}")
                progress(f"{engine}: {cap}; no longer lengths for {engine}")
            if on_update:
                on_update(result())
    for engine in spec.engines:
        measured = sum(1 for row in rows if row["engine"] == engine)
        if measured == 1:
            notes.append(f"{engine}: one length measured, no exponent fitted")
    return result()
