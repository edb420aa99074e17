"""Command-line values of `ssmdoc bench`: token lengths ("4096,16K,1M") and byte sizes ("8G", "512MiB")."""

from __future__ import annotations

import re

from ssmdoc.errors import UsageError

# Binary multiples: "16K" tokens is 16384, as context lengths are usually quoted; "8G" of memory is 8 GiB.
_SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)

MAX_TOKENS = 1 << 26  # 64M tokens: far past any run that fits a machine; a typo guard, not a limit of the engine


def _number(text: str, what: str) -> int:
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"not a {what}: {text!r}", "write a whole number, optionally with K, M or G (e.g. 16K, 8G)")
    value = float(match.group(1)) * _SUFFIX[match.group(2).upper()]
    if value != int(value):
        raise UsageError(f"not a whole {what}: {text!r}")
    return int(value)


def parse_lengths(text: str) -> list[int]:
    """"4096,16K,65536" -> [4096, 16384, 65536]: sorted, without repeats, each at least 1 token."""
    items = [item for item in (part.strip() for part in text.split(",")) if item]
    if not items:
        raise UsageError("no lengths given", "e.g. --lengths 4096,16384,65536")
    lengths = set()
    for item in items:
        # "K" alone means tokens here, "B" would be a byte size: refuse it rather than guess
        if item[-1:].upper() == "B":
            raise UsageError(f"not a token count: {item!r}", "lengths are token counts, e.g. 4096 or 4K")
        n = _number(item, "token count")
        if n < 1:
            raise UsageError(f"a length must be at least 1 token: {item!r}")
        if n > MAX_TOKENS:
            raise UsageError(f"length {item!r} is more than {MAX_TOKENS:,} tokens")
        lengths.add(n)
    return sorted(lengths)


def parse_bytes(text: str) -> int:
    """"8G" / "8GiB" / "512M" / "1073741824" -> bytes (binary multiples)."""
    n = _number(text, "memory size")
    if n < 1:
        raise UsageError(f"a memory cap must be positive: {text!r}")
    return n
