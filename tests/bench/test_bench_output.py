"""bench.json / bench.csv / the plots and the ssmdoc/other ratios, from rows made up here (no model run)."""

import csv
import json
import sys

import pytest

from ssmdoc.bench.output import ratios, write_outputs

PNG = b"\x89PNG\r\n\x1a\n"


def _row(engine, tokens, seconds, peak, kv=0):
    return {"engine": engine, "tokens": tokens, "seconds": seconds, "tokens_per_second": tokens / seconds,
            "peak_memory_bytes": peak, "state_bytes": {"ssm": 100, "conv": 10, "kv": kv}}


ROWS = [_row("ssmdoc", 1000, 1.0, 400), _row("transformers", 1000, 4.0, 800, kv=5),
        _row("ssmdoc", 2000, 2.0, 400), _row("transformers", 2000, 16.0, 1600, kv=9)]


def test_ratios_are_ssmdoc_over_the_other_at_each_length():
    got = ratios(ROWS)
    assert [(r["tokens"], r["other"]) for r in got] == [(1000, "transformers"), (2000, "transformers")]
    assert got[0]["time_ratio"] == pytest.approx(0.25) and got[0]["memory_ratio"] == pytest.approx(0.5)
    assert got[1]["time_ratio"] == pytest.approx(0.125) and got[1]["memory_ratio"] == pytest.approx(0.25)


def test_a_length_without_ssmdoc_has_no_ratio():
    assert ratios([_row("transformers", 1000, 1.0, 1)]) == []


def test_json_csv_and_plots(tmp_path):
    files, note = write_outputs({"rows": ROWS, "fit": {}}, tmp_path / "out", title="t")
    assert note is None
    names = sorted(p.name for p in files)
    assert names == ["bench.csv", "bench.json", "bench.md", "memory.png", "time.png"]
    assert json.loads((tmp_path / "out" / "bench.json").read_text())["rows"] == ROWS
    with (tmp_path / "out" / "bench.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["engine"], int(r["tokens"]), float(r["seconds"])) for r in rows] == [
        (r["engine"], r["tokens"], r["seconds"]) for r in ROWS]
    assert [int(r["state_kv_bytes"]) for r in rows] == [0, 5, 0, 9]
    for name in ("time.png", "memory.png"):
        data = (tmp_path / "out" / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 1000


def test_missing_matplotlib_is_a_note_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` raise ImportError
    files, note = write_outputs({"rows": ROWS, "fit": {}}, tmp_path)
    assert sorted(p.name for p in files) == ["bench.csv", "bench.json", "bench.md"]
    assert "matplotlib" in note and "ssmdoc[plot]" in note
    assert not (tmp_path / "time.png").exists()


def test_markdown_quotes_every_row_fit_and_ratio(tmp_path):
    from ssmdoc.bench import fit_all
    from ssmdoc.bench.output import to_markdown

    result = {"rows": ROWS, "fit": fit_all(ROWS), "ratios": ratios(ROWS), "notes": ["x: stopped"],
              "machine": {"cpu": "CPU-Z", "cores": 2, "ram_bytes": 2**30}}
    text = to_markdown(result)
    assert text.count("| ssmdoc |") == 3  # two rows and the fit
    assert "| transformers | 2.000 |" in text  # 4 s -> 16 s when tokens double
    assert "| 2,000 | transformers | 0.125 | 0.25 |" in text
    assert "- x: stopped" in text and "CPU-Z, 2 cores, 1.0 GiB RAM" in text
    write_outputs(result, tmp_path)
    assert (tmp_path / "bench.md").read_text() == text
