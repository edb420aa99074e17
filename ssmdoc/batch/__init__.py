"""Many documents on Ray Data: one JSONL row per document, resumable, from an actor pool of loaded engines.

    from ssmdoc.batch import BatchOptions, run_batch

    summary = run_batch(["a.pdf", "b.pdf", "repo/"], "results.jsonl", BatchOptions(model="state-spaces/mamba-130m-hf"))

Each row is what `ssmdoc summarize DOC --json` (or `ask`) prints for that document, plus `input`,
`content_hash`, `key` and `worker`; a document that failed has `"error": {"message", "hint"}` instead.
Ray is an optional extra (`pip install "ssmdoc[ray]"`); this package imports it only when a batch runs.
"""

from ssmdoc.batch.run import BatchOptions, Observer, run_batch
from ssmdoc.batch.summary import BatchSummary, render_summary

__all__ = ["BatchOptions", "BatchSummary", "Observer", "render_summary", "run_batch"]
