"""Start-up time of the commands that need no model: wall time of the `ssmdoc` console script, median of N runs.

Each command is also run once in-process to record whether it imported torch (it should not: importing torch
costs seconds). Results go to stdout as a Markdown table, with the machine, date, load average and commit,
for docs/benchmarks.md.

    python benchmarks/startup.py --runs 5 [--state some.state]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

COMMANDS = [
    ["version"],
    ["--version"],
    ["--help"],
    ["summarize", "--help"],
    ["models"],
    ["config"],
    ["ask", "only-a-question?"],  # an argument error
    ["summarize", "no-such-file.txt"],  # an input error
]

PROBE = """
import sys
from ssmdoc.cli import main
sys.argv = ["ssmdoc"] + sys.argv[1:]
try:
    main()
except SystemExit:
    pass
sys.__stderr__.write("torch imported: %s\\n" % ("torch" in sys.modules))
"""


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def _cpu() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--state", help="a saved state file, to time `ssmdoc state info` too")
    args = parser.parse_args()
    exe = shutil.which("ssmdoc")
    if exe is None:
        sys.exit("ssmdoc is not on PATH: pip install -e . first")
    commands = COMMANDS + ([["state", "info", args.state]] if args.state else [])
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    print(f"machine: {_cpu()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; commit {_git_commit()}; "
          f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print(f"| command | median of {args.runs} (s) | min (s) | imports torch |")
    print("|---|---|---|---|")
    for cmd in commands:
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([exe, *cmd], capture_output=True, env=env)
            times.append(time.perf_counter() - start)
        probe = subprocess.run([sys.executable, "-c", PROBE, *cmd], capture_output=True, text=True, env=env)
        torch = "yes" if "torch imported: True" in probe.stderr else "no"
        print(f"| `ssmdoc {' '.join(cmd)}` | {statistics.median(times):.2f} | {min(times):.2f} | {torch} |")
    print()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
