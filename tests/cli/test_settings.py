"""Settings: SSMDOC_* environment variables and $XDG_CONFIG_HOME/ssmdoc/config.toml, with the precedence
flag > environment > file > default, checked through real runs; `ssmdoc config` says where each value
came from; --threads on every command that runs a model."""

import json

import pytest
import torch
from typer.testing import CliRunner

from ssmdoc.cli import app
from ssmdoc.cli.common import DEFAULTS
from ssmdoc.settings import SETTINGS


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SSMDOC_CONFIG", raising=False)
    for s in SETTINGS:
        monkeypatch.delenv(s.env, raising=False)
    path = tmp_path / "xdg" / "ssmdoc" / "config.toml"
    path.parent.mkdir(parents=True)
    return path


def invoke(*args, env=None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def summarize_json(log, *extra, env=None) -> dict:
    result = invoke("summarize", log, "--max-new-tokens", "2", "--json", *extra, env=env)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_precedence_flag_over_env_over_file_over_default(config_home, mamba_ckpt, jamba_ckpt, examples):
    log = examples["log"]
    assert summarize_json(log, "--model", mamba_ckpt)["report"]["chunk_tokens"] == 2048  # the default
    config_home.write_text(f'model = "{mamba_ckpt}"\nchunk_tokens = 64\n')
    out = summarize_json(log)  # no --model at all: the file names it
    assert out["model"] == str(mamba_ckpt) and out["report"]["chunk_tokens"] == 64
    out = summarize_json(log, env={"SSMDOC_CHUNK_TOKENS": "128", "SSMDOC_MODEL": str(jamba_ckpt)})
    assert out["model"] == str(jamba_ckpt) and out["report"]["chunk_tokens"] == 128
    out = summarize_json(log, "--chunk-tokens", "256", "--model", mamba_ckpt,
                         env={"SSMDOC_CHUNK_TOKENS": "128", "SSMDOC_MODEL": str(jamba_ckpt)})
    assert out["model"] == str(mamba_ckpt) and out["report"]["chunk_tokens"] == 256


def test_config_command_says_where_each_value_comes_from(config_home):
    config_home.write_text('device = "cpu"\nthreads = 3\n')
    result = invoke("config", "--json", env={"SSMDOC_THREADS": "2"})
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["file"] == str(config_home) and out["file_exists"] is True
    by_key = {s["key"]: s for s in out["settings"]}
    assert by_key["device"]["value"] == "cpu" and by_key["device"]["source"] == "file"
    assert by_key["threads"]["value"] == 2 and by_key["threads"]["source"] == "env"
    assert by_key["dtype"]["value"] == "auto" and by_key["dtype"]["source"] == "default"
    text = invoke("config", env={"SSMDOC_THREADS": "2"}).stdout
    assert f"file {config_home}" in text and "env SSMDOC_THREADS" in text


def test_ssmdoc_config_env_var_points_at_another_file(tmp_path, config_home, monkeypatch):
    other = tmp_path / "other.toml"
    other.write_text('dtype = "float32"\n')
    monkeypatch.setenv("SSMDOC_CONFIG", str(other))
    by_key = {s["key"]: s for s in json.loads(invoke("config", "--json").stdout)["settings"]}
    assert by_key["dtype"]["value"] == "float32"


@pytest.mark.parametrize("content, words", [
    ('modle = "x"\n', "unknown setting 'modle'"),
    ("threads = 'many'\n", "threads must be a int"),
    ("model = \n", "not valid TOML"),
])
def test_a_bad_config_file_is_one_error_line(config_home, examples, content, words):
    config_home.write_text(content)
    result = invoke("summarize", examples["log"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: config file ") and words in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_defaults_are_the_options_defaults():
    for s in SETTINGS:
        if s.key in DEFAULTS:
            assert DEFAULTS[s.key] == s.default, s.key


def _options_by_env():
    import typer.main

    root = typer.main.get_command(app)
    found = {}

    def walk(cmd, path):
        for p in cmd.params:
            if isinstance(getattr(p, "envvar", None), str):
                found.setdefault(p.envvar, []).append(path)
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(sub, path + [name])

    walk(root, [])
    return found


def test_every_setting_has_its_environment_variable_on_the_tasks():
    by_env = _options_by_env()
    for s in SETTINGS:
        if s.key == "progress_interval":
            continue  # read by the progress display itself, not an option
        assert ["summarize"] in by_env.get(s.env, []), s.env
        if s.key not in ("strategy",):
            assert ["watch"] in by_env.get(s.env, []) or s.key == "strategy", s.env


@pytest.mark.parametrize("command", ["summarize", "ask", "watch", "read", "demo", "bench"])
def test_threads_on_every_command_that_runs_a_model(command):
    assert "--threads" in invoke(command, "--help").stdout


def test_threads_flag_sets_torch_threads(mamba_ckpt, examples):
    torch.set_num_threads(1)
    result = invoke("summarize", examples["log"], "--model", mamba_ckpt, "--max-new-tokens", "2", "--threads", "2",
                    "--quiet")
    assert result.exit_code == 0, result.stderr
    assert torch.get_num_threads() == 2
    torch.set_num_threads(1)
