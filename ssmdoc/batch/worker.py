"""The Ray Data stage: a callable class, so each actor of the pool loads the engine once and keeps it.

`DocumentWorker(spec)` is built by Ray on each replica; `__call__` gets a batch of documents (columns `id`,
`input`, `content_hash`, `key`) and returns one JSON row per document: exactly what `ssmdoc summarize DOC
--json` (or `ask`) prints, plus the batch's own keys. A document that cannot be read becomes an error row
here; only the death of the process itself escapes, and Ray retries that document on another actor.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkerSpec:
    """Everything an actor needs, picklable (it travels to every node)."""

    model: str
    device: str = "auto"
    dtype: str = "auto"
    threads: int = 1  # torch intra-op threads per replica
    task: str = "summarize"
    question: str | None = None
    chunk_tokens: int = 2048
    strategy: str = "auto"
    context: int | None = None  # --context, for a model whose config states none
    gen: object = None  # ssmdoc.pipeline.GenOptions (None: its defaults)
    ingest: dict = field(default_factory=dict)  # IngestOptions fields (password, layout, include, ...)
    save_states: str | None = None  # absolute directory; on a cluster it must be shared by every node
    cwd: str | None = None  # the driver's directory: relative inputs are read from there


class DocumentWorker:
    def __init__(self, spec: WorkerSpec):
        import torch

        from ssmdoc.pipeline import load_engine

        torch.set_num_threads(spec.threads)
        if spec.cwd and os.path.isdir(spec.cwd):
            os.chdir(spec.cwd)  # an actor's own process: changing its directory touches nothing else
        self.spec = spec
        self.engine = load_engine(spec.model, device=spec.device, dtype=spec.dtype, progress=False,
                                  threads=spec.threads)
        self.engine.name = spec.model  # as the user named it, like `ssmdoc summarize` (the row's "model")
        self.engine.context_override = spec.context
        self.worker = {"node": socket.gethostname(), "pid": os.getpid(), "replica": _replica_id()}

    def __call__(self, batch: dict) -> dict:
        rows = []
        for i in range(len(batch["id"])):
            doc = {k: _plain(batch[k][i]) for k in ("input", "content_hash", "key")}
            started = time.perf_counter()
            row = self.process(doc)
            row["worker"] = dict(self.worker, seconds=round(time.perf_counter() - started, 6))
            rows.append(json.dumps(row, ensure_ascii=False))
        return {"id": batch["id"], "row": rows}

    def process(self, doc: dict) -> dict:
        """One document -> its row (an error row when it cannot be read or answered)."""
        from ssmdoc.errors import SsmdocError
        from ssmdoc.ingest import IngestOptions, iter_segments
        from ssmdoc.pipeline import GenOptions, RunOptions, Task, read, respond
        from ssmdoc.pipeline.saved import hashed

        spec = self.spec
        head = {"input": doc["input"], "content_hash": doc["content_hash"], "key": doc["key"]}
        warnings: list[str] = []
        try:
            options = RunOptions(spec.chunk_tokens, spec.strategy, spec.gen or GenOptions())
            task = Task(spec.task, spec.question)
            segments = iter_segments([doc["input"]], options=IngestOptions(**spec.ingest, warn=warnings.append))
            records: dict = {}
            if spec.save_states:
                segments = hashed(segments, records)
            reading = read(self.engine, segments, task, options)
            state_file = self._save(reading, records, doc["content_hash"], warnings) if spec.save_states else None
            result = respond(self.engine, reading, options, warn=warnings.append)
        except SsmdocError as exc:
            return head | _identity(spec, self.engine.name) | {"error": {"message": exc.message, "hint": exc.hint}}
        except Exception as exc:  # a bug: the batch goes on, the row says what happened
            return head | _identity(spec, self.engine.name) | {
                "error": {"message": f"internal error: {type(exc).__name__}: {exc}",
                          "hint": "run `ssmdoc summarize` on this document with --debug for the traceback"}}
        row = head | result.to_dict()
        if spec.question is not None:
            row["question"] = spec.question
        if state_file is not None:
            row["state_file"] = state_file
        if warnings:
            row["warnings"] = warnings
        return row

    def _save(self, reading, records: dict, content_hash: str, warnings: list[str]) -> str | None:
        from ssmdoc.errors import StateFileError
        from ssmdoc.pipeline.saved import save_reading

        path = os.path.join(self.spec.save_states, f"{content_hash}.state")
        try:
            save_reading(self.engine, reading, path, records)
        except StateFileError as exc:  # a map-reduce reading has no single state: the row still gets its answer
            warnings.append(f"state not saved: {exc.message}")
            return None
        return path


def _identity(spec: WorkerSpec, model: str) -> dict:
    out = {"task": spec.task, "model": model}
    if spec.question is not None:
        out["question"] = spec.question
    return out


def _plain(value):
    """numpy scalars (Ray Data's batch format) -> Python values."""
    return value.item() if hasattr(value, "item") else value


def _replica_id() -> str:
    """The Ray actor's id (stable across restarts of the same replica); the pid outside Ray."""
    try:
        import ray

        actor = ray.get_runtime_context().get_actor_id()
        if actor:
            return actor[:12]
    except Exception:  # pragma: no cover - not inside Ray
        pass
    return f"pid-{os.getpid()}"
