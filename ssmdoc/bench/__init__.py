"""ssmdoc.bench: time and memory against context length, ssmdoc beside transformers and an attention model.

Each measurement (one engine at one length) runs in a fresh `python -m ssmdoc.bench.worker` process, so the
peak memory it reports is its own. `run_bench` drives the workers and applies the caps; `fit_exponent` is the
least-squares slope of log seconds against log tokens; `write_outputs` writes bench.json, bench.csv and the
PNG plots. The CLI (`ssmdoc bench`) is a thin layer over these.
"""

from ssmdoc.bench.fit import fit_all, fit_exponent
from ssmdoc.bench.harness import ENGINES, BenchResult, BenchSpec, run_bench
from ssmdoc.bench.options import parse_bytes, parse_lengths

__all__ = [
    "ENGINES",
    "BenchResult",
    "BenchSpec",
    "fit_all",
    "fit_exponent",
    "parse_bytes",
    "parse_lengths",
    "run_bench",
]
