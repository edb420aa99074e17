"""The commands that need no model must not import torch (it takes seconds): version, --help, models,
config, state info, and argument or input errors. benchmarks/startup.py times them (docs/benchmarks.md)."""

import subprocess
import sys

import pytest

PROBE = """
import sys
from ssmdoc.cli import main
sys.argv = ["ssmdoc"] + sys.argv[1:]
try:
    main()
except SystemExit:
    pass
sys.__stderr__.write("\\ntorch imported: %s\\n" % ("torch" in sys.modules))
"""


def imports_torch(*args) -> bool:
    proc = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert "torch imported:" in proc.stderr, proc.stderr
    return "torch imported: True" in proc.stderr


@pytest.mark.parametrize("args", [["version"], ["--version"], ["--help"], ["summarize", "--help"], ["models"],
                                  ["config"], ["ask", "just a question?"], ["summarize", "no-such-file.txt"],
                                  ["ask", "no-such-file.txt", "a question?"], ["watch", "no-such.log"]])
def test_no_torch_for_commands_that_need_no_model(args):
    assert not imports_torch(*args)


def test_state_info_verifies_without_torch(tmp_path):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from checkpoints import tiny_checkpoint
    from typer.testing import CliRunner

    from ssmdoc.cli import app

    ckpt = tiny_checkpoint(tmp_path / "mamba", "mamba")
    doc = tmp_path / "doc.txt"
    doc.write_text("hello state\n" * 20)
    state = tmp_path / "doc.state"
    assert CliRunner().invoke(app, ["read", str(doc), "--save", str(state), "--model", str(ckpt)]).exit_code == 0
    assert not imports_torch("state", "info", state)
    # and the torch-free check is the same check: a flipped byte in a tensor is refused
    data = bytearray(state.read_bytes())
    data[-3] ^= 0xFF
    state.write_bytes(bytes(data))
    proc = subprocess.run([sys.executable, "-m", "ssmdoc", "state", "info", str(state)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "does not match its content hash" in proc.stderr


def test_the_two_hash_computations_agree(tmp_path):
    import torch

    from ssmdoc.state_info import read_meta_verified
    from ssmdoc.statefile import StateMeta, read_state, save_state

    tensors = {"layers.0.ssm": torch.randn(1, 4, 3), "layers.1.k": torch.randn(2, 5).to(torch.bfloat16),
               "layers.2.conv": torch.randn(3).to(torch.float16), "scalar": torch.tensor(2.0)}
    meta = StateMeta(model="m", model_revision=None, weights_hash="w", architecture="A", dtype="float32",
                     token_count=5, chunk_tokens=2, prompt_prefix="p", sources=[], state_bytes={})
    path = tmp_path / "x.state"
    save_state(path, tensors, meta)
    assert read_meta_verified(path) == read_state(path)[1]
