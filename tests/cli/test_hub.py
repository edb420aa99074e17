"""Model resolution without the network: offline errors, the cache, local directories."""

import json
import subprocess
import sys

import pytest

from ssmdoc.errors import ModelError
from ssmdoc.hub import DEFAULT_MODEL, cached_models, resolve_checkpoint

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def empty_hf_home(tmp_path, monkeypatch):
    # Never let a test reach for the Hub: offline, and a cache of our own.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    return tmp_path / "hf"


def fake_cache_entry(hf_home, repo_id):
    """The layout huggingface_hub writes: blobs/, refs/main -> commit, snapshots/<commit>/ files."""
    repo = hf_home / "hub" / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / COMMIT
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    (repo / "blobs").mkdir()
    for name, content in {"config.json": json.dumps({"model_type": "mamba"}), "model.safetensors": "x" * 64}.items():
        blob = repo / "blobs" / f"blob-{name}"
        blob.write_text(content)
        (snap / name).symlink_to(blob)
    return snap


def test_offline_without_cache_is_a_model_error_with_a_download_hint(empty_hf_home):
    with pytest.raises(ModelError) as info:
        resolve_checkpoint("someone/some-model")
    assert "not in the local cache" in info.value.message
    assert "hf download someone/some-model" in info.value.hint
    assert "--model" in info.value.hint


def test_a_cached_snapshot_is_found_offline_and_listed(empty_hf_home):
    snap = fake_cache_entry(empty_hf_home, "org/tiny-mamba")
    assert resolve_checkpoint("org/tiny-mamba") == snap
    models = cached_models()
    assert [m.repo_id for m in models] == ["org/tiny-mamba"]
    assert models[0].has_weights and models[0].snapshot == snap


def test_no_cache_lists_nothing(empty_hf_home):
    assert cached_models() == []


def test_a_local_directory_passes_through(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    assert resolve_checkpoint(tmp_path) == tmp_path
    assert resolve_checkpoint(str(tmp_path)) == tmp_path


@pytest.mark.parametrize("name", ["./no/such/dir", "/no/such/dir", "a/b/c"])
def test_missing_paths_are_model_errors(name, empty_hf_home):
    with pytest.raises(ModelError, match="not a directory"):
        resolve_checkpoint(name)


def test_a_directory_without_config_is_refused(tmp_path):
    with pytest.raises(ModelError, match="no config.json"):
        resolve_checkpoint(tmp_path)


@pytest.mark.parametrize("name", ["bad repo id", "org/na me", "org--x/y"])
def test_invalid_repo_ids_are_model_errors(name, empty_hf_home):
    with pytest.raises(ModelError, match="valid Hub repo id"):
        resolve_checkpoint(name)


def test_default_model_is_the_jamba2_checkpoint():
    assert DEFAULT_MODEL == "ai21labs/AI21-Jamba2-3B"


def test_offline_read_at_call_time_in_a_fresh_process(tmp_path):
    # HF_HUB_OFFLINE set before import (the usual way) must behave the same as set late.
    code = "from ssmdoc.hub import resolve_checkpoint\nresolve_checkpoint('org/absent')"
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "ModelError" in proc.stderr


def test_models_command_lists_architectures_recommendations_and_the_cache(empty_hf_home):
    from typer.testing import CliRunner

    from ssmdoc.cli import app

    snap = fake_cache_entry(empty_hf_home, "org/tiny-mamba")
    (snap / "config.json").unlink()  # a real config this time: the command reads the architecture
    (snap / "config.json").write_text(json.dumps({"architectures": ["MambaForCausalLM"], "vocab_size": 16,
                                                  "hidden_size": 8, "num_hidden_layers": 1, "state_size": 4}))
    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.stderr
    info = json.loads(result.stdout)
    assert {"MambaForCausalLM", "JambaForCausalLM"} <= {a["architecture"] for a in info["architectures"]}
    assert info["default"] == DEFAULT_MODEL
    assert info["recommended"] and not any(r["cached"] for r in info["recommended"])
    assert {r["config_checked"] for r in info["recommended"]} <= {"exact", "partial"}
    (cached,) = info["cached"]
    assert cached["repo_id"] == "org/tiny-mamba" and cached["architecture"] == "MambaForCausalLM"
    table = CliRunner().invoke(app, ["models"])
    assert table.exit_code == 0 and "org/tiny-mamba" in table.stdout and "hf download" not in table.stdout


def test_models_command_with_an_empty_cache_says_how_to_download(empty_hf_home):
    from typer.testing import CliRunner

    from ssmdoc.cli import app

    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0
    assert f"hf download {DEFAULT_MODEL}" in result.stdout


def test_every_supported_architecture_is_described():
    from ssmdoc.models.families import all_families

    assert all(f.layout for f in all_families())


def test_readme_lists_every_supported_architecture_and_the_default_model():
    from pathlib import Path

    from ssmdoc.models.families import all_families

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert all(f"`{f.architecture}`" in readme for f in all_families())
    assert f"hf download {DEFAULT_MODEL}" in readme
