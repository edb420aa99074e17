"""`run_batch`: many documents through an actor pool on Ray, one row each in a JSONL file, resumable.

    from ssmdoc.batch import BatchOptions, run_batch
    from ssmdoc.pipeline import GenOptions

    summary = run_batch(["contracts/a.pdf", "contracts/b.pdf", "repo/"], "results.jsonl",
                        BatchOptions(model="ai21labs/AI21-Jamba2-3B", gen=GenOptions(max_new_tokens=256)))
    print(summary.to_dict())

The driver (this process) does the bookkeeping: it hashes every document, skips those whose key already
has a row in the results file, writes a row for each document a worker returns as soon as it arrives, and
an error row for each document no worker could finish. Workers never touch the results file.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ssmdoc.batch.documents import Document, document, expand_inputs
from ssmdoc.batch.results import ResultsFile
from ssmdoc.batch.summary import BatchSummary
from ssmdoc.batch.worker import WorkerSpec
from ssmdoc.errors import SsmdocError, UsageError
from ssmdoc.pipeline import GenOptions, RunOptions
from ssmdoc.pipeline.saved import check_save

RUNTIME_BYTES = 768 << 20  # a replica's memory beyond its weights (torch, activations): a rough planning figure


@dataclass
class BatchOptions:
    task: str = "summarize"  # summarize | ask
    question: str | None = None
    model: str = ""  # checkpoint directory or Hub repo id ("" -> ssmdoc.hub.DEFAULT_MODEL)
    device: str = "auto"
    dtype: str = "auto"
    chunk_tokens: int = 2048
    strategy: str = "auto"
    context: int | None = None  # --context: the model's context length when its config states none
    gen: GenOptions = field(default_factory=GenOptions)  # max_new_tokens, temperature, top_p, seed, top_k, ...
    password: str | None = None
    layout: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_file_bytes: int = 1 << 20  # every file read: a document named here, and files in a directory walk
    replicas: int | None = None  # None: what fits (CPUs / threads per replica, or GPUs / GPUs per replica)
    threads_per_replica: int = 1
    gpus_per_replica: float = 0.0
    ray_address: str | None = None  # None: start a local Ray and stop it at the end
    retries: int = 2  # times a document is retried after its worker process died
    retry_failed: bool = False  # documents whose rows so far are all errors are done again
    save_states: str | None = None  # directory for <content-hash>.state files
    debug: bool = False  # Ray's own logs and progress on stderr
    warn: Callable[[str], None] = field(default=lambda message: None, repr=False)


class Observer:
    """Progress hooks; the CLI draws a progress bar with them. Every method is optional."""

    def start(self, summary: BatchSummary) -> None: ...

    def row(self, row: dict, summary: BatchSummary) -> None: ...


def _validate(options: BatchOptions) -> None:
    if options.task not in ("summarize", "ask"):
        raise UsageError(f"unknown --task {options.task!r}", "use summarize or ask")
    if options.task == "ask" and not (options.question or "").strip():
        raise UsageError("--task ask needs --question", 'e.g. --task ask --question "who may terminate?"')
    if options.task == "summarize" and options.question is not None:
        raise UsageError("--question is for --task ask")
    if options.threads_per_replica < 1 or options.retries < 0 or options.gpus_per_replica < 0:
        raise UsageError("--threads-per-replica must be at least 1, --retries and --gpus-per-replica at least 0")
    if options.replicas is not None and options.replicas < 1:
        raise UsageError("--replicas must be at least 1")
    if options.device == "cuda" and options.gpus_per_replica == 0:
        raise UsageError("--device cuda, but the replicas are given no GPU (Ray hides GPUs from them)",
                         "add --gpus-per-replica 1 (or a fraction, to share a GPU)")
    run = RunOptions(options.chunk_tokens, options.strategy, options.gen)
    if options.save_states:
        check_save(run)  # --strategy map-reduce leaves no single state to save


def _checkpoint(options: BatchOptions) -> tuple[str, dict, int]:
    """(model name, what identifies it in a row's key, rough bytes per replica), checked here before any
    worker starts."""
    import torch

    from ssmdoc.hub import DEFAULT_MODEL, resolve_checkpoint
    from ssmdoc.models import load_config
    from ssmdoc.models.generation_defaults import read_generation_defaults
    from ssmdoc.pipeline.engine import resolve_dtype
    from ssmdoc.statefile import weights_fingerprint

    model = options.model or DEFAULT_MODEL
    resolve_dtype(options.dtype, torch.device("cuda" if options.gpus_per_replica > 0 else "cpu"))
    path = resolve_checkpoint(model, progress=False)
    load_config(path)  # an unsupported or damaged checkpoint fails here, once, not in every replica
    weights = sum(p.stat().st_size for p in path.glob("*.safetensors"))
    # Sampling left unset takes the checkpoint's generation_config.json: the key holds what will be used.
    sampling = options.gen.sampling(read_generation_defaults(path))
    return model, {"weights": weights_fingerprint(path), "sampling": sampling}, weights + RUNTIME_BYTES


def _identity(options: BatchOptions, model: str, checkpoint: dict) -> dict:
    """Everything besides the document's content that decides its row: the rest of the resume key."""
    return {"task": options.task, "question": options.question, "model": model, **checkpoint,
            "dtype": options.dtype,
            "options": {k: getattr(options, k) for k in (
                "chunk_tokens", "strategy", "context", "layout", "include", "exclude", "max_file_bytes")},
            "generation": dataclasses.asdict(options.gen)}


def _error_row(doc: Document, options: BatchOptions, model: str, error: dict) -> dict:
    row = {"input": doc.input, "content_hash": doc.content_hash, "key": doc.key, "task": options.task,
           "model": model}
    if options.question is not None:
        row["question"] = options.question
    return row | {"error": error}


def run_batch(
    inputs: Sequence[str],
    out: str | os.PathLike,
    options: BatchOptions | None = None,
    observer: Observer | None = None,
) -> BatchSummary:
    """Process every input (`@FILE`: a manifest) into `out`, skipping documents that already have a row.

    Returns the summary; `summary.any_failed` says whether some document has only an error row."""
    from ssmdoc.batch.cluster import import_ray

    options = options or BatchOptions()
    observer = observer or Observer()
    import_ray()  # without Ray there is no batch: say so before hashing a single document
    _validate(options)
    names = expand_inputs(inputs)
    model, checkpoint, replica_bytes = _checkpoint(options)
    identity = _identity(options, model, checkpoint)
    results = ResultsFile(out, options.warn)
    try:
        return _run(names, results, options, observer, model, identity, replica_bytes)
    finally:
        results.close()


def _run(names, results, options, observer, model, identity, replica_bytes) -> BatchSummary:
    summary = BatchSummary(results=str(results.path))
    existing = results.load()
    docs = [document(name, identity, options.max_file_bytes) for name in names]
    summary.documents = len(docs)
    pending: list[Document] = []
    for doc in docs:
        if doc.key in existing.ok:
            summary.skipped += 1
        elif doc.key in existing.failed and not options.retry_failed:
            summary.skipped_failed += 1
        else:
            pending.append(doc)
    work = [doc for doc in pending if doc.error is None]
    summary.to_process = len(pending)
    observer.start(summary)

    def write(row: dict) -> None:
        results.append(row)
        summary.add(row)
        observer.row(row, summary)

    for doc in pending:
        if doc.error is not None:
            write(_error_row(doc, options, model, doc.error))
    if work:
        _on_ray(work, options, model, replica_bytes, summary, write)
    summary.wall_seconds = summary.elapsed()
    return summary


def _on_ray(work: list[Document], options: BatchOptions, model: str, replica_bytes: int, summary, write) -> None:
    from ssmdoc.batch.cluster import connect, size_pool, stream_rows

    spec = WorkerSpec(
        model=model, device=options.device, dtype=options.dtype, threads=options.threads_per_replica,
        task=options.task, question=options.question, chunk_tokens=options.chunk_tokens, strategy=options.strategy,
        context=options.context, gen=options.gen, cwd=os.getcwd(),
        ingest={"password": options.password, "layout": options.layout, "include": tuple(options.include),
                "exclude": tuple(options.exclude), "max_file_bytes": options.max_file_bytes},
        save_states=os.path.abspath(options.save_states) if options.save_states else None,
    )
    if options.save_states:
        try:
            os.makedirs(options.save_states, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create --save-states {options.save_states}: {exc.strerror or exc}") from exc
    items = [{"id": i, "input": d.input, "content_hash": d.content_hash, "key": d.key} for i, d in enumerate(work)]
    with connect(options.ray_address, debug=options.debug) as ray:
        pool = size_pool(ray, options.replicas, options.threads_per_replica, options.gpus_per_replica, len(work),
                         replica_bytes)
        summary.replicas = pool.replicas
        returned: set[int] = set()
        rows = stream_rows(ray, items, spec, pool, options.retries)
        while True:
            try:
                item = next(rows)
            except StopIteration:
                break
            except Exception as exc:  # Ray gave up on the whole job (e.g. no replica could load the model)
                first = (str(exc).strip().splitlines() or [""])[0]
                raise SsmdocError(
                    f"the Ray job stopped after {len(returned):,} of {len(work):,} documents: "
                    f"{type(exc).__name__}: {first}",
                    "the rows written so far are kept, and the same command resumes; --debug shows Ray's logs",
                ) from exc
            if item["id"] in returned:  # a retried task whose first attempt also returned: one row is enough
                continue
            returned.add(item["id"])
            write(json.loads(item["row"]))
    lost = {"message": f"the worker process died while reading this document, {options.retries + 1} times "
                       "(killed, or out of memory)",
            "hint": "give each replica more memory (fewer --replicas, or --gpus-per-replica), or raise --retries"}
    for i, doc in enumerate(work):
        if i not in returned:
            write(_error_row(doc, options, model, lost))


__all__ = ["BatchOptions", "Observer", "run_batch"]
