"""Why, bullet 7: internal errors where a clear error belongs — malformed safetensors, absurd configs, state
files with wrong types, `state rm` and --save edge cases, --seed past 64 bits, HF_HOME pointing at a file."""

import dataclasses
import json
import os
import shutil
import struct

import pytest
from contract import cli, finish, leftovers, process

from ssmdoc.statefile import _content_hash, read_state


@pytest.fixture
def doc(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text("The tenant pays rent monthly.\n")
    return path


def copy_ckpt(src, dst):
    shutil.copytree(src, dst)
    return dst


def header_bytes(header: dict) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw


SAFETENSORS_CASES = {
    "garbage": lambda good: os.urandom(4096),
    "truncated": lambda good: good[: len(good) // 2],
    "huge header": lambda good: struct.pack("<Q", 1 << 60) + good[8:],
    "empty header": lambda good: struct.pack("<Q", 0),
    "empty file": lambda good: b"",
    "offsets past the end": lambda good: header_bytes({"embed.weight": {"dtype": "F32", "shape": [1000, 1000],
                                                                         "data_offsets": [0, 4_000_000]}}),
    "unknown dtype": lambda good: header_bytes({"x": {"dtype": "Q99", "shape": [1], "data_offsets": [0, 4]}}) + b"\0" * 4,
    "not an object": lambda good: header_bytes([1, 2, 3]),
}


@pytest.mark.parametrize("case", list(SAFETENSORS_CASES))
def test_malformed_safetensors_end_in_one_error(mamba_ckpt, doc, tmp_path, case):
    ckpt = copy_ckpt(mamba_ckpt, tmp_path / "ckpt")
    weights = ckpt / "model.safetensors"
    weights.write_bytes(SAFETENSORS_CASES[case](weights.read_bytes()))
    cli("summarize", doc, "--model", ckpt, "--max-new-tokens", "2").error("safetensors")


@pytest.mark.parametrize("case", ["directory", "broken symlink"])
def test_a_weights_path_that_is_not_a_file(mamba_ckpt, doc, tmp_path, case):
    ckpt = copy_ckpt(mamba_ckpt, tmp_path / "ckpt")
    weights = ckpt / "model.safetensors"
    weights.unlink()
    (ckpt / "shard.safetensors").mkdir() if case == "directory" else weights.symlink_to(tmp_path / "nowhere")
    cli("summarize", doc, "--model", ckpt, "--max-new-tokens", "2").error()


def test_an_index_pointing_at_pickle_or_outside_is_refused(mamba_ckpt, doc, tmp_path):
    ckpt = copy_ckpt(mamba_ckpt, tmp_path / "ckpt")
    (ckpt / "model.safetensors").rename(ckpt / "weights.bin")
    (ckpt / "weights.bin").write_bytes(b"\x80\x04\x95pickle bytes")
    index = ckpt / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": {"embed.weight": "weights.bin"}}))
    cli("summarize", doc, "--model", ckpt, "--max-new-tokens", "2").error("safetensors")
    index.write_text(json.dumps({"weight_map": {"embed.weight": "../../etc/x.safetensors"}}))
    cli("summarize", doc, "--model", ckpt, "--max-new-tokens", "2").error("safetensors")
    index.write_bytes(b"\x80\x04\x95 pickle, not JSON")
    cli("summarize", doc, "--model", ckpt, "--max-new-tokens", "2").error()


CONFIG_CASES = {
    "hidden 1e9": ("hidden_size", 1_000_000_000),
    "layers 1e6": ("num_hidden_layers", 1_000_000),
    "vocab 1e12": ("vocab_size", 10**12),
    "negative": ("hidden_size", -24),
    "zero layers": ("num_hidden_layers", 0),
    "infinite": ("state_size", float("inf")),
    "float": ("hidden_size", 24.5),
    "list": ("hidden_size", [24]),
    "string": ("vocab_size", "1000"),
    "bool": ("num_hidden_layers", True),
    "nan eps": ("layer_norm_epsilon", float("nan")),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_absurd_configs_are_refused_before_allocating(mamba_ckpt, doc, tmp_path, case):
    ckpt = copy_ckpt(mamba_ckpt, tmp_path / "ckpt")
    key, value = CONFIG_CASES[case]
    config = json.loads((ckpt / "config.json").read_text())
    config[key] = value
    (ckpt / "config.json").write_text(json.dumps(config))  # inf and nan as JSON's Infinity / NaN
    cli("inspect", doc, "--model", ckpt).error(key)
    cli("summarize", doc, "--model", ckpt, "--max-new-tokens", "2").error(key)


def test_weights_larger_than_memory_are_refused_before_allocating(mamba_ckpt, doc, tmp_path):
    ckpt = copy_ckpt(mamba_ckpt, tmp_path / "ckpt")
    config = json.loads((ckpt / "config.json").read_text())
    config.update(hidden_size=1 << 17, vocab_size=1 << 24, num_hidden_layers=64)  # ~ 10 TB of float32
    (ckpt / "config.json").write_text(json.dumps(config))
    cli("summarize", doc, "--model", ckpt, "--max-new-tokens", "2").error("available")


@pytest.fixture
def state(mamba_ckpt, doc, tmp_path):
    path = tmp_path / "doc.state"
    cli("read", doc, "--save", path, "--model", mamba_ckpt, "--quiet").ok()
    return path


def forge(path, **changes):
    """Rewrite a state's metadata (with a correct content hash): what a buggy writer or a hand could make."""
    from safetensors.torch import save_file

    tensors, meta = read_state(path)
    record = dataclasses.asdict(meta)
    for key, value in changes.items():
        if value is ...:
            record.pop(key)
        else:
            record[key] = value
    record["content_hash"] = _content_hash(record, tensors)
    save_file(tensors, str(path), metadata={"format": "ssmdoc-state", "meta": json.dumps(record)})


@pytest.mark.parametrize("changes", [
    {"token_count": "many"}, {"sources": ...}, {"sources": [1, 2]}, {"state_bytes": {"ssm": -1}},
    {"chunk_tokens": 0}, {"seen_tokens": 2.5}, {"model": None}, {"secrets_included": "no"},
], ids=lambda c: next(iter(c)) + "=" + str(next(iter(c.values())))[:10])
def test_state_files_with_wrong_types_or_missing_fields(state, changes):
    forge(state, **changes)
    cli("state", "info", state).error("metadata field")
    cli("ask", state, "who pays?").error("metadata field")


def test_state_with_a_forged_batch_shape_is_refused(state):
    """Three sequences where one is restored: the empty state built for them must not be allocated."""
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(state))
    name = sorted(tensors)[0]
    tensors[name] = tensors[name].expand(3, *tensors[name].shape[1:]).contiguous()
    _, meta = read_state(state)
    record = dataclasses.asdict(meta)
    record["content_hash"] = _content_hash(record, tensors)
    save_file(tensors, str(state), metadata={"format": "ssmdoc-state", "meta": json.dumps(record)})
    cli("ask", state, "who pays?").error("one sequence")


def test_state_rm_of_missing_and_non_state_files(state, doc, tmp_path):
    cli("state", "rm", tmp_path / "missing.state").error("no saved state")
    cli("state", "rm", state, doc).error()  # a document among states: nothing removed
    assert state.exists() and doc.exists()
    cli("state", "rm", tmp_path).error()  # a directory
    cli("state", "rm", state).ok()


def test_seed_beyond_64_bits(mamba_ckpt, doc):
    cli("summarize", doc, "--model", mamba_ckpt, "--seed", str(2**70), "--temperature", "0.5").error("--seed")
    cli("summarize", doc, "--model", mamba_ckpt, "--seed", "-1", "--temperature", "0.5").error("--seed")


def test_hf_home_pointing_at_a_file(doc, tmp_path, monkeypatch):
    home = tmp_path / "hf_home_file"
    home.write_text("not a directory\n")
    monkeypatch.setenv("HF_HOME", str(home))
    cli("summarize", doc, "--model", "state-spaces/mamba-130m-hf").error()
    cli("models").ok()


def test_save_over_the_file_size_limit(mamba_ckpt, doc, tmp_path):
    """A write past RLIMIT_FSIZE fails (SIGXFSZ ignored), one error; the old state stays, no temp is left."""
    import resource

    state = tmp_path / "doc.state"
    cli("read", doc, "--save", state, "--model", mamba_ckpt, "--quiet").ok()
    before = state.read_bytes()

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    run = finish(process(["read", doc, "--save", state, "--model", mamba_ckpt, "--quiet"], preexec_fn=limit))
    run.error("file-size limit")
    assert state.read_bytes() == before and leftovers(tmp_path) == []
