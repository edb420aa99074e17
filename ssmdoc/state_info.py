"""A saved state's provenance, verified against its content hash without importing torch.

`ssmdoc state info` needs the metadata and the proof that the file is intact, not the tensors as torch
objects. The content hash (ssmdoc.statefile._content_hash) covers each tensor's name, torch dtype, shape
and raw bytes; a safetensors file stores exactly those bytes (little-endian, contiguous) at the offsets its
header gives, so the same hash can be computed from the file alone, in well under a second, where
importing torch takes seconds. tests/test_state_info.py holds the two computations together.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import struct
from pathlib import Path

from ssmdoc.errors import StateFileError
from ssmdoc.statefile import _HINT_REREAD, StateMeta, _read_meta

# safetensors dtype codes -> str(torch.dtype), as _content_hash writes them
_TORCH_DTYPE = {
    "F64": "torch.float64", "F32": "torch.float32", "F16": "torch.float16", "BF16": "torch.bfloat16",
    "I64": "torch.int64", "I32": "torch.int32", "I16": "torch.int16", "I8": "torch.int8", "U8": "torch.uint8",
    "BOOL": "torch.bool",
}


def _raw_content_hash(path: Path, meta: dict) -> str:
    with open(path, "rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(n))
        base = 8 + n
        digest = hashlib.sha256()
        body = {k: v for k, v in meta.items() if k != "content_hash"}
        digest.update(json.dumps(body, sort_keys=True).encode())
        for name in sorted(k for k in header if k != "__metadata__"):
            info = header[name]
            dtype = _TORCH_DTYPE.get(info["dtype"])
            if dtype is None:
                raise ValueError(f"unexpected dtype {info['dtype']}")
            start, end = info["data_offsets"]
            digest.update(f"\0{name}\0{dtype}\0{tuple(info['shape'])}\0".encode())
            fh.seek(base + start)
            data = fh.read(end - start)
            if len(data) != end - start:
                raise ValueError("truncated")
            digest.update(data)
    return digest.hexdigest()


def read_meta_verified(path: str | os.PathLike) -> StateMeta:
    """The state's provenance after checking its content hash: as `statefile.read_state`, minus the tensors."""
    p = Path(path)
    meta = _read_meta(p)
    try:
        digest = _raw_content_hash(p, meta)
    except (OSError, ValueError, KeyError, TypeError, struct.error) as exc:
        raise StateFileError(f"{p} is truncated or damaged: its tensors cannot be read", _HINT_REREAD) from exc
    if digest != meta.get("content_hash"):
        raise StateFileError(f"{p} does not match its content hash: it was modified or damaged", _HINT_REREAD)
    try:  # the metadata schema check, where this ssmdoc has one (ssmdoc.state_schema)
        from ssmdoc.state_schema import validate_meta
    except ImportError:
        pass
    else:
        validate_meta(meta, p)
    fields = {f.name for f in dataclasses.fields(StateMeta)}
    return StateMeta(**{k: v for k, v in meta.items() if k in fields})
