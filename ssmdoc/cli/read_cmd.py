"""`ssmdoc read INPUT... --save FILE`: read documents into the model state once, answer from it many times."""

from __future__ import annotations

from typing import Annotated

import typer

from ssmdoc.cli import app
from ssmdoc.cli.common import (
    DEFAULTS,
    ChunkOpt,
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
    ModelOpt,
    PasswordOpt,
    ProgressOpt,
    QuietOpt,
    ThreadsOpt,
    check_save_target,
    ingest_options,
    announce_saved,
    load,
    print_json,
    run_progress,
    set_threads,
    warn,
)


@app.command()
def read(
    inputs: Annotated[
        list[str], typer.Argument(metavar="INPUT...", help="Files, directories, or - for stdin.", show_default=False)
    ],
    save: Annotated[str, typer.Option("--save", help="Where to write the state.", show_default=False)],
    model: ModelOpt = DEFAULTS["model"],
    device: DeviceOpt = DEFAULTS["device"],
    dtype: DtypeOpt = DEFAULTS["dtype"],
    chunk_tokens: ChunkOpt = DEFAULTS["chunk_tokens"],
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    progress: ProgressOpt = DEFAULTS["progress"],
    threads: ThreadsOpt = DEFAULTS["threads"],
    password: PasswordOpt = None,
    layout: LayoutOpt = False,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    max_file_bytes: MaxFileBytesOpt = DEFAULTS["max_file_bytes"],
    include_secrets: IncludeSecretsOpt = False,
    force: ForceOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Read documents into the model's state and save it, to ask about them later without reading again.

    For a pure SSM the state has the same size however long the documents are; hybrids add their attention
    layers' KV cache. The file records the model, the sources (with SHA-256) and a content hash.
    A saved state can reveal what the documents say: keep it like the documents, remove it with `ssmdoc state rm`.

    Examples:

        ssmdoc read examples/contract.pdf --save contract.state

        ssmdoc ask contract.state "how can either party terminate?"

        ssmdoc summarize contract.state
    """
    from ssmdoc.ingest import IngestStats, iter_segments
    from ssmdoc.pipeline import RunOptions, Task
    from ssmdoc.pipeline import read as read_inputs
    from ssmdoc.pipeline.document import finish_report
    from ssmdoc.pipeline.saved import hashed, save_reading
    from ssmdoc.report import render_report

    # One pass: the state of a map-reduce window would not stand for the whole input.
    options = RunOptions(chunk_tokens, "stream")
    check_save_target(save, inputs, force)  # before reading: never an input, never a document
    records: dict = {}
    stats = IngestStats()
    ingest = ingest_options(password, layout, include, exclude, max_file_bytes, include_secrets)
    segments = hashed(iter_segments(inputs, options=ingest, stats=stats), records)
    reporter = run_progress(progress, quiet, inputs, ingest)
    set_threads(threads)
    engine = load(model, device, dtype, quiet)
    with reporter.show("reading"):
        reading = read_inputs(engine, reporter.segments(segments), Task("read"), options,
                              on_progress=reporter.tokens, one_window=True)
    if reading.last.interrupted:
        warn(f"interrupted: saving the {reading.report.input_tokens:,} tokens read so far")
    if engine.max_context is not None and reading.last.state.seen_tokens > engine.max_context:
        warn(f"read {reading.report.input_tokens:,} tokens in one pass, beyond the model's context of "
             f"{engine.max_context:,} tokens; answers from this state may degrade")
    meta = save_reading(engine, reading, save, records, secrets_included=bool(stats.secrets_read))
    announce_saved(meta, save, quiet or json_out)
    report = finish_report(engine, reading.report, reading.meter, reading.last.state.seen_tokens)
    if json_out:
        print_json({"task": "read", "model": engine.name, "state_file": str(save), "sources": reading.sources,
                    "report": report.to_dict(), "content_hash": meta.content_hash})
    elif not quiet:
        render_report(report)
