"""The schema of a saved state's provenance metadata, checked field by field before anything uses it.

A state file's hash proves it is unchanged, not that whoever wrote it wrote sane values; a hand-made or
buggy file with `"token_count": "many"` or a missing `sources` must end in one StateFileError, not deep inside
the report code.
"""

from __future__ import annotations

import os

from ssmdoc.errors import StateFileError

_INT, _NUM, _STR, _BOOL = (int,), (int, float), (str,), (bool,)
# field -> (accepted types, required, nullable)
SCHEMA: dict[str, tuple[tuple[type, ...], bool, bool]] = {
    "model": (_STR, True, False),
    "model_revision": (_STR, True, True),
    "weights_hash": (_STR, True, False),
    "architecture": (_STR, True, False),
    "dtype": (_STR, True, False),
    "token_count": (_INT, True, False),
    "chunk_tokens": (_INT, True, False),
    "prompt_prefix": (_STR, True, False),
    "sources": ((list,), True, False),
    "state_bytes": ((dict,), True, False),
    "read_seconds": (_NUM, False, False),
    "seen_tokens": (_INT, False, False),
    "created": (_STR, False, False),
    "ssmdoc_version": (_STR, False, False),
    "format_version": (_INT, True, False),
    "content_hash": (_STR, True, False),
    "secrets_included": (_BOOL, False, False),
}
_SOURCE = {"kind": _STR, "path": _STR, "size": _INT, "sha256": _STR, "tokens": _INT, "hashed": _STR}


def _type_ok(value, types) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False  # True is an int to Python, not a count to us
    return isinstance(value, types)


def validate_meta(meta: dict, path: str | os.PathLike = "state") -> None:
    """StateFileError naming the first field that is missing, of the wrong type or out of range."""

    def bad(field: str, why: str) -> StateFileError:
        return StateFileError(f"{path}: its metadata field {field!r} {why}",
                              "the file was not written by this ssmdoc; read the documents again")

    for name, (types, required, nullable) in SCHEMA.items():
        if name not in meta:
            if required:
                raise bad(name, "is missing")
            continue
        value = meta[name]
        if value is None and nullable:
            continue
        if not _type_ok(value, types):
            raise bad(name, f"has the wrong type ({type(value).__name__})")
    for name in ("token_count", "seen_tokens", "read_seconds"):
        if name in meta and meta[name] < 0:
            raise bad(name, "is negative")
    if meta["chunk_tokens"] < 1:
        raise bad("chunk_tokens", "is not positive")
    if meta.get("seen_tokens", 0) > 1 << 62 or meta["token_count"] > 1 << 62:
        raise bad("token_count", "is out of range")
    for key in ("ssm", "conv", "kv"):
        value = meta["state_bytes"].get(key, 0)
        if not _type_ok(value, _INT) or value < 0:
            raise bad("state_bytes", f"has an invalid {key!r} entry")
    for source in meta["sources"]:
        if not isinstance(source, dict):
            raise bad("sources", "holds an entry that is not an object")
        for key, types in _SOURCE.items():
            if key in source and source[key] is not None and not _type_ok(source[key], types):
                raise bad("sources", f"has an entry whose {key!r} has the wrong type")
