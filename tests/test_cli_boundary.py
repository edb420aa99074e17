"""The CLI's error contract: user errors are one `error:` line and exit 2; no traceback without --debug."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ssmdoc.cli import app


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ssmdoc", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [["no-such-command"], ["version", "--no-such-option"]])
def test_usage_errors_are_one_error_line_and_exit_2(args):
    proc = run_cli(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("error: ")
    assert all(line.startswith(("error: ", "hint: ")) for line in lines)
    assert "Traceback" not in proc.stderr


def test_version_runs_through_the_runner():
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.output.startswith("ssmdoc ")


def test_readme_test_command_is_what_ci_runs():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    ci_last = [l for l in (root / ".ci" / "run").read_text().splitlines() if l.strip()][-1].strip()
    assert ci_last.startswith("python -m pytest")
    assert ci_last in (root / "README.md").read_text()
