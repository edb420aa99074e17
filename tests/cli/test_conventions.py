"""The flags people type without thinking: --version/-V, -h, completion, help that reads like other tools'
(flags as flags, INPUT..., the three uses first, an example in every command), --color / NO_COLOR."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssmdoc import __version__
from ssmdoc.cli import app


def invoke(*args, env=None):
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def all_command_paths():
    """Every command as its argv path: ["summarize"], ["state", "info"], ..."""
    import typer.main

    root = typer.main.get_command(app)
    paths = []

    def walk(cmd, prefix):
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, prefix + [name])
        else:
            paths.append(prefix)

    walk(root, [])
    return paths


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_flags_print_the_version_line(flag):
    out = invoke(flag)
    assert out.exit_code == 0
    assert out.stdout == invoke("version").stdout
    assert out.stdout.startswith(f"ssmdoc {__version__} (torch ")


@pytest.mark.parametrize("path", [[], ["summarize"], ["ask"], ["state"], ["state", "info"]])
def test_short_h_is_help(path):
    short, long = invoke(*path, "-h"), invoke(*path, "--help")
    assert short.exit_code == long.exit_code == 0
    assert short.stdout == long.stdout and "Usage: ssmdoc" in short.stdout


def test_commands_are_listed_with_the_three_uses_first():
    text = invoke("--help").stdout
    listed = re.findall(r"^│ (\w+) ", text, flags=re.M)
    commands = [c for c in listed if c in {p[0] for p in all_command_paths()}]
    assert commands[:3] == ["summarize", "ask", "watch"]
    assert commands.index("demo") < commands.index("version") == len(commands) - 1


def test_every_command_has_an_example_and_no_type_shown_for_flags_or_arguments():
    paths = all_command_paths()
    assert len(paths) >= 12
    for path in paths:
        text = invoke(*path, "--help").stdout
        assert "Example" in text, path
        assert "<bool>" not in text and "<list[" not in text, path
        usage = next(line for line in text.splitlines() if "Usage:" in line)
        assert "{" not in usage, usage  # INPUT..., not {INPUT}...


@pytest.mark.parametrize("path", [["summarize"], ["ask"], ["read"], ["inspect"]])
def test_inputs_are_named_input_everywhere(path):
    usage = next(line for line in invoke(*path, "--help").stdout.splitlines() if "Usage:" in line)
    assert "INPUT..." in usage and "inputs" not in usage.lower().replace("input...", "")


def test_json_help_is_complete():
    text = " ".join(invoke("summarize", "--help", env={"COLUMNS": "100"}).stdout.split())
    # the whole description, not a cut-off one: every top-level key of the object
    for key in ("task", "model", "output", "complete", "interrupted", "sources", "report"):
        assert f'"{key}"' in text


def test_completion_is_offered_and_completes_commands():
    assert "--install-completion" in invoke("--help").stdout
    script = invoke("--show-completion", "bash")
    assert script.exit_code == 0 and "_SSMDOC_COMPLETE=complete_bash" in script.stdout
    env = dict(os.environ, _SSMDOC_COMPLETE="complete_bash", COMP_WORDS="ssmdoc su", COMP_CWORD="1")
    exe = Path(sys.executable).with_name("ssmdoc")  # the console script: completion keys on the program name
    proc = subprocess.run([str(exe)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["summarize"]


@pytest.fixture
def clean_color_env(monkeypatch):
    # --color sets NO_COLOR / FORCE_COLOR for the process; monkeypatch restores both after the test
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def test_color_always_never_and_no_color(clean_color_env, monkeypatch):
    assert "\x1b[" in invoke("--color", "always", "models").stdout
    assert "\x1b[" not in invoke("--color", "never", "models").stdout
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" in invoke("models").stdout
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR")
    assert "\x1b[" not in invoke("models").stdout


def test_bad_color_value_is_a_usage_error(clean_color_env):
    out = invoke("--color", "sometimes", "models")
    assert out.exit_code == 2 and out.stderr.startswith("error: ")
