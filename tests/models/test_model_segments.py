"""A long call goes through the stack segment by segment: the same logits and the same state as one pass."""

import pytest
import torch

from checkpoints import tiny_checkpoint
from ssmdoc.models import load_pretrained


@pytest.fixture(scope="module", params=["jamba", "mamba2", "zamba2"])
def model(request, tmp_path_factory):
    return load_pretrained(tiny_checkpoint(tmp_path_factory.mktemp(request.param), request.param))


@pytest.mark.parametrize("mode", ["all", "last", "none"])
def test_segmented_call_equals_one_pass(model, mode, monkeypatch):
    ids = torch.randint(0, 512, (2, 23), generator=torch.Generator().manual_seed(3))
    prefix = torch.randint(0, 512, (2, 4), generator=torch.Generator().manual_seed(4))
    whole, cut = model.new_state(batch_size=2), model.new_state(batch_size=2)
    model(prefix, state=whole, logits="none")
    model(prefix, state=cut, logits="none")
    want = model(ids, state=whole, logits=mode)
    monkeypatch.setattr(model, "segment_size", 5)  # 23 tokens -> segments of 5, 5, 5, 5, 3
    got = model(ids, state=cut, logits=mode)
    if mode == "none":
        assert got is None and want is None
    else:
        assert got.shape == want.shape == (2, 23 if mode == "all" else 1, model.config.vocab_size)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5 * want.abs().max().item())
    assert cut.seen_tokens == whole.seen_tokens == 27
    for name, t in whole.to_tensors().items():
        torch.testing.assert_close(cut.to_tensors()[name], t, rtol=1e-5, atol=1e-6)


def test_long_calls_are_segmented(model, monkeypatch):
    """The segment size bounds what one pass through the stack sees."""
    seen = []
    real = model._forward_segment
    monkeypatch.setattr(model, "segment_size", 8)
    monkeypatch.setattr(model, "_forward_segment", lambda ids, state, logits: seen.append(ids.shape[1]) or
                        real(ids, state, logits))
    model(torch.zeros(1, 20, dtype=torch.long), logits="last")
    assert seen == [8, 8, 4]
