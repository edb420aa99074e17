"""What a run read and what it cost: the report printed after every answer.

The keys of `Report.to_dict()` are a public contract (`--json` consumers rely on them); they are exactly the
fields below, with `peak_cuda_bytes` present only when the model ran on CUDA and `resumed` only when the
document was not read but restored from a saved state.
"""

from __future__ import annotations

import os
import resource
import sys
from dataclasses import asdict, dataclass, field


@dataclass
class Report:
    input_tokens: int = 0  # document tokens read (all sources, all windows); prompts not included
    model_context_tokens: int | None = None  # the context planned with; None = unknown (never "unlimited")
    # where that number comes from: "config" (config.json), "known" (a release's documented training length),
    # "--context" (the user's), "unknown"
    model_context_source: str = "unknown"
    strategy: str = "stream"  # what actually ran: "stream" or "map-reduce"
    chunks: int = 0  # document chunks fed to the model
    chunk_tokens: int = 0  # the chunk size asked for (the last chunk of each window may be shorter)
    state_bytes: dict[str, int] = field(default_factory=lambda: {"ssm": 0, "conv": 0, "kv": 0})  # at their peak
    transformer_kv_equivalent_bytes: int = 0  # KV of an all-attention model of the same shape: prompt+input+answer
    weights_bytes: int = 0
    peak_memory_bytes: int = 0  # process RSS peak
    peak_cuda_bytes: int | None = None  # torch allocator peak; only on CUDA
    prefill_tokens_per_second: float = 0.0  # document + prompt tokens fed without sampling
    decode_tokens_per_second: float = 0.0  # tokens generated
    elapsed_seconds: float = 0.0
    # Only when resuming from a saved state: {"state_file", "tokens", "read_seconds"}: the document tokens the
    # state stands for, and what reading them cost when the state was made (time this run did not spend).
    resumed: dict | None = None
    # Not a report key: the attention KV window of `watch`, shown beside the strategy in the table.
    kv_window: int | None = field(default=None, repr=False)

    def note_state(self, nbytes: dict[str, int]) -> None:
        """Keep the peak of each state component (they peak at different times in map-reduce and watch)."""
        for key in ("ssm", "conv", "kv"):
            self.state_bytes[key] = max(self.state_bytes.get(key, 0), int(nbytes.get(key, 0)))

    def to_dict(self) -> dict:
        d = asdict(self)
        del d["kv_window"]
        for optional in ("peak_cuda_bytes", "resumed"):
            if d[optional] is None:
                del d[optional]
        return d


def peak_rss_bytes() -> int:
    """The process's peak resident set size so far (Linux reports ru_maxrss in KiB, macOS in bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = peak if sys.platform == "darwin" else peak * 1024
    try:  # psutil's current RSS can exceed a stale ru_maxrss on some kernels; take the larger
        import psutil

        peak = max(peak, psutil.Process(os.getpid()).memory_info().rss)
    except Exception:  # pragma: no cover - psutil missing or restricted /proc
        pass
    return int(peak)


def human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def render_report(report: Report, console=None) -> None:
    """Print the report as a two-column table (on stderr unless another console is given)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(stderr=True)
    s = report.state_bytes
    state_total = sum(s.values())
    table = Table(title="ssmdoc report", show_header=False, title_justify="left", box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    context = ("unknown" if report.model_context_tokens is None else f"{report.model_context_tokens:,}"
               + {"config": "  (config.json)", "known": "  (known training length)",
                  "--context": "  (--context)"}.get(report.model_context_source, ""))
    rows = [
        ("input tokens", f"{report.input_tokens:,}"),
        ("model context", context),
        ("strategy", report.strategy + (f" (attention keeps the last {report.kv_window:,} tokens)"
                                         if report.kv_window else "")),
        # no chunks row for a resumed run (nothing was read now): a meaningless "0 x <= 2,048" otherwise
        *([("chunks", f"{report.chunks:,} x <= {report.chunk_tokens:,} tokens")] if report.chunks else []),
        (
            "state (peak)",
            f"{human_bytes(state_total)}  (ssm {human_bytes(s['ssm'])}, conv {human_bytes(s['conv'])}, "
            f"kv {human_bytes(s['kv'])})",
        ),
        ("transformer KV equivalent", human_bytes(report.transformer_kv_equivalent_bytes)),
        ("weights", human_bytes(report.weights_bytes)),
        ("peak memory (RSS)", human_bytes(report.peak_memory_bytes)),
    ]
    if report.peak_cuda_bytes is not None:
        rows.append(("peak CUDA memory", human_bytes(report.peak_cuda_bytes)))
    if report.resumed is not None:
        r = report.resumed
        rows.append(("resumed from", f"{r['state_file']}: {r['tokens']:,} tokens, reading them took "
                                     f"{r['read_seconds']:.2f} s"))
    # A rate is shown only for work that was done (`ssmdoc read` generates nothing: no "decode 0.0").
    if report.prefill_tokens_per_second:
        rows.append(("prefill", f"{report.prefill_tokens_per_second:,.1f} tokens/s"))
    if report.decode_tokens_per_second:
        rows.append(("decode", f"{report.decode_tokens_per_second:,.1f} tokens/s"))
    rows.append(("elapsed", f"{report.elapsed_seconds:.2f} s"))
    from rich.text import Text

    from ssmdoc.terminal import safe

    for name, value in rows:
        table.add_row(name, Text(safe(value)))  # Text: a state file named "[b]x" is not markup
    console.print(table)
