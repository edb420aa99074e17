"""Read safetensors tensors straight into their destination: the weights are resident once.

safetensors' own `safe_open(...).get_tensor` maps the file and returns a copy, so while a checkpoint loads
the process holds the mapped file pages and the parameters: about twice the weights at its peak resident
set. Here the file is read with plain `readinto` into the parameter's own memory (the page cache holds the
file, outside the process's RSS); a tensor that has to be cast or split is read into a temporary of its
own size first. The format is simple and parsed defensively: an 8-byte little-endian header length, a JSON
header {name: {dtype, shape, data_offsets}}, then the raw bytes; no code is ever run.
"""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path

import torch

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool, "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2,
}
MAX_HEADER = 100 << 20
CHUNK = 1 << 28  # bytes per read call


class StoredTensor:
    """A tensor in a safetensors file, not read yet: shape, dtype, and where its bytes are."""

    def __init__(self, path: Path, name: str, dtype: torch.dtype, shape: tuple[int, ...], start: int, end: int):
        self.path, self.name, self.dtype, self.shape = path, name, dtype, torch.Size(shape)
        self.start, self.end = start, end

    def read(self) -> torch.Tensor:
        out = torch.empty(self.shape, dtype=self.dtype)
        self._fill(out)
        return out

    def read_into(self, dest: torch.Tensor) -> None:
        """Copy into dest (same shape): directly when dest is a contiguous CPU tensor of the stored dtype."""
        if dest.dtype == self.dtype and dest.device.type == "cpu" and dest.is_contiguous():
            self._fill(dest)
        else:
            dest.copy_(self.read())

    def _fill(self, out: torch.Tensor) -> None:
        view = memoryview(out.reshape(-1).view(torch.uint8).numpy()) if out.numel() else memoryview(b"")
        with open(self.path, "rb", buffering=0) as f:
            f.seek(self.start)
            done = 0
            while done < len(view):
                got = f.readinto(view[done:done + CHUNK])
                if not got:
                    raise OSError(f"{self.path} ends inside tensor {self.name}")
                done += got


def read_header(path: Path) -> list[StoredTensor]:
    """The tensors of one safetensors file, in file order; OSError / ValueError when the file is malformed."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise ValueError("file too short for a safetensors header")
        (n,) = struct.unpack("<Q", raw)
        if n > min(MAX_HEADER, size - 8):
            raise ValueError(f"header length {n} does not fit the file")
        header = json.loads(f.read(n))
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    base, tensors = 8 + n, []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = DTYPES[info["dtype"]]
            shape = tuple(int(s) for s in info["shape"])
            begin, end = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"bad header entry for {name}: {exc}") from None
        nbytes = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
        if min(shape, default=0) < 0 or not 0 <= begin <= end or end - begin != nbytes or base + end > size:
            raise ValueError(f"tensor {name}: offsets {begin}..{end} do not match shape {shape} {info['dtype']} "
                             f"within a {size}-byte file")
        tensors.append(StoredTensor(path, name, dtype, shape, base + begin, base + end))
    tensors.sort(key=lambda t: t.start)
    return tensors
