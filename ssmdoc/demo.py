"""`ssmdoc demo` as a library: the whole pipeline on the small model shipped with ssmdoc, offline.

A document of `tokens` tokens is generated (filler sentences with one "access code" needle), streamed
through the same ingestion as stdin and read chunk by chunk into the model's state; then one needle's code
is asked for. The code is known, so the answer can be checked: this is a run whose output can be judged
right or wrong, unlike a summary from a random checkpoint.

The model is `recall-hybrid` from ssmdoc.eval (a tiny Bamba-layout hybrid trained only to recall such
codes; docs/eval.md): it demonstrates the pipeline, not the quality of a language model.

    from ssmdoc.demo import run_demo
    result = run_demo(on_text=print)
    result.correct, result.result.report.to_dict()
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ssmdoc.errors import ModelError

DEMO_MODEL = "recall-hybrid"
DOCUMENT_NAME = "generated-document.txt"


def demo_checkpoint() -> Path:
    """The packaged demonstration checkpoint; ModelError (with the way out) when it is not installed."""
    try:
        from ssmdoc.eval import packaged_checkpoint

        path = packaged_checkpoint(DEMO_MODEL)
    except (ImportError, ValueError) as exc:
        raise ModelError("this ssmdoc has no demonstration model installed",
                         "reinstall ssmdoc (`pip install -e .`), or run a real model: `ssmdoc models`") from exc
    if not (path / "config.json").is_file():
        raise ModelError(f"the demonstration model is missing from {path}",
                         "reinstall ssmdoc (`pip install -e .`), or run a real model: `ssmdoc models`")
    return path


@dataclass
class Document:
    text: str
    question: str
    expected: str  # the code the question asks for
    name: str  # whose code
    needles: int
    tokens: int  # its length in the model's tokens (as the generator counts them)


def make_document(tokenizer, tokens: int, seed: int) -> Document:
    """Filler with one needle at a depth between 0.2 and 0.8 (chosen by `seed`); the question asks for it.
    One, because the packaged hybrid does not reliably pick the asked code among several (docs/eval.md)."""
    from ssmdoc.eval.haystack import build_haystack, draw_needles, filler_units

    rng = random.Random(f"ssmdoc-demo:{seed}")
    needles = draw_needles(rng, rng.uniform(0.2, 0.8), 1)
    hay = build_haystack(filler_units(rng.randrange(2**31)), tokens, needles,
                         lambda text: len(tokenizer.encode(text, parse_special=False)))
    return Document(hay.text + "\n", hay.question, hay.asked.code, hay.asked.name, len(needles), hay.tokens)


@dataclass
class DemoResult:
    document: Document
    result: object  # ssmdoc.pipeline.TaskResult
    answer_code: str | None

    @property
    def correct(self) -> bool:
        return self.answer_code == self.document.expected

    def to_dict(self) -> dict:
        d = self.result.to_dict()
        d["demo"] = {"question": self.document.question, "expected": self.document.expected,
                     "answer_code": self.answer_code, "correct": self.correct,
                     "document_tokens": self.result.report.input_tokens}
        return d


def first_code(text: str) -> str | None:
    import re

    match = re.search(r"(?<!\d)\d{6}(?!\d)", text)
    return match.group(0) if match else None


def run_demo(engine, tokens: int = 480, seed: int = 0, chunk_tokens: int = 64,
             on_text: Callable[[str], None] | None = None, on_progress=None, on_document=None) -> DemoResult:
    """Generate the document, stream it through `read` in chunks, ask, and check the answer."""
    from ssmdoc.ingest import IngestOptions, IngestStats
    from ssmdoc.ingest.stdin import iter_stdin
    from ssmdoc.pipeline import GenOptions, RunOptions, Task, read, respond

    doc = make_document(engine.tokenizer, tokens, seed)
    if on_document is not None:
        on_document(doc)
    # Streamed as a pipe would be: line batches as they "arrive", never the whole text at once.
    segments = iter_stdin(IngestOptions(), IngestStats(), io.BytesIO(doc.text.encode("utf-8")),
                          name=DOCUMENT_NAME, kind="file")
    options = RunOptions(chunk_tokens, "auto", GenOptions(max_new_tokens=12))
    reading = read(engine, segments, Task("ask", doc.question), options, on_progress=on_progress)
    result = respond(engine, reading, options, on_text=on_text)
    return DemoResult(doc, result, first_code(result.output))
