"""Strings from inputs (file names, PDF titles, checkpoint names) made safe to print on a terminal.

A file name may hold escape sequences (`ESC]0;title BEL` retitles the window, `ESC[2J` clears it) or bytes
that are not UTF-8 (Python gives them to us as lone surrogates, which cannot even be encoded for output).
`safe()` shows control characters as visible escapes (`\\x1b`) and undecodable bytes as U+FFFD, so what
reaches the terminal is exactly the text shown and never a command to it.
"""

from __future__ import annotations

import re

# C0 controls, DEL and C1 controls (0x80-0x9f: CSI is 0x9b), plus lone surrogates from undecodable bytes.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(match: re.Match) -> str:
    ch = match.group()
    if "\ud800" <= ch <= "\udfff":
        return "\ufffd"
    return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}.get(ch, f"\\x{ord(ch):02x}")


def safe(text: object) -> str:
    """`text` with control characters escaped and undecodable bytes replaced: one printable line."""
    return _UNSAFE.sub(_escape, str(text))


def safe_multiline(text: object) -> str:
    """Like safe() but keeps newlines and tabs (for multi-line messages)."""
    return "\n".join(safe(line).replace("\\t", "\t") for line in str(text).split("\n"))


def decoded_name(name: str) -> str:
    """A file name as text: bytes that were not UTF-8 (surrogate-escaped by Python) become U+FFFD, so the
    name can be tokenized, hashed and printed; the original `name` is still what opens the file."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
