"""Saved document states: read once, ask many times.

A state file is one safetensors file: the per-layer tensors of an InferenceState (conv, SSM and, for hybrids,
the attention KV cache) plus string metadata saying what the state stands for and where it came from.

Integrity: `content_hash` is a SHA-256 over the canonical metadata (everything but the hash itself) and every
tensor's name, dtype, shape and bytes, so a flipped bit anywhere, a truncated file or edited provenance is
refused. This is tamper *evidence* for accidents and casual edits, not a signature: whoever can write the file
can recompute the hash.

Privacy: a state is a lossy but real encoding of the documents read into it; whoever holds the file may be
able to get their content back out by asking the model. Treat state files like the documents themselves.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import stat
import struct
from pathlib import Path
from typing import TYPE_CHECKING

from ssmdoc import __version__
from ssmdoc.errors import StateFileError

if TYPE_CHECKING:  # torch is imported where tensors are handled, so `ssmdoc --help` starts fast
    import torch

FORMAT = "ssmdoc-state"
FORMAT_VERSION = 2  # 2: weights_hash covers the tensor bytes (models.safetensors_check); secrets_included
_HINT_REREAD = "read the documents again with `ssmdoc read INPUT... --save FILE`"


@dataclasses.dataclass
class StateMeta:
    """Provenance of a saved state. Every field is written into the file's metadata."""

    model: str  # Hub repo id or local checkpoint path, as the user named it
    model_revision: str | None  # Hub commit of the snapshot, None for a local directory
    weights_hash: str  # weights_fingerprint() of the checkpoint that wrote the state
    architecture: str
    dtype: str  # "float32", "bfloat16", ...
    token_count: int  # document tokens the state stands for
    chunk_tokens: int
    prompt_prefix: str  # text fed before the documents (part of what the state encodes)
    sources: list[dict]  # each: {"kind", "path", "size", "sha256"}
    state_bytes: dict  # {"ssm", "conv", "kv"}
    read_seconds: float = 0.0  # what reading the documents cost when the state was made
    seen_tokens: int = 0  # every token in the state, the prompt prefix included (positions continue from it)
    created: str = ""
    ssmdoc_version: str = __version__
    format_version: int = FORMAT_VERSION
    content_hash: str = ""
    secrets_included: bool = False  # files that look like secrets were read into it (--include-secrets)


def weights_fingerprint(checkpoint_dir: str | os.PathLike, revision: str | None = None) -> str:
    """A hash of the weights themselves (and of the Hub revision when known): see
    ssmdoc.models.safetensors_check.fingerprint for what is read (every tensor's name, dtype, shape and
    bytes, sampled at spread offsets in tensors over 64 KiB)."""
    from ssmdoc.models.safetensors_check import fingerprint, shard_names

    root = Path(checkpoint_dir)
    index = root / "model.safetensors.index.json"
    if index.is_file():
        files = [root / name for name in shard_names(index)]
    else:
        files = sorted(p for p in root.glob("*.safetensors") if p.is_file())
    return fingerprint(files, extra=revision or "")


def describe_file_source(path: str | os.PathLike, kind: str) -> dict:
    """A source record for a file on disk: kind, path, size and SHA-256 of its bytes."""
    p = Path(path)
    digest = hashlib.sha256()
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"kind": kind, "path": str(p), "size": p.stat().st_size, "sha256": digest.hexdigest()}


def _content_hash(meta: dict, tensors: dict[str, torch.Tensor]) -> str:
    import torch

    digest = hashlib.sha256()
    body = {k: v for k, v in meta.items() if k != "content_hash"}
    digest.update(json.dumps(body, sort_keys=True).encode())
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        digest.update(f"\0{name}\0{t.dtype}\0{tuple(t.shape)}\0".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _encode(meta: StateMeta) -> dict[str, str]:
    return {"format": FORMAT, "meta": json.dumps(dataclasses.asdict(meta), sort_keys=True)}


def save_state(path: str | os.PathLike, tensors: dict[str, torch.Tensor], meta: StateMeta) -> StateMeta:
    """Write tensors and provenance to `path` atomically; returns the metadata as written (with its hash)."""
    from safetensors.torch import save_file

    meta = dataclasses.replace(meta, created=meta.created or _dt.datetime.now(_dt.timezone.utc).isoformat())
    cpu = {name: t.detach().contiguous().cpu() for name, t in tensors.items()}
    meta.content_hash = _content_hash(dataclasses.asdict(meta), cpu)
    from safetensors import SafetensorError

    from ssmdoc.safe_write import atomic_path, write_failure

    with atomic_path(path) as tmp:  # a temp file beside the target, renamed over it only when complete
        try:
            save_file(cpu, str(tmp), metadata=_encode(meta))
        except SafetensorError as exc:  # its own type around the OS error (disk full, file-size limit)
            raise write_failure(exc, path) from exc
    return meta


def _read_meta(path: Path) -> dict:
    from safetensors import safe_open

    from ssmdoc.models.safetensors_check import read_header

    if not os.path.lexists(path):
        raise StateFileError(f"no saved state at {path}", "save one with `ssmdoc read INPUT... --save FILE`")
    read_header(path, error=lambda p, why: StateFileError(f"{p} is not a readable ssmdoc state file ({why})",
                                                           _HINT_REREAD))
    try:
        with safe_open(str(path), framework="numpy") as fh:  # metadata only: "pt" would import torch
            raw = fh.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for any malformed header
        raise StateFileError(f"{path} is not a readable ssmdoc state file (truncated or damaged)", _HINT_REREAD) from exc
    if raw.get("format") != FORMAT or "meta" not in raw:
        raise StateFileError(f"{path} is a safetensors file but not an ssmdoc state", "pass a file written by --save")
    try:
        meta = json.loads(raw["meta"])
    except json.JSONDecodeError as exc:
        raise StateFileError(f"{path}: its provenance metadata is damaged", _HINT_REREAD) from exc
    if not isinstance(meta, dict):
        raise StateFileError(f"{path}: its provenance metadata is damaged", _HINT_REREAD)
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise StateFileError(
            f"{path} has state format version {version!r}; this ssmdoc ({__version__}) reads version {FORMAT_VERSION}",
            "use the ssmdoc version that wrote it, or read the documents again",
        )
    return meta


def read_state(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], StateMeta]:
    """Load and verify a state file: its tensors and provenance, or a StateFileError saying why not."""
    from safetensors.torch import load_file

    p = Path(path)
    meta = _read_meta(p)
    try:
        tensors = load_file(str(p))
    except Exception as exc:
        raise StateFileError(f"{p} is truncated or damaged: its tensors cannot be read", _HINT_REREAD) from exc
    if _content_hash(meta, tensors) != meta.get("content_hash"):
        raise StateFileError(f"{p} does not match its content hash: it was modified or damaged", _HINT_REREAD)
    from ssmdoc.state_schema import validate_meta

    validate_meta(meta, p)  # after the hash: a wrong type is then a writer's bug or a hand-made file
    fields = {f.name for f in dataclasses.fields(StateMeta)}
    return tensors, StateMeta(**{k: v for k, v in meta.items() if k in fields})


def check_compatible(meta: StateMeta, *, weights_hash: str, dtype: str, path: str | os.PathLike = "state") -> None:
    """Refuse a state written by other weights or in another dtype: its numbers would mean nothing here."""
    if meta.weights_hash != weights_hash:
        raise StateFileError(
            f"{path} was written by another model ({meta.model}, {meta.architecture})",
            f"run with --model {meta.model}, or read the documents again with this model",
        )
    if meta.dtype != dtype:
        raise StateFileError(
            f"{path} was written in {meta.dtype}, but the model runs in {dtype}",
            f"run with --dtype {meta.dtype}",
        )


def is_state_file(path: str | os.PathLike) -> bool:
    """Whether `path` is (or claims to be) an ssmdoc state: a safetensors header with our format tag.

    Only the header is read, so a document named on the command line is told apart cheaply; a damaged
    state still counts, and its damage is reported when it is read.
    """
    p = Path(path)
    try:
        # Regular files only: opening a pipe, FIFO or /dev/stdin to peek would consume (or block on) input.
        if not stat.S_ISREG(os.stat(p).st_mode):
            return False
        with open(p, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                return False
            (n,) = struct.unpack("<Q", head)
            if n > 100 << 20:
                return False
            header = json.loads(fh.read(n))
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and (header.get("__metadata__") or {}).get("format") == FORMAT


def remove_states(paths: list[str | os.PathLike]) -> list[tuple[Path, int]]:
    """Delete state files, refusing anything that is not one (so `state rm` cannot eat a document).

    Every path is checked before any is removed: a bad path among several removes nothing.
    """
    checked = []
    for path in paths:
        p = Path(path)
        _read_meta(p)
        if not os.access(p.parent if str(p.parent) else ".", os.W_OK | os.X_OK):
            raise StateFileError(f"cannot remove {p}: its directory is not writable", "nothing was removed")
        checked.append((p, p.stat().st_size))
    for p, _ in checked:
        try:
            p.unlink()
        except OSError as exc:
            raise StateFileError(f"cannot remove {p}: {exc.strerror or exc}") from exc
    return checked
