"""Reading safetensors straight into parameters (models/stored.py) and the engine's thread default."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import save_file

from ssmdoc.models import set_threads
from ssmdoc.models.stored import read_header
from ssmdoc.models.threads import available_cores


def _tensors():
    g = torch.Generator().manual_seed(0)
    return {"a": torch.randn(3, 5, generator=g), "b": torch.randn(7, generator=g).to(torch.bfloat16),
            "c": torch.arange(6, dtype=torch.int64).view(2, 3), "d": torch.randn(0, 4, generator=g)}


def test_reads_what_safetensors_wrote(tmp_path):
    path = tmp_path / "x.safetensors"
    save_file(_tensors(), str(path))
    stored = {t.name: t for t in read_header(path)}
    assert set(stored) == {"a", "b", "c", "d"}
    for name, want in _tensors().items():
        got = stored[name].read()
        assert got.dtype == want.dtype and torch.equal(got, want)
    dest = torch.full((3, 5), 9.0)
    stored["a"].read_into(dest)  # same dtype: read directly into dest
    assert torch.equal(dest, _tensors()["a"])
    dest32 = torch.zeros(7)
    stored["b"].read_into(dest32)  # bfloat16 on disk, float32 destination: cast
    assert torch.equal(dest32, _tensors()["b"].float())


def test_malformed_files_are_refused(tmp_path):
    path = tmp_path / "x.safetensors"
    save_file(_tensors(), str(path))
    raw = path.read_bytes()
    (tmp_path / "short.safetensors").write_bytes(raw[:-8])  # data cut short
    with pytest.raises(ValueError, match="do not match"):
        read_header(tmp_path / "short.safetensors")
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    header["a"]["shape"] = [4, 5]  # more elements than its bytes
    body = json.dumps(header, separators=(",", ":")).encode().ljust(n)
    assert len(body) == n
    (tmp_path / "shape.safetensors").write_bytes(raw[:8] + body[:n] + raw[8 + n:])
    with pytest.raises(ValueError, match="tensor a"):
        read_header(tmp_path / "shape.safetensors")
    (tmp_path / "huge.safetensors").write_bytes((10**12).to_bytes(8, "little") + b"{}")
    with pytest.raises(ValueError, match="header length"):
        read_header(tmp_path / "huge.safetensors")


@pytest.mark.slow
def test_loading_holds_the_weights_once(tmp_path):
    """Peak RSS while loading rises by about the weights, not twice them (safetensors' get_tensor maps the
    file and copies it, which held both). Measured in a fresh process."""
    import transformers

    torch.manual_seed(0)
    cfg = transformers.MambaConfig(vocab_size=65536, hidden_size=512, num_hidden_layers=1, state_size=4,
                                   tie_word_embeddings=True)
    transformers.MambaForCausalLM(cfg).save_pretrained(tmp_path / "big", safe_serialization=True)
    tiny = transformers.MambaConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, state_size=4)
    transformers.MambaForCausalLM(tiny).save_pretrained(tmp_path / "tiny", safe_serialization=True)
    code = textwrap.dedent("""
        import json, sys
        def hwm():
            for line in open('/proc/self/status'):
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
        import torch
        from ssmdoc.models import load_pretrained
        load_pretrained(sys.argv[2])  # first-use costs (imports, torch's lazy init: ~40 MB) paid before measuring
        before = hwm()
        model = load_pretrained(sys.argv[1])
        print(json.dumps(dict(rise=hwm() - before, weights=model.weights_nbytes())))
    """)
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "big"), str(tmp_path / "tiny")],
                         capture_output=True, text=True, check=True, env=os.environ | {"OMP_NUM_THREADS": "1"})
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["weights"] > 128 << 20
    assert res["rise"] < 1.3 * res["weights"], res


def test_set_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        assert set_threads(1) == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        torch.set_num_threads(1)
        assert set_threads(None) == 1  # the user's OMP_NUM_THREADS wins over "all cores"
        monkeypatch.delenv("OMP_NUM_THREADS")
        assert set_threads(None) == available_cores() == torch.get_num_threads()
        with pytest.raises(ValueError):
            set_threads(0)
    finally:
        torch.set_num_threads(before)
