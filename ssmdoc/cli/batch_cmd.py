"""`ssmdoc batch INPUT... --out results.jsonl`: many documents on a Ray actor pool (thin over ssmdoc.batch)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ssmdoc.cli import app
from ssmdoc.cli.common import (
    DEFAULTS,
    ChunkOpt,
    ContextOpt,
    DebugOpt,
    DeviceOpt,
    DtypeOpt,
    ExcludeOpt,
    IncludeOpt,
    LayoutOpt,
    MaxFileBytesOpt,
    MaxNewOpt,
    ModelOpt,
    PasswordOpt,
    QuietOpt,
    RepetitionPenaltyOpt,
    SeedOpt,
    StopOpt,
    StrategyOpt,
    TempOpt,
    TopKOpt,
    TopPOpt,
    _stderr_is_tty,
    gen_options,
    print_json,
    warn,
)


class _Progress:
    """Documents done / total, failures, tokens/s across the pool and time left, on a terminal (rich)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and _stderr_is_tty()
        self.bar = None

    def start(self, summary) -> None:
        if summary.skipped or summary.skipped_failed:
            warn(f"{summary.skipped + summary.skipped_failed:,} of {summary.documents:,} documents already have "
                 f"a row in {summary.results}; skipped")
        if not self.enabled or not summary.to_process:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("documents"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[failed]} failed, {task.fields[rate]} tokens/s"),
                            TimeRemainingColumn(), transient=True)
        self.bar.start()
        self.task = self.bar.add_task("batch", total=summary.to_process, failed=0, rate="0")

    def row(self, row: dict, summary) -> None:
        for message in row.get("warnings", ()):
            warn(f"{row['input']}: {message}")
        if self.bar is not None:
            self.bar.update(self.task, completed=summary.finished, failed=summary.failed,
                            rate=f"{summary.tokens_per_second():,.0f}")

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


@app.command()
def batch(
    inputs: Annotated[
        list[str],
        typer.Argument(metavar="INPUT", help="Documents: files or directories (one document each), or @MANIFEST "
                       "(one input per line).", show_default=False),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL results: one row per document, appended.",
                                      show_default=False)],
    task: Annotated[str, typer.Option("--task", help="summarize or ask.")] = "summarize",
    question: Annotated[str | None, typer.Option("--question", help="The question, for --task ask.")] = None,
    model: ModelOpt = DEFAULTS["model"],
    device: DeviceOpt = DEFAULTS["device"],
    dtype: DtypeOpt = DEFAULTS["dtype"],
    chunk_tokens: ChunkOpt = DEFAULTS["chunk_tokens"],
    strategy: StrategyOpt = DEFAULTS["strategy"],
    context: ContextOpt = None,
    max_new_tokens: MaxNewOpt = DEFAULTS["max_new_tokens"],
    temperature: TempOpt = DEFAULTS["temperature"],
    top_p: TopPOpt = DEFAULTS["top_p"],
    top_k: TopKOpt = DEFAULTS["top_k"],
    repetition_penalty: RepetitionPenaltyOpt = DEFAULTS["repetition_penalty"],
    stop: StopOpt = None,
    seed: SeedOpt = None,
    password: PasswordOpt = None,
    layout: LayoutOpt = False,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    max_file_bytes: Annotated[
        int, typer.Option("--max-file-bytes", min=1, help="Larger files fail (a named document) or are skipped "
                          "(in a directory).")
    ] = DEFAULTS["max_file_bytes"],
    replicas: Annotated[
        int | None, typer.Option("--replicas", min=1, help="Model replicas (actors). Default: what fits: CPUs / "
                                 "threads per replica, or GPUs / GPUs per replica.", show_default=False)
    ] = None,
    threads_per_replica: Annotated[
        int, typer.Option("--threads-per-replica", min=1, help="CPU cores (torch threads) per replica.")
    ] = 1,
    gpus_per_replica: Annotated[
        float, typer.Option("--gpus-per-replica", min=0.0, help="GPUs per replica (0: CPU; 0.5: two per GPU).")
    ] = 0.0,
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", envvar="RAY_ADDRESS", help="Join a Ray cluster (auto, HOST:PORT, "
                                 "ray://HOST:PORT). Default: start a local Ray, stop it at the end.",
                                 show_default=False)
    ] = None,
    retries: Annotated[
        int, typer.Option("--retries", min=0, help="Retries of a document whose worker process died.")
    ] = 2,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Process again the documents whose rows so far are errors.")
    ] = False,
    save_states: Annotated[
        Path | None, typer.Option("--save-states", help="Save each document's reading state as "
                                  "DIR/<content-hash>.state (ask it later without reading again).",
                                  show_default=False)
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="The final report as one JSON object on stdout.")] = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Summarize, or ask about, many documents on a pool of model replicas (Ray).

    Each INPUT is one document, read as `ssmdoc summarize INPUT` reads it.
    Its row in --out holds what `ssmdoc summarize INPUT --json` prints
    (output, sources, report), plus input, content_hash and key; rows are
    appended as documents finish. The same command again resumes: documents
    that already have a row are skipped. A document that fails gets a row
    with "error": {"message", "hint"}; the batch goes on, and exits with 2.
    Needs the Ray extra: pip install "ssmdoc\\[ray]".

    Examples:

        ssmdoc batch contracts/*.pdf --out summaries.jsonl

        ssmdoc batch @manifest.txt --out answers.jsonl \\
            --task ask --question "who may terminate?"

        ssmdoc batch repos/*/ --out repos.jsonl --replicas 2 \\
            --threads-per-replica 4 --save-states states/

        ssmdoc batch @all.txt --out r.jsonl --ray-address auto \\
            --gpus-per-replica 1            # on a Ray cluster

        ssmdoc ask states/HASH.state "what changed?"   # a saved state
    """
    from ssmdoc.batch import BatchOptions, render_summary, run_batch
    from ssmdoc.errors import SsmdocError

    options = BatchOptions(
        task=task, question=question, model=model, device=device, dtype=dtype, chunk_tokens=chunk_tokens,
        strategy=strategy, context=context, gen=gen_options(max_new_tokens, temperature, top_p, seed, top_k, repetition_penalty, stop),
        password=password, layout=layout, include=tuple(include or ()), exclude=tuple(exclude or ()),
        max_file_bytes=max_file_bytes, replicas=replicas, threads_per_replica=threads_per_replica,
        gpus_per_replica=gpus_per_replica, ray_address=ray_address, retries=retries, retry_failed=retry_failed,
        save_states=str(save_states) if save_states else None, debug=debug, warn=warn,
    )
    progress = _Progress(not quiet)
    try:
        summary = run_batch(inputs, out, options, observer=progress)
    finally:
        progress.stop()
    if json_out:
        print_json(summary.to_dict())
    elif not quiet:
        render_summary(summary)
    if summary.any_failed:
        failed = summary.failed + summary.skipped_failed
        raise SsmdocError(f"{failed:,} of {summary.documents:,} documents failed",
                          f'their rows in {out} have "error": {{"message", "hint"}}')
