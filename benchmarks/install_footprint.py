"""Disk footprint of ssmdoc's runtime dependencies, as installed in the current environment.

Walks the dependency closure of the installed `ssmdoc` distribution (extras left out unless named) through
importlib.metadata and sums the size of every file each distribution installed (its RECORD). Run it in the
environment you want to measure:

    python benchmarks/install_footprint.py            # the CPU install: torch, numpy, tokenizers, ...
    python benchmarks/install_footprint.py --extra gpu
"""

from __future__ import annotations

import argparse
import re
from importlib import metadata
from pathlib import Path


def _name(requirement: str) -> str:
    return re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _active(requirement: str, extras: set[str]) -> bool:
    if ";" not in requirement:
        return True
    marker = requirement.split(";", 1)[1]
    found = re.findall(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
    if found:
        return any(e in extras for e in found)
    try:
        from packaging.markers import Marker

        return Marker(marker).evaluate()
    except Exception:
        return True


def closure(root: str, extras: set[str]) -> dict[str, metadata.Distribution]:
    seen: dict[str, metadata.Distribution] = {}
    todo = [(root, extras)]
    while todo:
        name, ex = todo.pop()
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[name] = dist
        for req in dist.requires or []:
            if _active(req, ex):
                todo.append((_name(req), set()))
    return seen


def size_of(dist: metadata.Distribution) -> int:
    total = 0
    for f in dist.files or []:
        p = Path(dist.locate_file(f))
        try:
            total += p.stat().st_size
        except OSError:
            pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", action="append", default=[])
    args = parser.parse_args()
    dists = closure("ssmdoc", set(args.extra))
    rows = sorted(((size_of(d), n, d.version) for n, d in dists.items() if n != "ssmdoc"), reverse=True)
    for size, name, version in rows:
        print(f"{size / 2**20:9.1f} MiB  {name} {version}")
    print(f"{sum(r[0] for r in rows) / 2**20:9.1f} MiB  total ({len(rows)} distributions)")


if __name__ == "__main__":
    main()
