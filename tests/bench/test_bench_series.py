"""The series logic of run_bench (order, caps, --compare-max-tokens, repeats) with a fake worker: no processes."""

import pytest

from ssmdoc.bench import BenchSpec, harness, run_bench


@pytest.fixture
def fake(monkeypatch):
    """Replace the worker: time = tokens**k * 1e-3 per engine, memory = tokens * m + 100; records the calls."""
    calls = []
    laws = {"ssmdoc": (1.0, 0), "transformers": (2.0, 10), "attention": (2.0, 50)}

    def run_one(spec, engine, tokens):
        calls.append((engine, tokens))
        k, m = laws[engine]
        row = {"engine": engine, "tokens": tokens, "seconds": tokens**k * 1e-3,
               "tokens_per_second": tokens / (tokens**k * 1e-3), "peak_memory_bytes": tokens * m + 100,
               "state_bytes": {"ssm": 1, "conv": 1, "kv": 0}}
        return harness._Outcome(row=row, info={"device_name": "cpu", "torch_threads": 1})

    monkeypatch.setattr(harness, "run_one", run_one)
    monkeypatch.setattr("ssmdoc.bench.machine.machine_info", lambda: {"cpu": "fake"})
    return calls


def test_lengths_outer_engines_inner_and_exponents(fake):
    result = run_bench(BenchSpec(checkpoint="x", lengths=[10, 20, 40], engines=["ssmdoc", "transformers"]))
    assert fake == [("ssmdoc", 10), ("transformers", 10), ("ssmdoc", 20), ("transformers", 20), ("ssmdoc", 40),
                    ("transformers", 40)]
    assert result.fit["ssmdoc"]["exponent"] == pytest.approx(1.0)
    assert result.fit["transformers"]["exponent"] == pytest.approx(2.0)
    assert result.fit["ssmdoc"]["peak_memory_spread"] == 0
    assert result.stopped == {} and result.machine["device"] == "cpu"


def test_time_cap_keeps_the_measured_row_and_stops_only_that_engine(fake):
    # transformers: 0.1 s at 10, 0.4 s at 20 (> 0.3 cap) -> stops; ssmdoc: 0.01 .. 0.04 s goes on
    spec = BenchSpec(checkpoint="x", lengths=[10, 20, 40], engines=["ssmdoc", "transformers"], max_seconds=0.3)
    result = run_bench(spec)
    assert [(r["engine"], r["tokens"]) for r in result.rows if r["engine"] == "transformers"] == [
        ("transformers", 10), ("transformers", 20)]
    assert ("transformers", 40) not in fake and ("ssmdoc", 40) in fake
    assert "stopped after 20 tokens" in result.stopped["transformers"] and "--max-seconds" in result.stopped[
        "transformers"]


def test_memory_cap(fake):
    spec = BenchSpec(checkpoint="x", lengths=[10, 20, 40], engines=["ssmdoc", "attention"], max_memory=700)
    result = run_bench(spec)  # attention: 600 at 10, 1100 at 20
    assert "--max-memory" in result.stopped["attention"] and ("attention", 40) not in fake


def test_compare_max_tokens(fake):
    spec = BenchSpec(checkpoint="x", lengths=[10, 20, 40], engines=["ssmdoc", "transformers"],
                     max_tokens={"transformers": 20})
    result = run_bench(spec)
    assert ("transformers", 40) not in fake and ("ssmdoc", 40) in fake
    assert "not run past 20 tokens" in result.stopped["transformers"]


def test_a_failed_measurement_ends_the_series_with_its_reason(fake, monkeypatch):
    real = harness.run_one

    def failing(spec, engine, tokens):
        if engine == "transformers" and tokens == 20:
            return harness._Outcome(failure="killed by signal 9 (out of memory?)")
        return real(spec, engine, tokens)

    monkeypatch.setattr(harness, "run_one", failing)
    result = run_bench(BenchSpec(checkpoint="x", lengths=[10, 20, 40], engines=["ssmdoc", "transformers"]))
    assert result.stopped["transformers"] == "stopped at 20 tokens: killed by signal 9 (out of memory?)"
    assert "transformers" not in result.fit  # one length only
    assert any("one length measured" in note for note in result.notes)


def test_repeats_keep_the_fastest(monkeypatch):
    times = iter([3.0, 1.0, 2.0])

    def run_one(spec, engine, tokens):
        return harness._Outcome(row={"engine": engine, "tokens": tokens, "seconds": next(times),
                                     "tokens_per_second": 1.0, "peak_memory_bytes": 1, "state_bytes": {}})

    monkeypatch.setattr(harness, "run_one", run_one)
    result = run_bench(BenchSpec(checkpoint="x", lengths=[10], repeats=3))
    assert [r["seconds"] for r in result.rows] == [1.0]


def test_results_so_far_after_every_measurement(fake):
    seen = []
    spec = BenchSpec(checkpoint="x", lengths=[10, 20], engines=["ssmdoc", "transformers"],
                     max_tokens={"transformers": 10})
    final = run_bench(spec, on_update=lambda partial: seen.append(len(partial.rows)))
    assert seen == [1, 2, 3]  # transformers is not run at 20: no measurement, no update
    assert len(final.rows) == 3
