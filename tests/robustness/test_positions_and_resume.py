"""Why, review findings: rotary positions over an endless stream; a resumed state read for another question."""

import json
import math

import torch
from contract import cli

from ssmdoc.models.rotary import Rotary


def angles(rotary: Rotary, start: int) -> torch.Tensor:
    """The angles Rotary applies at positions start, start + 1 (recovered from a unit vector's rotation)."""
    r = rotary.rotary_dim
    q = torch.zeros(1, 1, 2, r)
    q[..., : r // 2] = 1.0  # x = (1, 0) in every (i, i + r/2) pair: rotated to (cos a, sin a)
    out, _ = rotary(q, q.clone(), start)
    return torch.atan2(out[0, 0, :, r // 2 :].double(), out[0, 0, :, : r // 2].double())  # (2, r/2)


def test_rotary_positions_stay_exact_at_100m_tokens():
    rotary = Rotary(16, 10000.0)
    inv_freq = rotary.inv_freq.double()
    for start in (10_000_000, 100_000_000):
        got = angles(rotary, start)
        for offset in (0, 1):
            exact = torch.tensor([math.remainder((start + offset) * f, 2 * math.pi) for f in inv_freq.tolist()],
                                 dtype=torch.float64)
            error = torch.remainder(got[offset] - exact + math.pi, 2 * math.pi) - math.pi
            assert error.abs().max() < 1e-6, (start, error.abs().max())


def test_a_state_saved_with_another_question_is_warned_about(mamba_ckpt, tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text("The tenant pays rent monthly. Either party may terminate with notice.\n")
    state, neutral = tmp_path / "q1.state", tmp_path / "neutral.state"
    cli("ask", doc, "who pays rent?", "--model", mamba_ckpt, "--max-new-tokens", "2", "--save", state,
        "--quiet").ok()
    same = cli("ask", state, "who pays rent?", "--max-new-tokens", "2", "--json").ok()
    assert "another task" not in same.stderr
    other = cli("ask", state, "how can it end?", "--max-new-tokens", "2", "--json").ok()
    assert "warning:" in other.stderr and "another task" in other.stderr and "ssmdoc read" in other.stderr
    assert json.loads(other.stdout)["task"] == "ask"
    cli("read", doc, "--save", neutral, "--model", mamba_ckpt, "--quiet").ok()
    assert "another task" not in cli("ask", neutral, "how can it end?", "--max-new-tokens", "2").ok().stderr
