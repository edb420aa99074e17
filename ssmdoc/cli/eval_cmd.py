"""`ssmdoc eval`: how well a model recalls what it read, by haystack length and needle depth."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from ssmdoc.cli import app
from ssmdoc.cli.common import (
    DEFAULTS,
    ChunkOpt,
    DebugOpt,
    DeviceOpt,
    DtypeOpt,
    ModelOpt,
    QuietOpt,
    StrategyOpt,
    ThreadsOpt,
    load,
    print_json,
    set_threads,
    warn,
)
from ssmdoc.errors import UsageError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$")


def parse_lengths(text: str) -> list[int]:
    """"512,1K,4k,1M" -> [512, 1024, 4096, 1048576] (K = 1024 tokens)."""
    out = []
    for part in text.split(","):
        match = _SIZE.match(part)
        if not match:
            raise UsageError(f"--lengths: cannot read {part.strip()!r} as a token count", "e.g. --lengths 512,1K,4K")
        value = float(match.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[match.group(2).lower()]
        if value < 1 or value != int(value):
            raise UsageError(f"--lengths: {part.strip()!r} is not a whole positive number of tokens")
        out.append(int(value))
    return list(dict.fromkeys(out))


def parse_depths(text: str) -> list[float]:
    try:
        depths = [float(p) for p in text.split(",")]
    except ValueError:
        raise UsageError(f"--depths: cannot read {text!r}", "comma-separated fractions, e.g. 0,0.5,1") from None
    if any(not 0.0 <= d <= 1.0 for d in depths):
        raise UsageError("--depths must lie between 0 and 1", "e.g. --depths 0,0.25,0.5,0.75,1")
    return list(dict.fromkeys(depths))


def _haystack_text(files: list[str]) -> str:
    """The user's files through the normal ingestion (headers, PDF pages, directory walks), as one text."""
    from ssmdoc.ingest import iter_segments

    return "".join(segment.text for segment in iter_segments(files))


@app.command("eval")
def eval_command(
    model: ModelOpt = DEFAULTS["model"],
    lengths: Annotated[
        str, typer.Option("--lengths", help="Haystack sizes in tokens, comma-separated (K = 1024).")
    ] = "1K,4K,16K",
    depths: Annotated[
        str, typer.Option("--depths", help="Needle positions, 0 (start) to 1 (end), comma-separated.")
    ] = "0,0.25,0.5,0.75,1",
    needles: Annotated[
        int, typer.Option("--needles", min=1, max=48, help="Needles per haystack (one is asked about).")
    ] = 1,
    trials: Annotated[int, typer.Option("--trials", min=1, help="Haystacks per length and depth.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Haystacks, names and codes follow from it.")] = 0,
    haystack: Annotated[
        list[str] | None,
        typer.Option("--haystack", help="Build haystacks from these documents (repeatable) instead of filler."),
    ] = None,
    blind: Annotated[
        bool,
        typer.Option("--blind", help="Read without the question, ask after (as `ssmdoc read --save` + ask STATE)."),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write cases.jsonl (resumable), summary.json and heatmap.png here."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="The summary as one JSON object on stdout.")] = False,
    device: DeviceOpt = DEFAULTS["device"],
    dtype: DtypeOpt = DEFAULTS["dtype"],
    chunk_tokens: ChunkOpt = DEFAULTS["chunk_tokens"],
    strategy: StrategyOpt = DEFAULTS["strategy"],
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1, help="Longest answer, in tokens.")] = 24,
    threads: ThreadsOpt = DEFAULTS["threads"],
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Measure recall: needles ("The access code for <name> is <6 digits>.") in haystacks of the given lengths.

    Each haystack is read and asked about through the same pipeline as `ssmdoc ask` (prompt, chunking,
    strategy, state). Scores: exact match of the generated code, and the log-probability the model gives
    the code right after the question (teacher-forced, needs no generation). Run it before trusting a
    checkpoint at long lengths.

    Examples:

        ssmdoc eval --model ai21labs/AI21-Jamba2-3B --lengths 1K,4K,16K --trials 5 --out eval-jamba/

        ssmdoc eval --haystack examples/contract.pdf --lengths 4K --needles 3 --json

        ssmdoc eval --lengths 512,2K --trials 20 --out runs/  # again later: finished cases are kept
    """
    from ssmdoc.eval import EvalOptions, default_run, evaluate
    from ssmdoc.eval.output import render_table, write_heatmap, write_text

    options = EvalOptions(
        lengths=parse_lengths(lengths), depths=parse_depths(depths), needles=needles, trials=trials, seed=seed,
        blind=blind, run=default_run(chunk_tokens, strategy, max_new_tokens, seed),
    )
    if out is not None:
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out} exists and is not a directory")
        out.mkdir(parents=True, exist_ok=True)
    if haystack:
        options.haystack_text = _haystack_text(haystack)
        options.__post_init__()  # the files may hold no usable text
    set_threads(threads)
    engine = load(model, device, dtype, quiet)

    live = not quiet and sys.stderr.isatty()

    def on_case(i: int, total: int, row: dict, resumed: bool) -> None:
        if live:
            mark = "kept" if resumed else ("right" if row["correct"] else "wrong")
            print(f"\r[{i + 1}/{total}] {row['length']} tokens, depth {row['depth']:g}: {mark}   ",
                  end="", file=sys.stderr, flush=True)

    result = evaluate(engine, options, jsonl=out / "cases.jsonl" if out else None,
                      haystack_files=haystack or (), on_case=on_case)
    if live:
        print(file=sys.stderr)
    summary = result.to_dict()
    if out is not None:
        import json

        write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
        if not write_heatmap(result, out / "heatmap.png", f"{engine.name}: needle recall"):
            warn("matplotlib is not installed: no heatmap.png (pip install 'ssmdoc[plot]'); "
                 "cases.jsonl and summary.json are written")
    if json_out:
        print_json(summary)
    else:
        typer.echo(render_table(result), nl=False)
