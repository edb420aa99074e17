"""Task prompts, split around the document so that the document can stream in between.

The model reads `prefix + document + suffix`. The prefix states the task (for `ask`, the question itself)
before the document, so the recurrent layers know what to keep while reading; the suffix repeats it after
the document, where a chat model expects the user's request, and opens the assistant's turn.

To work with any chat template, the whole request is rendered once as a single user message whose content
holds a sentinel where the document goes; the rendering is then cut at the sentinel. A template that does
not carry the content through verbatim (so the sentinel is lost) gets a plain-text prompt instead.
"""

from __future__ import annotations

from dataclasses import dataclass

SENTINEL = "\x00SSMDOC-DOCUMENT\x00"

CITE = "Cite the file, page or lines you rely on (the document marks them)."
WHAT_HAPPENED = "what happened, errors, warnings, anything unusual."
MUST_KNOW = "its purpose, its key points and anything a reader must not miss."


@dataclass(frozen=True)
class Task:
    """What to do with the document: `summarize`, `ask` (with `question`), `watch`, or `read` (saved for later)."""

    name: str
    question: str | None = None

    def __post_init__(self):
        if self.name not in ("summarize", "ask", "watch", "read"):
            raise ValueError(f"unknown task {self.name!r}")
        if self.name == "ask" and not (self.question or "").strip():
            raise ValueError("ask needs a question")


@dataclass(frozen=True)
class Prompt:
    """Token ids before and after the document, and whether the checkpoint's chat template framed them."""

    prefix: list[int]
    suffix: list[int]
    templated: bool


def _texts(task: Task, stage: str, since_line: int | None = None) -> tuple[str, str]:
    """(before, after) the document for a task at one stage: `whole`, `part` (one map-reduce window),
    `combine` (the document is the parts' outputs), `digest` (watch, mid-stream) or `final` (watch, the end)."""
    q = (task.question or "").strip()
    if task.name == "watch":
        before = "Below is a live log, read as it is written. Keep track of what happens, errors above all.\n\n"
        if stage == "digest":
            where = f" (from line {since_line} on)" if since_line else ""
            return before, f"\n\nGive a short digest of the most recent log lines{where}: {WHAT_HAPPENED}"
        return before, f"\n\nThe log has ended. Summarize the whole log: {WHAT_HAPPENED}"
    if stage == "combine":
        if task.name == "ask":
            return (
                f"Below are answers to the question \"{q}\", each found in one part of a long document.\n\n",
                f"\n\nCombine them into one answer to the question: {q}\nIgnore parts that found nothing. {CITE}",
            )
        return (
            "Below are summaries of consecutive parts of one long document.\n\n",
            f"\n\nCombine them into one summary of the whole document: {MUST_KNOW} {CITE}",
        )
    if task.name == "read":  # saved for later: the question is not known yet, so the prefix names none
        return "Read the document below; you will then be asked about it.\n\n", ""
    scope = "this part of a longer document" if stage == "part" else "the document above"
    if task.name == "ask":
        return (
            f"Read the document below, then answer this question about it: {q}\n\n",
            f"\n\nQuestion: {q}\nAnswer from {scope}. {CITE} If it does not say, say so.",
        )
    return (
        "Read the document below; you will be asked to summarize it.\n\n",
        f"\n\nSummarize {scope}: {MUST_KNOW} {CITE}",
    )


def build_prompt(tokenizer, task: Task, stage: str = "whole", since_line: int | None = None) -> Prompt:
    before, after = _texts(task, stage, since_line)
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": before + SENTINEL + after}], add_generation_prompt=True
    )
    if rendered.count(SENTINEL) == 1:
        head, tail = rendered.split(SENTINEL)
        return Prompt(tokenizer.encode(head), tokenizer.encode(tail), templated=tokenizer.has_chat_template)
    # The template rewrote the content: plain text, with the bos the model was trained to see first.
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    return Prompt(bos + tokenizer.encode(before), tokenizer.encode(after + "\n\nAnswer:\n"), templated=False)
