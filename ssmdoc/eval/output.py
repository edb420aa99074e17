"""What `ssmdoc eval` writes: the per-case JSONL log (resumable), the summary JSON, the table, the heatmap.

Whole files (summary, heatmap) are written to a temporary file beside the target and renamed over it, so an
interrupted run never leaves a half-written file where a good one stood. The JSONL log is appended one
complete line per case (one write each); a line cut short by a crash is dropped when the run resumes.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ssmdoc.errors import UsageError


def atomic_write(path: str | Path, write: Callable[[str], None]) -> None:
    """Call `write(tmp_path)`, then rename the temporary file to `path` (same directory, same filesystem)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; the result is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    atomic_write(path, write)


class CaseLog:
    """cases.jsonl: a first line {"run": <settings>}, then one row per case in the order they finished."""

    def __init__(self, path: str | Path, meta: dict):
        self.path = Path(path)
        self.meta = meta

    def load(self) -> dict:
        """Rows already run, by case key; starts the file when there is none. A log made with other
        settings is refused (its cases would not be comparable)."""
        if not self.path.exists():
            write_text(self.path, json.dumps({"run": self.meta}) + "\n")
            return {}
        lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        good: list[str] = []
        rows: dict = {}
        for i, line in enumerate(lines):
            try:
                item = json.loads(line)
                if not line.endswith("\n"):
                    raise ValueError("unterminated line")
            except ValueError:
                if i == len(lines) - 1:
                    break  # the last line was being written when the run stopped: run that case again
                raise UsageError(f"{self.path} line {i + 1} is not JSON", "remove the file to start over") from None
            if i == 0:
                if not isinstance(item, dict) or item.get("run") != self.meta:
                    raise UsageError(
                        f"{self.path} holds a run with other settings",
                        "use another --out directory, or the same options as that run",
                    )
            else:
                rows[(item["length"], round(item["depth"], 6), item["trial"])] = item
            good.append(line)
        if len(good) < len(lines):
            write_text(self.path, "".join(good))
        return rows

    def append(self, row: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


def _depth_label(d: float) -> str:
    return f"{d:g}"


def _length_label(n: int) -> str:
    return f"{n // 1024}K" if n % 1024 == 0 else str(n)


def render_table(result) -> str:
    """Rows: depths; columns: lengths; each cell `accuracy (mean log-prob)`."""
    lengths = list(dict.fromkeys(c.length for c in result.cells))
    depths = list(dict.fromkeys(c.depth for c in result.cells))
    by = {(c.length, c.depth): c for c in result.cells}
    header = ["depth"] + [_length_label(n) for n in lengths]
    body = []
    for d in depths:
        row = [_depth_label(d)]
        for n in lengths:
            c = by.get((n, d))
            lp = "" if c is None or c.mean_logprob is None else f" ({c.mean_logprob:.1f})"
            row.append("-" if c is None else f"{c.accuracy:.2f}{lp}")
        body.append(row)
    means = ["all"]
    for n in lengths:
        col = [c for c in result.cells if c.length == n]
        total = sum(c.trials for c in col)
        means.append(f"{sum(c.accuracy * c.trials for c in col) / total:.2f}" if total else "-")
    body.append(means)
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in body]
    trials = max((c.trials for c in result.cells), default=0)
    return (
        f"exact-match accuracy (mean log-prob of the code, nats) by haystack length (tokens) and needle depth; "
        f"{trials} trials per cell\n" + "\n".join(lines) + "\n"
    )


def write_heatmap(result, path: str | Path, title: str) -> bool:
    """Accuracy and mean log-prob heatmaps (depth x length) as one PNG. False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    lengths = list(dict.fromkeys(c.length for c in result.cells))
    depths = list(dict.fromkeys(c.depth for c in result.cells))
    by = {(c.length, c.depth): c for c in result.cells}
    nan = float("nan")
    acc = [[by[(n, d)].accuracy if (n, d) in by else nan for n in lengths] for d in depths]
    lp = [[(by[(n, d)].mean_logprob if (n, d) in by and by[(n, d)].mean_logprob is not None else nan)
           for n in lengths] for d in depths]
    fig, axes = plt.subplots(1, 2, figsize=(4 + 1.3 * len(lengths) * 2, 1.5 + 0.5 * len(depths)))
    panels = ((axes[0], acc, "exact match", "RdYlGn", 0.0, 1.0, "{:.2f}"),
              (axes[1], lp, "mean log-prob of the code (nats)", "viridis", None, None, "{:.1f}"))
    for ax, data, label, cmap, vmin, vmax, fmt in panels:
        im = ax.imshow(data, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
        ax.set_xticks(range(len(lengths)), [_length_label(n) for n in lengths])
        ax.set_yticks(range(len(depths)), [_depth_label(d) for d in depths])
        ax.set_xlabel("haystack length (tokens)")
        ax.set_ylabel("needle depth")
        ax.set_title(label, fontsize=10)
        for y, row in enumerate(data):
            for x, v in enumerate(row):
                if v == v:  # not NaN
                    ax.text(x, y, fmt.format(v), ha="center", va="center", fontsize=8)
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()

    def save(tmp: str) -> None:
        fig.savefig(tmp, format="png", dpi=100)

    try:
        atomic_write(path, save)
    finally:
        plt.close(fig)
    return True
