"""The saved-state file format: round trip, provenance, and every refusal."""

import json
import struct

import pytest
import torch

from ssmdoc.errors import StateFileError
from ssmdoc.statefile import (
    FORMAT_VERSION,
    StateMeta,
    check_compatible,
    read_state,
    remove_states,
    save_state,
    weights_fingerprint,
)


def _tensors(seed=0):
    g = torch.Generator().manual_seed(seed)
    return {
        "layers.0.conv": torch.randn(1, 24, 3, generator=g),
        "layers.0.ssm": torch.randn(1, 24, 8, generator=g),
        "layers.1.k": torch.randn(1, 2, 5, 4, generator=g).to(torch.bfloat16),
        "layers.1.v": torch.randn(1, 2, 5, 4, generator=g).to(torch.bfloat16),
    }


def _meta(**overrides):
    fields = dict(
        model="tiny/mamba",
        model_revision=None,
        weights_hash="abc",
        architecture="MambaForCausalLM",
        dtype="float32",
        token_count=1234,
        chunk_tokens=256,
        prompt_prefix="<|user|>Read this:",
        sources=[{"kind": "file", "path": "a.txt", "size": 10, "sha256": "00"}],
        state_bytes={"ssm": 768, "conv": 288, "kv": 160},
    )
    fields.update(overrides)
    return StateMeta(**fields)


def _rewrite_metadata(path, mutate):
    """Edit a safetensors file's JSON header in place, keeping the tensors where they are."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    mutate(header["__metadata__"])
    new = json.dumps(header).encode()
    new += b" " * (n - len(new)) if len(new) <= n else b""
    assert len(new) >= n
    # A longer header shifts the data; safetensors offsets are relative to the header's end, so that is fine.
    path.write_bytes(struct.pack("<Q", len(new)) + new + raw[8 + n :])


def test_round_trip_keeps_tensors_and_provenance(tmp_path):
    path = tmp_path / "doc.state"
    written = save_state(path, _tensors(), _meta())
    tensors, meta = read_state(path)
    for name, t in _tensors().items():
        assert tensors[name].dtype == t.dtype and torch.equal(tensors[name], t)
    assert meta == written
    assert meta.content_hash and meta.created and meta.format_version == FORMAT_VERSION
    assert meta.sources[0]["path"] == "a.txt" and meta.token_count == 1234


def test_flipped_tensor_byte_is_refused(tmp_path):
    path = tmp_path / "doc.state"
    save_state(path, _tensors(), _meta())
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0x40  # inside the last tensor's data
    path.write_bytes(bytes(raw))
    with pytest.raises(StateFileError, match="content hash"):
        read_state(path)


def test_edited_provenance_is_refused(tmp_path):
    path = tmp_path / "doc.state"
    save_state(path, _tensors(), _meta())

    def lie(md):
        meta = json.loads(md["meta"])
        meta["token_count"] = 1
        md["meta"] = json.dumps(meta)

    _rewrite_metadata(path, lie)
    with pytest.raises(StateFileError, match="content hash"):
        read_state(path)


@pytest.mark.parametrize("keep", [0.3, 0.9])
def test_truncated_file_is_refused(tmp_path, keep):
    path = tmp_path / "doc.state"
    save_state(path, _tensors(), _meta())
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    with pytest.raises(StateFileError, match="truncated|damaged"):
        read_state(path)


def test_unknown_format_version_is_refused(tmp_path):
    path = tmp_path / "doc.state"
    save_state(path, _tensors(), _meta())

    def bump(md):
        meta = json.loads(md["meta"])
        meta["format_version"] = FORMAT_VERSION + 1
        md["meta"] = json.dumps(meta)

    _rewrite_metadata(path, bump)
    with pytest.raises(StateFileError, match="version"):
        read_state(path)


def test_other_model_or_dtype_is_refused():
    meta = _meta()
    check_compatible(meta, weights_hash="abc", dtype="float32")
    with pytest.raises(StateFileError, match="another model"):
        check_compatible(meta, weights_hash="def", dtype="float32")
    with pytest.raises(StateFileError, match="bfloat16|float32"):
        check_compatible(meta, weights_hash="abc", dtype="bfloat16")


def test_not_a_state_file_is_refused_and_never_removed(tmp_path):
    doc = tmp_path / "contract.pdf"
    doc.write_bytes(b"%PDF-1.4 not a state")
    state = tmp_path / "doc.state"
    save_state(state, _tensors(), _meta())
    with pytest.raises(StateFileError):
        read_state(doc)
    with pytest.raises(StateFileError):
        remove_states([state, doc])
    assert doc.exists() and state.exists()  # one bad path removes nothing
    removed = remove_states([state])
    assert [p for p, _ in removed] == [state] and not state.exists()


def test_missing_file_is_a_state_error(tmp_path):
    with pytest.raises(StateFileError, match="no saved state"):
        read_state(tmp_path / "nope.state")


def test_weights_fingerprint_tracks_the_weights_layout(tmp_path):
    from safetensors.torch import save_file

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    save_file({"w": torch.zeros(4, 4)}, str(a / "model.safetensors"))
    save_file({"w": torch.zeros(4, 5)}, str(b / "model.safetensors"))
    assert weights_fingerprint(a) == weights_fingerprint(a)
    assert weights_fingerprint(a) != weights_fingerprint(b)


def test_state_info_and_rm_commands(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "doc.state"
    save_state(path, _tensors(), _meta())
    run = lambda *a: subprocess.run([sys.executable, "-m", "ssmdoc", *a], capture_output=True, text=True, timeout=120)
    proc = run("state", "info", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["state_bytes"] == {"ssm": 768, "conv": 288, "kv": 160}
    assert info["model"] == "tiny/mamba" and info["token_count"] == 1234
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(bytes(raw))
    proc = run("state", "info", str(path))
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    proc = run("state", "rm", str(path))  # a damaged state is still a state file: it can be removed
    assert proc.returncode == 0 and "removed" in proc.stdout and not path.exists()
