"""The inference state: clone, save/restore, and the attention KV window."""

from __future__ import annotations

import pytest
import torch

from checkpoints import tiny_checkpoint
from ssmdoc.models.errors import StateMismatchError
from ssmdoc.models import InferenceState, load_pretrained


@pytest.fixture(scope="module")
def jamba(tmp_path_factory):
    return load_pretrained(tiny_checkpoint(tmp_path_factory.mktemp("jamba"), "jamba"))


@pytest.fixture(scope="module")
def mamba2(tmp_path_factory):
    return load_pretrained(tiny_checkpoint(tmp_path_factory.mktemp("mamba2"), "mamba2"))


IDS = torch.randint(0, 512, (1, 40), generator=torch.Generator().manual_seed(3))


def test_clone_is_independent(jamba):
    state = jamba.new_state()
    jamba(IDS[:, :20], state, logits="none")
    copy = state.clone()
    a = jamba(IDS[:, 20:], state)
    b = jamba(IDS[:, 20:], copy)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert state.seen_tokens == copy.seen_tokens == 40
    # advancing the original moved it away from a fresh clone taken earlier
    other = jamba.new_state()
    jamba(IDS[:, :20], other, logits="none")
    snapshot = other.clone()
    jamba(IDS[:, 20:], other, logits="none")
    assert not torch.equal(snapshot.layers[0].ssm, other.layers[0].ssm)
    assert snapshot.layers[1].length == 20 and other.layers[1].length == 40


@pytest.mark.parametrize("name", ["jamba", "mamba2"])
def test_saved_state_continues_the_sequence(name, request):
    model = request.getfixturevalue(name)
    state = model.new_state()
    model(IDS[:, :25], state, logits="none")
    tensors = {k: v.clone() for k, v in state.to_tensors().items()}
    restored = InferenceState.from_tensors(model, tensors, seen_tokens=state.seen_tokens)
    assert restored.seen_tokens == 25 and restored.nbytes() == state.nbytes()
    torch.testing.assert_close(model(IDS[:, 25:], restored), model(IDS[:, 25:], state), rtol=0, atol=0)


def test_saved_state_for_another_model_refused(jamba, mamba2):
    state = jamba.new_state()
    jamba(IDS[:, :5], state, logits="none")
    with pytest.raises(StateMismatchError, match="does not fit"):
        InferenceState.from_tensors(mamba2, state.to_tensors(), seen_tokens=5)
    tensors = state.to_tensors()
    tensors["layers.0.ssm"] = tensors["layers.0.ssm"][:, :3]
    with pytest.raises(StateMismatchError, match="layer 0"):
        InferenceState.from_tensors(jamba, tensors, seen_tokens=5)


def test_nbytes_keys_and_growth(jamba):
    state = jamba.new_state()
    empty = state.nbytes()
    assert set(empty) == {"ssm", "conv", "kv"} and empty["kv"] == 0 and empty["ssm"] > 0
    jamba(IDS[:, :10], state, logits="none")
    ten = state.nbytes()
    jamba(IDS[:, 10:30], state, logits="none")
    assert state.nbytes()["kv"] == 3 * ten["kv"]  # the KV cache grows with the tokens...
    assert state.nbytes()["ssm"] == empty["ssm"]  # ...the SSM state does not


def test_kv_window_is_sliding_window_attention(jamba):
    """With a window the result does not depend on how the sequence is cut, equals full attention while
    the sequence fits in the window, differs once it does not, and the cache stays bounded."""
    window = 6
    full = jamba(IDS, jamba.new_state(kv_window=window))
    unwindowed = jamba(IDS)
    torch.testing.assert_close(full[:, :window], unwindowed[:, :window], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(full[:, window + 2 :], unwindowed[:, window + 2 :], atol=1e-3)

    state = jamba.new_state(kv_window=window)
    cuts = [0, 1, 4, 13, 14, 33, 40]
    chunked = torch.cat([jamba(IDS[:, a:b], state) for a, b in zip(cuts, cuts[1:])], dim=1)
    torch.testing.assert_close(chunked, full, rtol=1e-5, atol=1e-5)
    kv = state.layers[1]
    assert kv.length == window and kv.keys.shape[2] == window

    state = jamba.new_state(kv_window=window)
    stepped = torch.cat([jamba(IDS[:, i : i + 1], state) for i in range(40)], dim=1)
    torch.testing.assert_close(stepped, full, rtol=1e-5, atol=1e-5)
    assert kv._k.shape[2] <= 2 * window + 64  # the buffer does not grow with the sequence


def test_kv_window_brute_force(jamba):
    """The windowed attention output equals a direct masked computation."""
    window = 5
    attn = jamba.layers[1].mixer
    x = torch.randn(1, 17, jamba.config.hidden_size, generator=torch.Generator().manual_seed(0))
    got = attn(x, jamba.new_state(kv_window=window).layers[1])
    q = attn.q_proj(x).view(1, 17, attn.h, attn.s).transpose(1, 2)
    k = attn.k_proj(x).view(1, 17, attn.kh, attn.s).transpose(1, 2).repeat_interleave(attn.h // attn.kh, 1)
    v = attn.v_proj(x).view(1, 17, attn.kh, attn.s).transpose(1, 2).repeat_interleave(attn.h // attn.kh, 1)
    scores = q @ k.transpose(-1, -2) / attn.s**0.5
    i, j = torch.arange(17)[:, None], torch.arange(17)[None]
    scores = scores.masked_fill(~((j <= i) & (i - j < window)), float("-inf"))
    want = attn.o_proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(1, 17, -1))
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_lm_head_runs_only_where_logits_are_asked(jamba):
    """A 65K vocabulary times 16K prompt positions would be 4 GB: prefill must not compute them."""
    seen = []
    hook = jamba.lm_head.register_forward_hook(lambda mod, args, out: seen.append(tuple(args[0].shape)))
    try:
        state = jamba.new_state()
        assert jamba(IDS[:, :30], state, logits="none") is None
        assert seen == []
        jamba(IDS[:, 30:], state, logits="last")
        assert seen == [(1, 1, jamba.config.hidden_size)]
    finally:
        hook.remove()


def test_long_calls_reach_the_scan_in_blocks(jamba, monkeypatch):
    """The SSM layers see at most block_size tokens at a time, so no (length x d_inner x d_state) work set."""
    import ssmdoc.models.mamba1 as mamba1

    lengths = []
    real = mamba1.selective_scan

    def spy(u, *args, **kwargs):
        lengths.append(u.shape[-1])
        return real(u, *args, **kwargs)

    monkeypatch.setattr(mamba1, "selective_scan", spy)
    monkeypatch.setattr(jamba, "block_size", 8)
    jamba(IDS[:, :29], logits="none")
    n_mamba = len(jamba.config.layer_indices("mamba1"))
    assert lengths == [8, 8, 8, 5] * n_mamba  # 29 tokens = 8 + 8 + 8 + 5, in order, in every Mamba layer
