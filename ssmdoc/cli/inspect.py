"""`ssmdoc inspect`: what would be read, in tokens, and what the model's state would cost — without running it."""

from __future__ import annotations

from typing import Annotated

import typer

from ssmdoc.cli import app
from ssmdoc.cli.common import (
    DEFAULTS,
    ContextOpt,
    DebugOpt,
    ExcludeOpt,
    IncludeOpt,
    IncludeSecretsOpt,
    LayoutOpt,
    MaxFileBytesOpt,
    MaxNewOpt,
    PasswordOpt,
    StrategyOpt,
    ingest_options,
)


def _fmt_bytes(n: int) -> str:
    from ssmdoc.report import human_bytes

    return human_bytes(n)


def _render(result, depth: int, strategy: str = "auto", max_new_tokens: int = 512) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ssmdoc.terminal import safe  # names from the inputs may hold escape sequences

    console = Console()

    def say(line: str) -> None:  # plain text: paths may hold [brackets]; long lines must not be re-wrapped
        console.print(safe(line), markup=False, highlight=False, soft_wrap=True)

    total = result.total_tokens
    approx = "" if result.exact else "~"
    say(f"token counts: {result.counter}")
    table = Table()
    table.add_column("source")
    table.add_column("tokens", justify="right")
    table.add_column("share", justify="right")
    for level, node in result.tree.walk():
        if node is result.tree or level > depth:
            continue
        label = "- (stdin)" if node.name == "-" else node.name
        label += ("/" if node.kind in ("dir", "input-dir") and not node.name.endswith("/") else "")
        more = " …" if level == depth and node.children else ""
        share = f"{100 * node.tokens / total:.1f}%" if total else "-"
        # Text, not str: rich would read a file named "[b]x.txt" as markup
        table.add_row(Text(safe("  " * (level - 1) + label + more)), f"{approx}{node.tokens:,}", share)
    console.print(table)

    stats = result.stats
    line = f"read {stats.files_read} file(s), {_fmt_bytes(stats.bytes_read)}"
    if stats.pages_read:
        line += f", {stats.pages_read} PDF page(s) with text"
    say(line)
    for reason, paths in sorted(stats.skipped.items()):
        examples = ", ".join(paths[:3]) + (", …" if len(paths) > 3 else "")
        say(f"skipped {len(paths)} ({reason}): {examples}")
    if stats.pages_without_text:
        say(f"pages without text: {len(stats.pages_without_text)}")
    if stats.unreadable_pages:
        say(f"unreadable pages: {len(stats.unreadable_pages)}")

    summary = f"total: {approx}{total:,} tokens" + ("" if result.exact else " (estimate)")
    model = result.model
    if model is None:
        say(summary + "; name a --model for its context and state size")
        return
    if model.max_context:
        fraction = total / model.max_context
        why = {"config": "from config.json", "known": "its known training length",
               "--context": "set with --context"}.get(model.context_source, model.context_source)
        summary += f", {100 * fraction:.1f}% of {model.name}'s {model.max_context:,}-token context ({why})"
        if fraction > 1:
            summary += " (more than it was trained on; --strategy auto reads it by windows)"
    else:
        summary += f"; {model.name}'s context is unknown: its config.json states none (give one with --context N)"
    say(summary)
    if model.plan_error:
        say(f"a run with --strategy {strategy} --max-new-tokens {max_new_tokens:,} would be refused: "
            f"{model.plan_error}")
    if model.plan is not None:
        p = model.plan
        if p.strategy == "map-reduce":
            how = (f"map-reduce: {p.windows:,} windows of up to {p.window_tokens:,} document tokens, answered one "
                   "by one, then combined")
        else:
            how = "stream: one pass over everything"
        peak = " + ".join(f"{key} {_fmt_bytes(value)}" for key, value in model.plan_state_bytes.items())
        say(f"a run (--strategy {strategy}, --max-new-tokens {max_new_tokens:,}) would read it by {how}; "
            f"state at its peak: {peak} = {_fmt_bytes(sum(model.plan_state_bytes.values()))}")
    layers = ", ".join(f"{count} {kind}" for kind, count in model.layers.items())
    parts = " + ".join(f"{key} {_fmt_bytes(value)}" for key, value in model.state_bytes.items())
    say(
        f"state after reading them in one pass ({model.architecture}: {layers}; {model.dtype}): {parts} = "
        f"{_fmt_bytes(model.state_total)}"
    )
    ratio = model.transformer_kv_bytes / model.state_total if model.state_total else 0
    say(
        f"a transformer of the same depth would hold {_fmt_bytes(model.transformer_kv_bytes)} of KV cache"
        + (f" ({ratio:,.1f}x the state)" if ratio else "")
    )


@app.command()
def inspect(
    inputs: Annotated[
        list[str], typer.Argument(metavar="INPUT...", help="PDFs, directories, text files; - for stdin.")
    ],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Checkpoint directory or Hub repo id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    depth: Annotated[int, typer.Option(help="Levels of the token tree to show (JSON has all).", min=1)] = 3,
    strategy: StrategyOpt = DEFAULTS["strategy"],
    max_new_tokens: MaxNewOpt = DEFAULTS["max_new_tokens"],
    question: Annotated[str | None, typer.Option("--question", "-q", show_default=False,
                                                 help="Plan for `ask` with this question (default: summarize).")]
    = None,
    password: PasswordOpt = None,
    layout: LayoutOpt = False,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    max_file_bytes: MaxFileBytesOpt = DEFAULTS["max_file_bytes"],
    context: ContextOpt = None,
    include_secrets: IncludeSecretsOpt = False,
    debug: DebugOpt = False,  # read by the error boundary in ssmdoc.cli
) -> None:
    """Count what INPUT... holds in tokens, per source and directory, without running the model.

    With --model: the model's own tokens, its context, and the state memory (vs a transformer's KV cache).

    Without --model, token counts are an estimate (UTF-8 bytes / 4).

    With --model it also says how a run would read them (one pass, or map-reduce windows beyond the
    model's context) and the state at its peak, with the pipeline's own arithmetic.

    Example: ssmdoc inspect repo/ notes.pdf --exclude '*.lock' -m state-spaces/mamba-130m-hf
    """
    from ssmdoc.inspect import inspect_inputs

    options = ingest_options(password, layout, include, exclude, max_file_bytes, include_secrets)
    run = task = None
    if model is not None:  # the plan of a run needs the model's tokenizer and context
        from ssmdoc.pipeline import GenOptions, RunOptions, Task

        run = RunOptions(strategy=strategy, gen=GenOptions(max_new_tokens))
        task = Task("ask", question) if question else Task("summarize")
    result = inspect_inputs(inputs, options, model=model, context=context, run=run, task=task)
    if as_json:
        typer.echo(result.to_json())
    else:
        _render(result, depth, strategy, max_new_tokens)
