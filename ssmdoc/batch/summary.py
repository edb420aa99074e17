"""What a batch did: documents done, skipped and failed, tokens, time, and each replica's rate and memory."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class ReplicaStats:
    replica: str
    node: str
    documents: int = 0
    input_tokens: int = 0
    busy_seconds: float = 0.0  # time spent on its documents (model loading excluded)
    peak_memory_bytes: int = 0  # the largest process peak RSS any of its documents reported
    pids: set[int] = field(default_factory=set)  # more than one: the replica's process died and was restarted

    def to_dict(self) -> dict:
        return {"replica": self.replica, "node": self.node, "documents": self.documents,
                "input_tokens": self.input_tokens, "busy_seconds": round(self.busy_seconds, 3),
                "tokens_per_second": round(self.input_tokens / self.busy_seconds, 1) if self.busy_seconds else 0.0,
                "peak_memory_bytes": self.peak_memory_bytes, "processes": len(self.pids)}


@dataclass
class BatchSummary:
    documents: int = 0  # distinct inputs in this batch
    to_process: int = 0  # sent to the workers this run
    done: int = 0  # rows written this run, successes
    failed: int = 0  # error rows written this run
    skipped: int = 0  # already had a successful row
    skipped_failed: int = 0  # already had only an error row (not retried without --retry-failed)
    input_tokens: int = 0
    replicas: int = 0
    started: float = field(default_factory=time.perf_counter)
    wall_seconds: float = 0.0
    per_replica: dict[str, ReplicaStats] = field(default_factory=dict)
    results: str = ""

    @property
    def finished(self) -> int:
        return self.done + self.failed

    @property
    def any_failed(self) -> bool:
        return self.failed > 0 or self.skipped_failed > 0

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def tokens_per_second(self) -> float:
        elapsed = self.wall_seconds or self.elapsed()
        return self.input_tokens / elapsed if elapsed > 0 else 0.0

    def add(self, row: dict) -> None:
        if "error" in row:
            self.failed += 1
        else:
            self.done += 1
            self.input_tokens += row["report"]["input_tokens"]
        worker = row.get("worker")
        if worker:
            stats = self.per_replica.setdefault(worker["replica"], ReplicaStats(worker["replica"], worker["node"]))
            stats.documents += 1
            stats.busy_seconds += worker.get("seconds", 0.0)
            stats.pids.add(worker["pid"])
            if "report" in row:
                stats.input_tokens += row["report"]["input_tokens"]
                stats.peak_memory_bytes = max(stats.peak_memory_bytes, row["report"].get("peak_memory_bytes", 0))

    def to_dict(self) -> dict:
        return {
            "results": self.results, "documents": self.documents, "processed": self.finished,
            "succeeded": self.done, "failed": self.failed, "skipped": self.skipped,
            "skipped_failed": self.skipped_failed, "input_tokens": self.input_tokens, "replicas": self.replicas,
            "wall_seconds": round(self.wall_seconds, 3), "tokens_per_second": round(self.tokens_per_second(), 1),
            "per_replica": [s.to_dict() for s in self.per_replica.values()],
        }


def render_summary(summary: BatchSummary, console=None) -> None:
    """The final report on stderr: the batch in total, then one line per replica."""
    from rich.console import Console
    from rich.table import Table

    from ssmdoc.report import human_bytes

    console = console or Console(stderr=True, highlight=False)
    table = Table(title="ssmdoc batch", title_justify="left", show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("documents", f"{summary.documents:,}")
    table.add_row("processed", f"{summary.finished:,}  ({summary.done:,} succeeded, {summary.failed:,} failed)")
    skipped = f"{summary.skipped:,}"
    if summary.skipped_failed:
        skipped += f"  (+{summary.skipped_failed:,} that failed before; --retry-failed tries them again)"
    table.add_row("skipped (rows exist)", skipped)
    table.add_row("input tokens", f"{summary.input_tokens:,}")
    table.add_row("replicas", f"{summary.replicas}")
    table.add_row("wall time", f"{summary.wall_seconds:,.2f} s")
    table.add_row("tokens/s (total)", f"{summary.tokens_per_second():,.1f}")
    table.add_row("results", summary.results)
    console.print(table)
    if summary.per_replica:
        per = Table(box=None, pad_edge=False, header_style="bold")
        for name in ("replica", "node", "documents", "tokens", "busy s", "tokens/s", "peak memory", "restarts"):
            per.add_column(name, justify="left" if name in ("replica", "node") else "right")
        for s in summary.per_replica.values():
            d = s.to_dict()
            per.add_row(s.replica, s.node, f"{s.documents:,}", f"{s.input_tokens:,}", f"{s.busy_seconds:,.2f}",
                        f"{d['tokens_per_second']:,.1f}", human_bytes(s.peak_memory_bytes), f"{len(s.pids) - 1}")
        console.print(per)
