"""Read once, ask many times: a Reading saved to a state file, and restored in place of reading.

    reading = read(engine, hashed(segments, records), Task("read"), RunOptions(strategy="stream"))
    save_reading(engine, reading, "contract.state", records)
    ...
    reading = load_reading(engine, "contract.state", Task("ask", "Who may terminate?"))
    result = respond(engine, reading, options)      # the same answer as if the documents were read now

Only a single-window reading can be saved: the state of the last map-reduce window does not stand for the
whole input. `check_save` refuses --strategy map-reduce before anything is read, and `read(...,
one_window=True)` stops at the first window boundary; `save_reading` checks again.

The CLI (summarize / ask / read) and `ssmdoc batch` share these steps:

    path = state_file_input(inputs)                  # a single saved state in place of documents?
    reading, engine = resume(path, task, load)       # the model and dtype that wrote it, unless overridden
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from ssmdoc.errors import StateFileError, UsageError
from ssmdoc.pipeline.document import Reading, RunOptions
from ssmdoc.pipeline.engine import Engine, Meter
from ssmdoc.pipeline.prompts import Task, build_prompt
from ssmdoc.pipeline.reading import Window
from ssmdoc.report import Report
from ssmdoc.statefile import (
    StateMeta,
    check_compatible,
    describe_file_source,
    is_state_file,
    read_state,
    save_state,
    weights_fingerprint,
)

MAP_REDUCE_REFUSED = ("the input was read by map-reduce windows; the last window's state does not stand for all of it",
                      "save with `ssmdoc read INPUT... --save FILE` (one pass), or use --strategy stream")


def check_save(options: RunOptions) -> None:
    """Before reading: a reading that is to be saved must be one pass, so --strategy map-reduce is refused."""
    if options.strategy == "map-reduce":
        raise UsageError("--save needs one pass over the input, and --strategy map-reduce reads it by windows "
                         "(the last window's state does not stand for all of it)",
                         "use --strategy stream or auto, or `ssmdoc read INPUT... --save FILE`")


def state_file_input(inputs: Sequence[str]) -> str | None:
    """The path when the inputs are one saved state file (answer from it instead of reading), else None."""
    if len(inputs) == 1 and inputs[0] != "-" and is_state_file(inputs[0]):
        return inputs[0]
    return None


def resume(path: str | os.PathLike, task: Task, load: Callable[[str, str], Engine], model: str | None = None,
           dtype: str = "auto", warn=None) -> tuple[Reading, Engine]:
    """Restore a saved reading for `task`. The file is verified before any model loads; then `load(model,
    dtype)` loads the model that wrote it in its dtype, unless `model` / `dtype` ("auto": the file's) say
    otherwise, and the state is checked against that model."""
    _, meta = read_state(path)  # a damaged file must not wait for a model to load
    engine = load(model or meta.model, meta.dtype if dtype == "auto" else dtype)
    return load_reading(engine, path, task, warn=warn), engine


def hashed(segments: Iterable, records: dict) -> Iterator:
    """Pass segments through, hashing each source's text as read (stdin has no file to hash afterwards).

    `records[(kind, path)]` gets {"kind", "path", "size" (UTF-8 bytes of text), "sha256" (of that text)}.
    """
    digests: dict = {}
    for segment in segments:
        src = segment.source
        key = (src.kind, src.path)
        data = segment.text.encode("utf-8", "replace")
        digests.setdefault(key, hashlib.sha256()).update(data)
        rec = records.setdefault(key, {"kind": src.kind, "path": src.path, "size": 0, "sha256": ""})
        rec["size"] += len(data)
        rec["sha256"] = digests[key].hexdigest()
        yield segment


def _source_records(reading: Reading, records: dict) -> list[dict]:
    """One record per source read: a file's own bytes hashed where it is a file, else the text as read."""
    out = []
    for item in reading.sources:
        key = (item["kind"], item["address"])
        path = Path(item["address"])
        if item["kind"] != "stdin" and path.is_file():
            rec = describe_file_source(path, item["kind"])
        else:
            rec = dict(records.get(key) or {"kind": item["kind"], "path": item["address"], "size": 0, "sha256": ""})
            rec["hashed"] = "text as read"
        rec["tokens"] = item["tokens"]
        out.append(rec)
    return out


def _revision(checkpoint: Path) -> str | None:
    """The Hub commit of a checkpoint in the Hugging Face cache (…/snapshots/<commit>/), else None."""
    parts = checkpoint.resolve().parts
    return parts[-1] if len(parts) > 1 and parts[-2] == "snapshots" else None


def _dtype_name(engine: Engine) -> str:
    return str(engine.dtype).removeprefix("torch.")


def save_reading(engine: Engine, reading: Reading, path: str | os.PathLike, records: dict,
                 secrets_included: bool = False) -> StateMeta:
    """Write the reading's state with its provenance. Call before `respond`, which advances the state."""
    if reading.partials:
        raise StateFileError(*MAP_REDUCE_REFUSED)
    state = reading.last.state
    meta = StateMeta(
        model=engine.name,
        model_revision=_revision(engine.path),
        weights_hash=weights_fingerprint(engine.path, _revision(engine.path)),
        architecture=engine.config.architecture,
        dtype=_dtype_name(engine),
        token_count=reading.report.input_tokens,
        chunk_tokens=reading.report.chunk_tokens,
        prompt_prefix=engine.tokenizer.decode(build_prompt(engine.tokenizer, reading.task).prefix,
                                              skip_special_tokens=False),
        sources=_source_records(reading, records),
        state_bytes={k: int(v) for k, v in state.nbytes().items()},
        read_seconds=round(reading.meter.prefill_seconds, 6),
        seen_tokens=int(state.seen_tokens),
        secrets_included=secrets_included,
    )
    return save_state(path, state.to_tensors(), meta)


def load_reading(engine: Engine, path: str | os.PathLike, task: Task, warn=None) -> Reading:
    """A Reading restored from a state file, ready for `respond` with any task. `warn(message)` hears of a
    state whose prompt was written for another task (see ssmdoc.resume_check)."""
    from ssmdoc.models.state import InferenceState
    from ssmdoc.resume_check import prompt_mismatch, restore_state

    tensors, meta = read_state(path)
    check_compatible(meta, weights_hash=weights_fingerprint(engine.path, _revision(engine.path)),
                     dtype=_dtype_name(engine), path=path)
    if warn is not None and (message := prompt_mismatch(engine.tokenizer, meta, task)):
        warn(message)
    state = restore_state(InferenceState, engine, tensors, meta, path)
    report = Report(model_context_tokens=engine.max_context, model_context_source=engine.context.source, chunk_tokens=meta.chunk_tokens,
                    input_tokens=meta.token_count)
    report.resumed = {"state_file": str(path), "tokens": meta.token_count, "read_seconds": meta.read_seconds}
    report.note_state(state.nbytes())
    window = Window(0, state, meta.token_count, None, None, final=True)
    sources = [{"kind": s.get("kind"), "address": s.get("path"), "tokens": s.get("tokens", 0)} for s in meta.sources]
    return Reading(task, window, [], sources, report, Meter())
