"""`ssmdoc demo`: a first run that needs no download (ssmdoc.demo does the work)."""

from __future__ import annotations

from typing import Annotated

import typer

from ssmdoc.cli import app
from ssmdoc.cli.common import DebugOpt, JsonOpt, ProgressOpt, QuietOpt, ThreadsOpt

REAL_MODELS = """\
This was a demonstration model: a tiny hybrid trained only to find access codes in filler text. It cannot
summarize or answer questions about real documents. For those, get a real checkpoint:
  hf download ai21labs/AI21-Jamba2-3B          # the default model (or any of `ssmdoc models`)
  ssmdoc summarize report.pdf
Offline: HF_HUB_OFFLINE=1 uses the local cache only; --model /path/to/checkpoint-dir takes a local
directory (config.json, *.safetensors, tokenizer.json)."""


@app.command()
def demo(
    tokens: Annotated[int, typer.Option("--tokens", min=64, max=4096,
                                        help="Length of the generated document, in the model's tokens.")] = 480,
    chunk_tokens: Annotated[int, typer.Option("--chunk-tokens", min=1,
                                              help="Tokens fed to the model per step.")] = 64,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Which document (and needle) to generate.")] = 0,
    show_document: Annotated[bool, typer.Option("--show-document",
                                                help="Print the generated document first.")] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    progress: ProgressOpt = "auto",
    threads: ThreadsOpt = 0,
    debug: DebugOpt = False,
) -> None:
    """Run the whole pipeline offline on the small model shipped with ssmdoc: a first run in seconds.

    A long document is generated (filler text with an access code hidden in it), streamed into the
    model chunk by chunk, and one code is asked for. The answer is checked against the document; then
    the report shows what was read and what it cost. The model is for demonstration only.

    With --json: the object `summarize --json` prints, plus "demo": {"question", "expected",
    "answer_code", "correct", "document_tokens"}.

    Examples:

        ssmdoc demo

        ssmdoc demo --tokens 1024 --seed 3 --show-document
    """
    from ssmdoc.cli.common import load, print_json, run_progress, set_threads, stdout_text, warn
    from ssmdoc.demo import DOCUMENT_NAME, demo_checkpoint, run_demo
    from ssmdoc.report import render_report

    path = demo_checkpoint()
    reporter = run_progress(progress, quiet or json_out, [], None)
    set_threads(threads)
    engine = load(str(path), "cpu", "auto", quiet)
    engine.name = "recall-hybrid (demonstration model)"
    say = (lambda line: None) if json_out else typer.echo

    say("ssmdoc demo: a tiny model shipped with ssmdoc, for demonstration only, reads a generated document")

    def on_document(doc) -> None:
        if show_document:
            say(doc.text)
        say(f"document: {DOCUMENT_NAME}, {doc.tokens:,} tokens of filler hiding "
            f"{doc.needles} access code{'s' if doc.needles != 1 else ''}, "
            f"streamed in chunks of {chunk_tokens} tokens")
        say(f"question: {doc.question}")

    with reporter.show("reading"):
        out = run_demo(engine, tokens, seed, chunk_tokens, on_progress=reporter.tokens, on_document=on_document,
                       on_text=None)
    if json_out:
        print_json(out.to_dict())
        return
    stdout_text("answer:   " + out.result.output.strip() + "\n")
    if out.correct:
        say(f"correct:  the document says {out.document.name}'s code is {out.document.expected}")
    else:
        warn(f"wrong: the document says {out.document.name}'s code is {out.document.expected}")
    if not quiet:
        render_report(out.result.report)
        typer.echo(REAL_MODELS, err=True)
