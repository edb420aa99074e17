"""Write a benchmark's results: bench.json, bench.csv, bench.md and log-log PNG plots (matplotlib, optional).

Also the ssmdoc/other ratios the CLI table and the docs show.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ssmdoc.safe_write import atomic_path, write_text

CSV_FIELDS = ["engine", "tokens", "seconds", "tokens_per_second", "peak_memory_bytes", "ready_rss_bytes",
              "state_ssm_bytes", "state_conv_bytes", "state_kv_bytes", "decode_tokens_per_second", "peak_cuda_bytes",
              "load_seconds", "parameters", "device", "dtype"]

# one colour and marker per engine, the same in every plot
STYLE = {"ssmdoc": ("tab:blue", "o"), "transformers": ("tab:orange", "s"), "attention": ("tab:red", "^")}
LABEL = {"ssmdoc": "ssmdoc", "transformers": "transformers (same checkpoint)",
         "attention": "all-attention baseline (Llama, random)"}


def ratios(rows: list[dict], base: str = "ssmdoc") -> list[dict]:
    """For each length and each other engine measured there: ssmdoc's time and peak memory over the other's."""
    by_key = {(row["engine"], row["tokens"]): row for row in rows}
    out = []
    for (engine, tokens), row in sorted(by_key.items(), key=lambda item: (item[0][1], item[0][0])):
        mine = by_key.get((base, tokens))
        if engine == base or mine is None:
            continue
        out.append({
            "tokens": tokens,
            "other": engine,
            "time_ratio": mine["seconds"] / row["seconds"],
            "memory_ratio": mine["peak_memory_bytes"] / row["peak_memory_bytes"],
        })
    return out


def write_json(result: dict, path: Path) -> Path:
    write_text(path, json.dumps(result, indent=2) + "\n")  # temp file + rename (ssmdoc.safe_write)
    return path


def write_csv(rows: list[dict], path: Path) -> Path:
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            flat = dict(row)
            for key in ("ssm", "conv", "kv"):
                flat[f"state_{key}_bytes"] = row.get("state_bytes", {}).get(key, 0)
            writer.writerow(flat)
    return path


def write_plots(rows: list[dict], out_dir: Path, title: str = "") -> list[Path]:
    """time.png and memory.png: seconds and peak RSS against tokens, log-log, one line per engine.

    Returns the files written; raises ImportError when matplotlib is missing (the caller says so).
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; never open a window or need a display
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    series: dict[str, list[dict]] = {}
    for row in sorted(rows, key=lambda r: r["tokens"]):
        series.setdefault(row["engine"], []).append(row)
    written = []
    for name, key, ylabel, scale in (
        ("time.png", "seconds", "prefill time (s)", 1.0),
        ("memory.png", "peak_memory_bytes", "peak memory, RSS (MiB)", 1 / 2**20),
    ):
        fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
        for engine, points in series.items():
            colour, marker = STYLE.get(engine, (None, "x"))
            ax.plot([p["tokens"] for p in points], [p[key] * scale for p in points], marker=marker,
                    color=colour, label=LABEL.get(engine, engine))
        if key == "seconds" and "ssmdoc" in series:
            _reference_slopes(ax, series["ssmdoc"])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        lengths = sorted({row["tokens"] for row in rows})
        ax.set_xticks(lengths, [_tokens_label(n) for n in lengths])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        if key == "peak_memory_bytes":  # memory often spans less than a decade: label the minor ticks too
            ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        else:
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("tokens")
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out_dir / name
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix.lstrip("."))
        plt.close(fig)
        written.append(path)
    return written


def _tokens_label(n: int) -> str:
    for unit, size in (("M", 1 << 20), ("K", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


def _reference_slopes(ax, points: list[dict]) -> None:
    """Grey guides through ssmdoc's first point: time ~ tokens (linear) and ~ tokens^2 (quadratic)."""
    if len(points) < 2:
        return
    t0, s0 = points[0]["tokens"], points[0]["seconds"]
    xs = [t0, points[-1]["tokens"]]
    for k, style in ((1, ":"), (2, "--")):
        ax.plot(xs, [s0 * (x / t0) ** k for x in xs], style, color="grey", linewidth=0.8,
                label="~ tokens" if k == 1 else "~ tokens²")


def write_outputs(result: dict, out_dir: Path, title: str = "", plots: bool = True) -> tuple[list[Path], str | None]:
    """bench.json, bench.csv, bench.md and the plots in `out_dir`; (files written, a note when plots were skipped)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [write_json(result, out_dir / "bench.json"), write_csv(result["rows"], out_dir / "bench.csv")]
    write_text(out_dir / "bench.md", to_markdown(result))
    written.append(out_dir / "bench.md")
    note = None
    if plots and result["rows"]:
        try:
            written += write_plots(result["rows"], out_dir, title)
        except ImportError:
            note = "plots skipped: matplotlib is not installed (pip install 'ssmdoc[plot]')"
    return written, note


def _mib(n: int) -> str:
    return f"{n / 2**20:,.1f}"


def _state(state: dict) -> str:
    parts = [f"{key} {_kib(value)}" for key, value in state.items() if value]
    return ", ".join(parts) or "0"


def _kib(n: int) -> str:
    return f"{n / 2**10:,.1f} KiB" if n < 2**20 else f"{n / 2**20:,.1f} MiB"


def to_markdown(result: dict) -> str:
    """The rows, fits, ratios, notes and machine of a run as Markdown (what docs/benchmarks.md quotes)."""
    # "peak over loaded": the peak minus the RSS once weights were loaded, i.e. what reading the input cost
    lines = ["| tokens | engine | prefill s | tokens/s | peak RSS MiB | peak over loaded MiB | state after prefill "
             "| decode tokens/s |", "|---:|:---|---:|---:|---:|---:|:---|---:|"]
    for row in sorted(result["rows"], key=lambda r: (r["tokens"], r["engine"] != "ssmdoc", r["engine"])):
        decode = row.get("decode_tokens_per_second")
        ready = row.get("ready_rss_bytes")
        lines.append(f"| {row['tokens']:,} | {row['engine']} | {row['seconds']:.3g} | {row['tokens_per_second']:,.0f} "
                     f"| {_mib(row['peak_memory_bytes'])} | {_mib(row['peak_memory_bytes'] - ready) if ready else '-'} "
                     f"| {_state(row['state_bytes'])} | {f'{decode:,.1f}' if decode else '-'} |")
    lines += ["", "| engine | time exponent k (time ~ tokens^k) | r² | lengths | peak RSS spread |",
              "|:---|---:|---:|---:|---:|"]
    for engine, fit in result["fit"].items():
        memory = fit.get("peak_memory_spread")
        lines.append(f"| {engine} | {fit['exponent']:.3f} | {fit['r_squared']:.3f} | {fit['points']} "
                     f"| {f'{100 * memory:.1f}%' if memory is not None else '-'} |")
    if result.get("ratios"):
        lines += ["", "| tokens | other engine | time ssmdoc/other | peak RSS ssmdoc/other |", "|---:|:---|---:|---:|"]
        for r in result["ratios"]:
            lines.append(f"| {r['tokens']:,} | {r['other']} | {r['time_ratio']:.3g} | {r['memory_ratio']:.3g} |")
    if result.get("notes"):
        lines += [""] + [f"- {note}" for note in result["notes"]]
    m = result.get("machine", {})
    ram = f"{m['ram_bytes'] / 2**30:.1f} GiB" if m.get("ram_bytes") else "?"
    lines += ["", f"Machine: {m.get('cpu')}, {m.get('cores')} cores, {ram} RAM, torch {m.get('torch')}, "
              f"transformers {m.get('transformers')}, device {m.get('device')}, {m.get('torch_threads')} torch "
              f"threads; {m.get('date')}, commit {m.get('commit')}."]
    return "\n".join(lines) + "\n"
