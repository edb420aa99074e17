"""`ssmdoc summarize`, `ssmdoc ask`, `ssmdoc watch`: thin commands over ssmdoc.pipeline."""

from __future__ import annotations

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
    ForceOpt,
    IncludeOpt,
    IncludeSecretsOpt,
    JsonOpt,
    LayoutOpt,
    MaxFileBytesOpt,
    MaxNewOpt,
    ModelOpt,
    PasswordOpt,
    ProgressOpt,
    QuietOpt,
    RepetitionPenaltyOpt,
    SeedOpt,
    StopOpt,
    StrategyOpt,
    TempOpt,
    ThreadsOpt,
    TopKOpt,
    TopPOpt,
    announce_saved,
    check_save_target,
    finish,
    gen_options,
    ingest_options,
    load,
    print_json,
    run_progress,
    set_threads,
    stdout_is_tty,
    stdout_text,
    warn,
)

InputsArg = Annotated[
    list[str] | None,
    typer.Argument(metavar="INPUT...", help="Files, directories, a saved state, or - for stdin.", show_default=False),
]


def _model_named(ctx: typer.Context) -> bool:
    """Whether --model (or SSMDOC_MODEL) was given, rather than left at the default."""
    from typer._click.core import ParameterSource

    # the config file's model is a default too: a saved state's own model beats it
    return ctx.get_parameter_source("model") not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP, None)


def _document_task(ctx, task, inputs, model, device, dtype, options, json_out, quiet, save=None,
                   ingest=None, context=None, force=False, threads=0, progress_mode="auto") -> None:
    from ssmdoc.ingest import IngestStats, iter_segments
    from ssmdoc.pipeline import read, respond
    from ssmdoc.pipeline.saved import check_save, hashed, resume, save_reading, state_file_input

    check_save_target(save, inputs, force)  # before reading: never an input, never a document
    state_file = state_file_input(inputs)
    progress = run_progress(progress_mode, quiet, [] if state_file else inputs, ingest)
    set_threads(threads)
    if state_file is not None:
        reading, engine = resume(state_file, task, lambda name, kind: load(name, device, kind, quiet, context),
                                 model=model if _model_named(ctx) else None, dtype=dtype, warn=warn)
        if save:
            warn("--save ignored: the input is a saved state already")
    else:
        if save:
            check_save(options)  # before anything is read
        records: dict = {}
        stats = IngestStats()
        segments = iter_segments(inputs, options=ingest, stats=stats)  # checks every input now: a typo must not wait for a model to load
        engine = load(model, device, dtype, quiet, context)
        segments = progress.segments(segments)
        with progress.show("reading"):
            reading = read(engine, hashed(segments, records) if save else segments, task, options,
                           on_progress=progress.tokens, one_window=bool(save), hooks=progress.hooks())
        if reading.last.interrupted:
            warn(f"interrupted: answering from the {reading.report.input_tokens:,} tokens read so far")
        if save:
            announce_saved(save_reading(engine, reading, save, records,
                                        secrets_included=bool(stats.secrets_read)), save, quiet)
    on_text = None if json_out else stdout_text
    # While the answer streams to a terminal it is its own progress; otherwise (--json, a pipe) say how far
    # generation is, and announce map-reduce's rounds either way.
    with progress.answering(streams_to_terminal=on_text is not None and stdout_is_tty()):
        result = respond(engine, reading, options, on_text=on_text, warn=warn, hooks=progress.hooks())
    finish(result, json_out, quiet)


def _inputs(inputs: list[str] | None, command: str) -> list[str]:
    """The inputs, checked (named, existing, readable) before anything slow: building the generation
    options imports torch, and a typo must be told in a fraction of a second."""
    from ssmdoc.cli.arguments import missing_input
    from ssmdoc.ingest import iter_segments

    if not inputs:
        raise missing_input(command, "")
    iter_segments(inputs)  # checks now, reads nothing (the generator is dropped)
    return inputs


SaveOpt = Annotated[
    str | None,  # a str, not a Path: Path("") would turn an empty --save into "."
    typer.Option("--save", help="Also save the document state to FILE: ask it later without reading again.",
                 show_default=False),
]


@app.command()
def summarize(
    ctx: typer.Context,
    inputs: InputsArg = None,
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
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    progress: ProgressOpt = DEFAULTS["progress"],
    threads: ThreadsOpt = DEFAULTS["threads"],
    save: SaveOpt = None,
    password: PasswordOpt = None,
    layout: LayoutOpt = False,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    max_file_bytes: MaxFileBytesOpt = DEFAULTS["max_file_bytes"],
    include_secrets: IncludeSecretsOpt = False,
    force: ForceOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Summarize documents of any length: PDFs, directories, text files, stdin.

    Every token of the input goes through the model, chunk by chunk, into one recurrent state.
    Nothing is truncated: inputs beyond the model's context are read by windows (map-reduce).
    The summary streams to stdout; a report of what was read and what it cost goes to stderr.

    Examples:

        ssmdoc summarize examples/contract.pdf

        ssmdoc summarize examples/repo/ README.md --max-new-tokens 200

        cat examples/app.log | ssmdoc summarize - --json

        ssmdoc summarize contract.state   # a state saved by `ssmdoc read` or --save
    """
    from ssmdoc.pipeline import RunOptions, Task

    inputs = _inputs(inputs, "summarize")
    options = RunOptions(chunk_tokens, strategy,
                         gen_options(max_new_tokens, temperature, top_p, seed, top_k, repetition_penalty, stop))
    _document_task(ctx, Task("summarize"), inputs, model, device, dtype, options, json_out, quiet, save,
                   ingest_options(password, layout, include, exclude, max_file_bytes, include_secrets), context,
                   force, threads, progress)


@app.command()
def ask(
    ctx: typer.Context,
    args: Annotated[
        list[str] | None,
        typer.Argument(metavar="INPUT... QUESTION", show_default=False,
                       help="Files, directories, a saved state or - for stdin; then the question, quoted, last."),
    ] = None,
    question_opt: Annotated[
        str | None,
        typer.Option("--question", "-q", show_default=False,
                     help="The question, anywhere on the line; then every argument is an input."),
    ] = None,
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
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    progress: ProgressOpt = DEFAULTS["progress"],
    threads: ThreadsOpt = DEFAULTS["threads"],
    save: SaveOpt = None,
    password: PasswordOpt = None,
    layout: LayoutOpt = False,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    max_file_bytes: MaxFileBytesOpt = DEFAULTS["max_file_bytes"],
    include_secrets: IncludeSecretsOpt = False,
    force: ForceOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Answer a question about documents: INPUT... then the QUESTION, last (or --question anywhere).

    The question is given to the model before the documents as well as after them,
    so that it knows what to keep while reading.

    Examples:

        ssmdoc ask examples/repo/ "where is authentication handled?"

        ssmdoc ask -q "which file configures logging?" examples/repo/ examples/app.log

        ssmdoc ask examples/contract.pdf "how can either party terminate?"

        cat examples/app.log | ssmdoc ask - "why did the job fail?"

        ssmdoc ask contract.state "who pays for repairs?"   # a state saved by `ssmdoc read` or --save
    """
    from ssmdoc.cli.arguments import split_ask
    from ssmdoc.errors import UsageError
    from ssmdoc.pipeline import RunOptions, Task

    inputs, question = split_ask(list(args or ()), question_opt)
    if not question.strip():
        raise UsageError("the question is empty", 'put it last, quoted: ssmdoc ask repo/ "where is auth?"')
    inputs = _inputs(inputs, "ask")
    options = RunOptions(chunk_tokens, strategy,
                         gen_options(max_new_tokens, temperature, top_p, seed, top_k, repetition_penalty, stop))
    _document_task(ctx, Task("ask", question), inputs, model, device, dtype, options, json_out, quiet, save,
                   ingest_options(password, layout, include, exclude, max_file_bytes, include_secrets), context,
                   force, threads, progress)


class _TextDigests:
    """watch's plain output: a header line per digest, then its text as it is generated."""

    def on_digest(self, index: int, lines: int, final: bool) -> None:
        typer.echo(f"\n--- {'final summary' if final else f'digest {index + 1}'} after {lines:,} lines ---")

    def on_text(self, text: str) -> None:
        stdout_text(text)


class _JsonDigests:
    """watch --json: one JSON line per digest, printed when it is complete (the next one starts)."""

    def __init__(self):
        self.open: tuple[int, int] | None = None  # (index, lines) of the digest being generated
        self.texts: list[str] = []

    def on_digest(self, index: int, lines: int, final: bool) -> None:
        if self.open is not None:
            i, n = self.open
            print_json({"task": "watch", "digest": i + 1, "lines": n, "output": "".join(self.texts)})
        self.texts.clear()
        self.open = None if final else (index, lines)

    def on_text(self, text: str) -> None:
        if self.open is not None:  # the final summary's text goes into the closing object instead
            self.texts.append(text)


@app.command()
def watch(
    file: Annotated[
        str,
        typer.Argument(metavar="[FILE]", show_default=False,
                       help="A file to follow like `tail -f` (also across rotation), or - (the default) for stdin."),
    ] = "-",
    every: Annotated[int | None, typer.Option("--every", min=1, help="A digest every N lines.")] = None,
    interval: Annotated[
        float | None, typer.Option("--interval", min=0.001, help="A digest every S seconds (if new lines came).")
    ] = None,
    window: Annotated[
        int, typer.Option("--window", min=1, help="Tokens the attention layers keep (their KV cache window).")
    ] = 4096,
    model: ModelOpt = DEFAULTS["model"],
    device: DeviceOpt = DEFAULTS["device"],
    dtype: DtypeOpt = DEFAULTS["dtype"],
    chunk_tokens: ChunkOpt = DEFAULTS["chunk_tokens"],
    context: ContextOpt = None,
    max_new_tokens: MaxNewOpt = 256,
    temperature: TempOpt = DEFAULTS["temperature"],
    top_p: TopPOpt = DEFAULTS["top_p"],
    top_k: TopKOpt = DEFAULTS["top_k"],
    repetition_penalty: RepetitionPenaltyOpt = DEFAULTS["repetition_penalty"],
    stop: StopOpt = None,
    seed: SeedOpt = None,
    json_out: Annotated[
        bool,
        typer.Option("--json", help='JSON lines: {"task": "watch", "digest", "lines", "output"} per digest, then '
                     'the final object as summarize --json prints it ("interrupted": "reading" after Ctrl-C).'),
    ] = False,
    quiet: QuietOpt = False,
    progress: ProgressOpt = DEFAULTS["progress"],
    threads: ThreadsOpt = DEFAULTS["threads"],
    debug: DebugOpt = False,
) -> None:
    """Watch a log without end (stdin, or FILE followed like `tail -f`): digests as it grows, a summary at the end.

    A digest every --every lines or --interval seconds.

    Memory stays bounded however long it runs: the SSM layers carry everything in their fixed-size state,
    and the attention layers keep only the last --window tokens.
    Each digest is generated from a copy of the reading state, so reading goes on undisturbed.
    The final summary comes at EOF or Ctrl-C.

    Examples:

        tail -f /var/log/app.log | ssmdoc watch --every 200

        journalctl -f | ssmdoc watch --interval 60 --window 8192

        ssmdoc watch --every 50 < examples/app.log

        ssmdoc watch /var/log/app.log --interval 300   # follows the file; Ctrl-C for the final summary
    """
    from ssmdoc.pipeline import WatchOptions
    from ssmdoc.pipeline import watch as run_watch
    from ssmdoc.pipeline.watch import open_watched

    stream = open_watched(file)  # a missing FILE is an error before anything else
    if every is None and interval is None:
        warn("no --every or --interval: only the final summary will be printed, at EOF or Ctrl-C")
    options = WatchOptions(every, interval, window, chunk_tokens,
                           gen_options(max_new_tokens, temperature, top_p, seed, top_k, repetition_penalty, stop))
    reporter = run_progress(progress, quiet, [], None)
    set_threads(threads)
    engine = load(model, device, dtype, quiet, context)
    sink = _JsonDigests() if json_out else _TextDigests()
    result = run_watch(engine, stream, options, on_digest=sink.on_digest, on_text=sink.on_text,
                       on_progress=reporter.tokens)
    notice = None
    if result.read_interrupted:
        notice = f"interrupted: final summary of the {result.report.input_tokens:,} tokens read"
    finish(result, json_out, quiet, notice=notice)
