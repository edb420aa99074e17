"""Options shared by summarize / ask / watch, and the helpers that render their output.

Streams: the answer goes to stdout (or one JSON object with --json); progress, warnings and the report go
to stderr, progress only when stderr is a terminal and --quiet is not given.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from typing import Annotated

import typer

from ssmdoc.hub import DEFAULT_MODEL

ModelOpt = Annotated[
    str,
    typer.Option(
        "--model", "-m", envvar="SSMDOC_MODEL", show_envvar=True,
        help="Checkpoint directory or Hugging Face repo id.",
    ),
]
DeviceOpt = Annotated[str, typer.Option("--device", envvar="SSMDOC_DEVICE", help="auto, cpu or cuda.")]
DtypeOpt = Annotated[
    str, typer.Option("--dtype", envvar="SSMDOC_DTYPE", help="auto (the checkpoint's), float32, bfloat16 or float16.")
]
ChunkOpt = Annotated[
    int, typer.Option("--chunk-tokens", envvar="SSMDOC_CHUNK_TOKENS", min=1, help="Tokens fed to the model per step.")
]
StrategyOpt = Annotated[
    str,
    typer.Option(
        "--strategy", envvar="SSMDOC_STRATEGY",
        help="auto: map-reduce only when the input exceeds the model's context; stream: always one pass; "
        "map-reduce: always by context-sized windows.",
    ),
]
MaxNewOpt = Annotated[
    int, typer.Option("--max-new-tokens", envvar="SSMDOC_MAX_NEW_TOKENS", min=1, help="Longest answer, in tokens.")
]
_SHIPPED = " Default: the checkpoint's generation_config.json (greedy when it ships none)."
TempOpt = Annotated[float | None, typer.Option("--temperature", envvar="SSMDOC_TEMPERATURE", min=0.0, show_default=False,
                                               help="0 is greedy (deterministic)." + _SHIPPED)]
TopPOpt = Annotated[float | None, typer.Option("--top-p", envvar="SSMDOC_TOP_P", min=0.0, max=1.0, show_default=False,
                                               help="Nucleus sampling threshold." + _SHIPPED)]
SeedOpt = Annotated[
    int | None, typer.Option("--seed", min=0, max=2**64 - 1, help="Sampling seed, for repeatable sampling.")
]
TopKOpt = Annotated[int | None, typer.Option("--top-k", min=0, show_default=False,
                                             help="Sample only from the K most likely tokens (0: off)." + _SHIPPED)]
RepetitionPenaltyOpt = Annotated[
    float | None,
    typer.Option("--repetition-penalty", min=0.0, show_default=False,
                 help="Penalise tokens already generated (1: off; >1 less repetition)." + _SHIPPED),
]
ContextOpt = Annotated[
    int | None,
    typer.Option("--context", min=1, show_default=False,
                 help="The model's context length in tokens, when its config.json states none (or to plan with a "
                      "shorter one); --strategy auto reads by windows of this size past it."),
]
StopOpt = Annotated[
    list[str] | None, typer.Option("--stop", help="End the answer where this text starts (repeatable).")
]
JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json",
        help='Print one JSON object on stdout instead of the text and the report: {"task", "model", "output", '
        '"complete", "interrupted", "sources": [{"kind", "address", "tokens"}], "report": {...}} '
        "(README: Reading the report).",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress and no report on stderr.")]
ThreadsOpt = Annotated[
    int,
    typer.Option("--threads", envvar="SSMDOC_THREADS", min=0,
                 help="torch CPU threads; 0: torch's default (one per core)."),
]
ProgressOpt = Annotated[
    str,
    typer.Option("--progress", envvar="SSMDOC_PROGRESS", metavar="auto|bar|lines|none",
                 help="auto: a bar on a terminal, plain lines every SSMDOC_PROGRESS_INTERVAL seconds (10) "
                 "otherwise; none: silent (also --quiet)."),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Tracebacks for errors (also SSMDOC_DEBUG=1).")]

# How inputs are read (ssmdoc.ingest.IngestOptions), shared by every command that reads documents.
PasswordOpt = Annotated[
    str | None, typer.Option("--password", envvar="SSMDOC_PDF_PASSWORD", help="Password of encrypted PDFs.")
]
LayoutOpt = Annotated[bool, typer.Option("--layout", help="PDF: layout-preserving text extraction.")]
IncludeOpt = Annotated[
    list[str] | None, typer.Option("--include", help="Directories: read only files matching this glob.")
]
ExcludeOpt = Annotated[list[str] | None, typer.Option("--exclude", help="Directories: skip files matching this glob.")]
MaxFileBytesOpt = Annotated[
    int, typer.Option("--max-file-bytes", min=1, help="Directories: skip larger files (PDFs included).")
]
IncludeSecretsOpt = Annotated[
    bool,
    typer.Option("--include-secrets",
                 help="Directories: also read files that look like secrets (.env, id_rsa, keys, tokens), "
                 "skipped by default."),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Let --save replace an existing file that is not a state.")]


def ingest_options(password, layout, include, exclude, max_file_bytes, include_secrets=False):
    from ssmdoc.ingest import IngestOptions

    return IngestOptions(password=password, layout=layout, include=tuple(include or ()),
                         exclude=tuple(exclude or ()), max_file_bytes=max_file_bytes,
                         include_secrets=include_secrets)


def check_save_target(save, inputs, force: bool):
    """The --save target checked before any work: never an input, never a non-state file unless --force."""
    from ssmdoc.safe_write import check_target
    from ssmdoc.statefile import is_state_file

    if save is None:
        return None
    return check_target(save, inputs=inputs, force=force, accept=is_state_file, what="state file")


# temperature, top_p, top_k, repetition_penalty: None = the checkpoint's generation_config.json (greedy if none)
DEFAULTS = dict(model=DEFAULT_MODEL, device="auto", dtype="auto", chunk_tokens=2048, strategy="auto",
                max_new_tokens=512, temperature=None, top_p=None, top_k=None, repetition_penalty=None,
                max_file_bytes=1 << 20, threads=0, progress="auto")


def set_threads(threads: int) -> None:
    """--threads: torch's intra-op threads for this process (0 leaves torch's default)."""
    if threads:
        import torch

        torch.set_num_threads(threads)


def gen_options(max_new_tokens, temperature=None, top_p=None, seed=None, top_k=None, repetition_penalty=None,
                stop=None):
    from ssmdoc.pipeline import GenOptions

    return GenOptions(max_new_tokens, temperature, top_p, seed, top_k, repetition_penalty, tuple(stop or ()))


def announce_saved(meta, path, quiet: bool) -> None:
    """One line on stderr after --save / `ssmdoc read`: what was saved and how to remove it."""
    if quiet:
        return
    from ssmdoc.report import human_bytes

    from ssmdoc.terminal import safe

    size = sum(meta.state_bytes.values())
    typer.echo(safe(f"saved state to {path}: {meta.token_count:,} tokens in {human_bytes(size)} "
                    f"(remove it with `ssmdoc state rm {path}`)"), err=True)


def warn(message: str) -> None:
    from ssmdoc.terminal import safe  # file names may hold escape sequences

    typer.echo(f"warning: {safe(message)}", err=True)


def stdout_is_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def stdout_text(text: str) -> None:
    """Stream a piece of the answer; flushed so that a pipe sees it as it is generated."""
    typer.echo(text, nl=False)
    sys.stdout.flush()


def print_json(obj: dict) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False))


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """One status line on stderr while reading: tokens, tokens/s, memory. Silent unless on a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and _stderr_is_tty()
        self._status = None
        self._last = 0.0

    @contextmanager
    def show(self, message: str):
        if not self.enabled:
            yield self
            return
        from rich.console import Console

        with Console(stderr=True).status(message) as status:
            self._status = status
            try:
                yield self
            finally:
                self._status = None

    def tokens(self, read: int, elapsed: float) -> None:
        now = time.monotonic()
        if self._status is None or now - self._last < 0.2:  # redrawing is not free; 5 times a second is plenty
            return
        self._last = now
        from ssmdoc.report import human_bytes, peak_rss_bytes

        rate = read / elapsed if elapsed > 0 else 0.0
        self._status.update(
            f"reading: {read:,} tokens, {rate:,.0f} tokens/s, peak memory {human_bytes(peak_rss_bytes())}"
        )


def load(model: str, device: str, dtype: str, quiet: bool, context: int | None = None):
    """Load the engine, with a spinner on a terminal (a multi-GB checkpoint takes a while).

    A download, if any, comes first and shows its own progress bars (on a terminal, unless --quiet)."""
    from ssmdoc.signals import deferred

    with deferred():  # a signal inside torch's C++ initialisation can abort the process: held until done
        import torch  # noqa: F401
    from ssmdoc.models.checkpoint import resolve_checkpoint
    from ssmdoc.pipeline import load_engine
    from ssmdoc.pipeline.engine import resolve_device, resolve_dtype

    resolve_dtype(dtype, resolve_device(device))  # option errors before any download
    path = resolve_checkpoint(model, progress=False if quiet else None)
    with Progress(not quiet).show(f"loading {model} ..."):
        # the name as the user gave it (the JSON's "model"), not the cache path
        engine = load_engine(model, device=device, dtype=dtype, path=path)
    engine.context_override = context
    return engine


EXIT_INCOMPLETE = 3  # the answer covers only part of the input (Ctrl-C while reading); README: exit status


def finish(result, json_out: bool, quiet: bool, notice: str | None = None) -> None:
    """Print what follows the streamed answer: the JSON object, or a newline and the report table.

    `notice`: a warning for after the answer's last line (never in the middle of it). Exit status: 130 with
    `error: interrupted` when the answer itself was cut short, EXIT_INCOMPLETE when it covers part of the input."""
    from ssmdoc.report import render_report

    if json_out:
        print_json(result.to_dict())
        if notice:
            warn(notice)
    else:
        if result.output and not result.output.endswith("\n"):
            typer.echo("")
        if notice:
            warn(notice)
        if not quiet:
            render_report(result.report)
    if result.answer_interrupted:
        raise KeyboardInterrupt  # the error boundary says "interrupted" and exits 130
    if not result.complete:
        raise typer.Exit(EXIT_INCOMPLETE)


def run_progress(mode: str, quiet: bool, inputs, ingest):
    """The progress display of a run (ssmdoc.progress), sized from the inputs when they are files."""
    from ssmdoc.progress import Progress as RunProgress
    from ssmdoc.progress import Sizes, resolve_mode
    from ssmdoc.settings import resolve_all

    mode = resolve_mode(mode, quiet)
    interval = next(r.value for r in resolve_all() if r.key == "progress_interval")
    sizes = None
    if mode != "none" and inputs:
        sizes = Sizes.measure(inputs, getattr(ingest, "max_file_bytes", None))
    return RunProgress(mode, quiet, interval, sizes)
