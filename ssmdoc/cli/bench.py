"""`ssmdoc bench`: prefill time and peak memory against context length, beside transformers and attention."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Annotated

import typer

from ssmdoc.cli import app
from ssmdoc.hub import DEFAULT_MODEL

DEVICES = ("cpu", "cuda", "auto")
DTYPES = ("float32", "bfloat16", "float16", "auto")
DEFAULT_MEMORY_FRACTION = 0.8  # of physical RAM: a runaway transformer is killed before it takes the machine down


def _fmt_seconds(s: float) -> str:
    return f"{s:.3g}" if s < 100 else f"{s:,.0f}"


def _short_bytes(n: int) -> str:
    """3 significant digits and a binary unit letter: 387M, 4.1K, 1.2G (the table must fit 80 columns)."""
    value, unit = float(n), "B"
    for unit in ("B", "K", "M", "G", "T"):
        if value < 999.5 or unit == "T":
            break
        value /= 1024
    return f"{value:.3g}{unit}"


def _render(result: dict, files: list[Path], plot_note: str | None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from ssmdoc.report import human_bytes

    console = Console()
    by_key = {(r["other"], r["tokens"]): r for r in result["ratios"]}
    table = Table(title="one fresh process per row", caption="ratios: ssmdoc's time or peak RSS / this engine's",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("tokens", "engine", "prefill\nseconds", "peak\nRSS", "state", "decode\ntok/s", "time\nratio",
                 "memory\nratio"):
        table.add_column(name, justify="left" if name == "engine" else "right", no_wrap=True)
    for row in sorted(result["rows"], key=lambda r: (r["tokens"], r["engine"] != "ssmdoc", r["engine"])):
        ratio = by_key.get((row["engine"], row["tokens"]))
        decode = row.get("decode_tokens_per_second")
        table.add_row(
            f"{row['tokens']:,}", row["engine"], _fmt_seconds(row["seconds"]), _short_bytes(row["peak_memory_bytes"]),
            _short_bytes(sum(row["state_bytes"].values())), f"{decode:,.1f}" if decode else "-",
            f"{ratio['time_ratio']:.3g}" if ratio else "-", f"{ratio['memory_ratio']:.3g}" if ratio else "-",
        )
    console.print(table)
    for engine, fit in result["fit"].items():
        memory = fit.get("peak_memory_spread")
        console.print(f"{engine}: time ~ tokens^{fit['exponent']:.3f} (r^2 {fit['r_squared']:.3f}, "
                      f"{fit['points']} lengths)" + (f"; peak RSS spread {100 * memory:.1f}%" if memory is not None
                                                     else ""), markup=False, highlight=False)
    for note in result["notes"]:
        console.print(f"note: {note}", markup=False, highlight=False)
    if plot_note:
        console.print(f"note: {plot_note}", markup=False, highlight=False)
    machine = result["machine"]
    console.print(f"machine: {machine.get('cpu')}, {machine.get('cores')} cores, "
                  f"{human_bytes(machine.get('ram_bytes'))} RAM, torch {machine.get('torch')}, "
                  f"device {machine.get('device') or '-'}", markup=False, highlight=False)
    console.print("wrote " + ", ".join(str(path) for path in files), markup=False, highlight=False)


def _default_memory_cap() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total * DEFAULT_MEMORY_FRACTION)
    except Exception:  # pragma: no cover
        return None


@app.command()
def bench(
    model: Annotated[str, typer.Option("--model", "-m", envvar="SSMDOC_MODEL",
                                       help="Checkpoint directory or Hub repo id.")] = DEFAULT_MODEL,
    lengths: Annotated[str, typer.Option(help="Comma-separated token counts; K/M suffixes allowed.")]
    = "4096,16384,65536",
    compare: Annotated[list[str] | None, typer.Option(
        "--compare", help="Also run the same checkpoint through another implementation: transformers.")] = None,
    baseline_attention: Annotated[bool, typer.Option(
        "--baseline-attention",
        help="Also run a random all-attention model (transformers' Llama) of the same depth, width and heads.")]
    = False,
    compare_max_tokens: Annotated[str | None, typer.Option(
        help="Longest length for transformers and the attention baseline (ssmdoc goes on alone), e.g. 64K.")]
    = None,
    device: Annotated[str, typer.Option(help="cpu, cuda or auto.")] = "cpu",
    dtype: Annotated[str, typer.Option(help="float32, bfloat16, float16, or auto (bfloat16 on CUDA, else float32).")]
    = "float32",
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for bench.json, bench.csv and the plots.")]
    = Path("bench-results"),
    max_seconds: Annotated[float | None, typer.Option(
        help="Cap on one prefill, in seconds: past it the measurement is killed and that engine stops.",
        min=0.001)] = None,
    max_memory: Annotated[str | None, typer.Option(
        help="Cap on one measurement's peak RSS (e.g. 8G): past it the process is killed and that engine stops. "
        "Default: 80% of RAM.")] = None,
    decode_tokens: Annotated[int, typer.Option(help="Tokens decoded after each prefill.", min=0)] = 16,
    repeats: Annotated[int, typer.Option(help="Runs per point; the fastest is kept.", min=1)] = 1,
    threads: Annotated[int, typer.Option(help="torch threads per measurement; 0: torch's default.", min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print bench.json's content instead of the table.")]
    = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines on stderr.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Measure prefill time and peak memory of ssmdoc against context length, each point in a fresh process.

    Random token ids are fed, so any checkpoint works, tokenizer or not.
    Writes into --out: bench.json (rows, fitted exponents k of time ~ tokens^k, machine), bench.csv, bench.md,
    and the log-log plots time.png and memory.png (these need matplotlib: the 'plot' extra).

    Example: ssmdoc bench -m state-spaces/mamba-130m-hf --lengths 4K,16K,64K --compare transformers
    """
    from ssmdoc.bench import BenchSpec, parse_bytes, parse_lengths, run_bench
    from ssmdoc.bench.output import write_outputs
    from ssmdoc.errors import SsmdocError, UsageError
    from ssmdoc.hub import resolve_checkpoint

    token_lengths = parse_lengths(lengths)
    if device not in DEVICES and not device.startswith("cuda:"):
        raise UsageError(f"unknown --device {device!r}", f"use one of {', '.join(DEVICES)}")
    if dtype not in DTYPES:
        raise UsageError(f"unknown --dtype {dtype!r}", f"use one of {', '.join(DTYPES)}")
    engines = ["ssmdoc"]
    for other in compare or []:
        if other != "transformers":
            raise UsageError(f"unknown --compare {other!r}", "the implementation to compare with: transformers")
        if "transformers" not in engines:
            engines.append("transformers")
    if baseline_attention:
        engines.append("attention")
    if len(engines) > 1 and importlib.util.find_spec("transformers") is None:
        raise UsageError("transformers is not installed: --compare transformers and --baseline-attention need it",
                         "pip install transformers, or leave those options out")
    others_cap = parse_lengths(compare_max_tokens)[-1] if compare_max_tokens else None
    memory_cap = parse_bytes(max_memory) if max_memory else _default_memory_cap()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")

    checkpoint = resolve_checkpoint(model)
    spec = BenchSpec(checkpoint=str(checkpoint), lengths=token_lengths, engines=engines, device=device,
                     dtype=dtype, decode_tokens=decode_tokens, max_seconds=max_seconds, max_memory=memory_cap,
                     repeats=repeats, threads=threads,
                     max_tokens={e: others_cap for e in engines if e != "ssmdoc" and others_cap})
    progress = (lambda message: None) if quiet else (lambda message: typer.echo(message, err=True))
    name = Path(model).name if Path(model).exists() else model

    def save(partial) -> None:  # after every measurement: an interrupted run keeps what it measured
        data = partial.to_dict() | {"model": model}
        write_outputs(data, out, plots=False)

    result = run_bench(spec, progress, on_update=save)
    if not any(row["engine"] == "ssmdoc" for row in result.rows):
        # nothing of ours measured: most likely the checkpoint or the device, a user's problem to fix
        raise SsmdocError(f"ssmdoc could not be measured: {result.stopped.get('ssmdoc', 'no result')}",
                          "check the checkpoint with `ssmdoc inspect`, or --debug")
    data = result.to_dict() | {"model": model}
    files, plot_note = write_outputs(data, out, title=f"{name}, {data['machine'].get('device') or device}")
    if as_json:
        typer.echo(json.dumps(data))
        if plot_note:
            typer.echo(f"note: {plot_note}", err=True)
    else:
        _render(data, files, plot_note)
