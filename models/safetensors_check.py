"""Safetensors files checked before the safetensors library opens them, and a fingerprint of their weights.

A safetensors file is an 8-byte little-endian header length N, N bytes of JSON, then the tensor bytes:
    {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ..., "__metadata__": {...}}
with offsets relative to the end of the header. A hostile or damaged file (garbage, a truncated copy, a header
claiming gigabytes, offsets beyond the end, a directory or a broken link named *.safetensors) is refused here
with one ModelError naming the file, before `safe_open` can fail in its own way or allocate.

`fingerprint(files)` hashes what the weights are, not just their layout: every tensor's name, dtype and
shape, and its bytes, all of them for a tensor up to SAMPLE_WHOLE bytes, else SAMPLE_BLOCKS blocks of
SAMPLE_BLOCK bytes at evenly spread offsets (the first and the last block included), read with seeks so a
multi-GB checkpoint costs a few MB of reads. Two checkpoints of one layout trained apart (or from other
seeds) differ in essentially every block; a change confined to bytes between the sampled blocks is not seen.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import struct
from pathlib import Path

from .errors import ModelError

MAX_HEADER_BYTES = 100 << 20  # the safetensors library's own limit
DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1, "I16": 2, "U16": 2,
               "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8, "C64": 8}
SAMPLE_WHOLE = 64 << 10
SAMPLE_BLOCK = 4 << 10
SAMPLE_BLOCKS = 16


def _bad(path, why: str) -> ModelError:
    return ModelError(f"{path}: not a valid safetensors file ({why})",
                      "the download may be incomplete or damaged; fetch the checkpoint again")


def read_header(path: str | os.PathLike, error=_bad) -> tuple[dict, int]:
    """(header dict, byte offset where tensor data starts); `error(path, why)` builds the exception raised."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(path, "missing, or a broken symbolic link") from None
    except OSError as exc:
        raise error(path, exc.strerror or str(exc)) from exc
    if not stat.S_ISREG(st.st_mode):
        raise error(path, "not a regular file")
    size = st.st_size
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise error(path, f"{size} bytes, shorter than the 8-byte header length")
            (n,) = struct.unpack("<Q", head)
            if n < 2 or n > MAX_HEADER_BYTES or n > size - 8:
                raise error(path, f"its header claims {n:,} bytes in a file of {size:,}")
            raw = fh.read(n)
    except OSError as exc:
        raise error(path, exc.strerror or str(exc)) from exc
    try:
        header = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise error(path, "its header is not JSON") from None
    if not isinstance(header, dict):
        raise error(path, "its header is not a JSON object")
    data_bytes = size - 8 - n
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise error(path, "its __metadata__ is not a map of strings")
            continue
        _check_entry(path, name, entry, data_bytes, error)
    return header, 8 + n


def _check_entry(path, name, entry, data_bytes: int, error) -> None:
    if not isinstance(entry, dict):
        raise error(path, f"tensor {name!r} is not described by an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in DTYPE_BYTES:
        raise error(path, f"tensor {name!r} has an unknown dtype {str(dtype)[:20]!r}")
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape) or len(shape) > 16:
        raise error(path, f"tensor {name!r} has an invalid shape")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= data_bytes):
        raise error(path, f"tensor {name!r} has data offsets outside the file (truncated?)")
    if offsets[1] - offsets[0] != math.prod(shape) * DTYPE_BYTES[dtype]:
        raise error(path, f"tensor {name!r}: its byte range does not match its shape and dtype")


def check_files(files: list) -> list:
    """`files`, each with a valid header; ModelError for the first that is not."""
    for file in files:
        read_header(file)
    return files


def _sample_offsets(nbytes: int) -> list[tuple[int, int]]:
    if nbytes <= SAMPLE_WHOLE:
        return [(0, nbytes)]
    last = nbytes - SAMPLE_BLOCK
    return [(last * i // (SAMPLE_BLOCKS - 1), SAMPLE_BLOCK) for i in range(SAMPLE_BLOCKS)]


def fingerprint(files, extra: str = "") -> str:
    """SHA-256 over every tensor's name, dtype, shape and (sampled) bytes, file by file in the order given."""
    digest = hashlib.sha256(b"ssmdoc-weights-v2\0" + extra.encode() + b"\0")
    for file in files:
        file = Path(file)
        header, start = read_header(file)
        with open(file, "rb") as fh:
            for name in sorted(k for k in header if k != "__metadata__"):
                entry = header[name]
                begin, end = entry["data_offsets"]
                digest.update(f"{name}\0{entry['dtype']}\0{entry['shape']}\0".encode())
                for offset, length in _sample_offsets(end - begin):
                    fh.seek(start + begin + offset)
                    digest.update(fh.read(length))
    return digest.hexdigest()


def shard_names(index: str | os.PathLike) -> list[str]:
    """The shard file names a model.safetensors.index.json lists, in order, each a plain name in its directory."""
    index = Path(index)
    try:
        if not index.is_file() or index.stat().st_size > MAX_HEADER_BYTES:
            raise ModelError(f"{index}: not a regular file of sane size")
        weight_map = json.loads(index.read_bytes())["weight_map"]
    except ModelError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"cannot read {index}: not a JSON index with a weight_map",
                         "the download may be incomplete or damaged; fetch the checkpoint again") from exc
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise ModelError(f"cannot read {index}: its weight_map is not a map of file names")
    names = list(dict.fromkeys(weight_map.values()))
    for name in names:
        if not name.endswith(".safetensors") or name != os.path.basename(name) or name in (".", ".."):
            raise ModelError(f"{index} lists {name[:80]!r}, not a safetensors file beside it",
                             "ssmdoc loads safetensors only, from the checkpoint's own directory")
    return names
