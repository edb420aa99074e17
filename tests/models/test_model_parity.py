"""Parity with transformers on tiny random checkpoints, float32.

For each configuration: (a) one full forward, (b) the same sequence fed in uneven chunks through one
state (cuts inside a conv window and chunks of length 1), (c) token-by-token decode after a prefix; all
against transformers' full forward, max abs error <= 1e-4 x max |logit|.
"""

from __future__ import annotations

import math

import pytest
import torch

from checkpoints import reference_model, tiny_checkpoint
from ssmdoc.models import load_pretrained

CONFIGS = {
    "mamba-auto-rank": ("mamba", {}),
    "mamba-odd": ("mamba", dict(hidden_size=20, num_hidden_layers=3, state_size=5, conv_kernel=3, use_bias=True,
                                use_conv_bias=False, time_step_rank=7)),
    "falcon-untied": ("falcon_mamba", {}),
    "falcon-tied-eps": ("falcon_mamba", dict(hidden_size=20, conv_kernel=2, mixer_rms_eps=1e-3,
                                             tie_word_embeddings=True, num_hidden_layers=3)),
    "mamba2-groups2": ("mamba2", {}),
    "mamba2-groups4-dtlimit": ("mamba2", dict(hidden_size=24, num_heads=4, head_dim=12, n_groups=4, state_size=6,
                                              chunk_size=5, conv_kernel=3, time_step_limit=(0.0, 0.05),
                                              use_bias=True)),
    "jamba-moe": ("jamba", {}),
    "jamba-dense-offset0": ("jamba", dict(hidden_size=24, intermediate_size=40, num_hidden_layers=5,
                                          num_attention_heads=3, num_key_value_heads=3, attn_layer_period=3,
                                          attn_layer_offset=0, num_experts=1, mamba_d_conv=3, mamba_d_state=6,
                                          mamba_proj_bias=True, mamba_conv_bias=False)),
    "jamba-top1-every-layer": ("jamba", dict(num_hidden_layers=4, attn_layer_period=4, attn_layer_offset=2,
                                             num_experts=3, num_experts_per_tok=1, expert_layer_period=1,
                                             expert_layer_offset=0, num_key_value_heads=1)),
}
LENGTH = 29
CUTS = [0, 2, 3, 11, 12, 23, LENGTH]  # chunks of 2, 1, 8, 1, 11, 6 tokens
PREFIX = 11


def assert_close(got: torch.Tensor, want: torch.Tensor) -> None:
    assert got.shape == want.shape
    err = (got - want).abs().max().item()
    scale = want.abs().max().item()
    assert err <= 1e-4 * scale, f"max abs error {err:.3g} > 1e-4 x max |logit| {scale:.3g}"


def build_case(configs: dict, name: str, tmp_path_factory):
    """(our model, input ids, transformers' full-forward logits) for configs[name]; shared with other families."""
    arch, overrides = configs[name]
    path = tiny_checkpoint(tmp_path_factory.mktemp(name), arch, seed=len(name), **overrides)
    ids = torch.randint(0, 512, (2, LENGTH), generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        want = reference_model(path)(ids).logits
    return load_pretrained(path), ids, want


@pytest.fixture(scope="module", params=list(CONFIGS))
def case(request, tmp_path_factory):
    return build_case(CONFIGS, request.param, tmp_path_factory)


def test_full_forward(case):
    model, ids, want = case
    assert_close(model(ids), want)


def test_uneven_chunks_through_one_state(case):
    model, ids, want = case
    state = model.new_state(batch_size=2)
    got = torch.cat([model(ids[:, a:b], state) for a, b in zip(CUTS, CUTS[1:])], dim=1)
    assert state.seen_tokens == LENGTH
    assert_close(got, want)


def test_token_by_token_decode_after_prefix(case):
    model, ids, want = case
    state = model.new_state(batch_size=2)
    outs = [model(ids[:, :PREFIX], state, logits="last")]
    outs += [model(ids[:, i : i + 1], state) for i in range(PREFIX, LENGTH)]
    assert_close(torch.cat(outs, dim=1), want[:, PREFIX - 1 :])


def test_internal_blocks_and_logit_selection(case):
    """A call cut into internal blocks gives the same logits; "last" and "none" still advance the state."""
    model, ids, want = case
    model.block_size = 4
    try:
        assert_close(model(ids), want)
        state = model.new_state(batch_size=2)
        assert model(ids[:, :13], state, logits="none") is None
        last = model(ids[:, 13:], state, logits="last")
    finally:
        del model.block_size  # back to the class default
    assert last.shape == (2, 1, want.shape[-1])
    assert_close(last, want[:, -1:])


def test_state_size_matches_the_estimate(case):
    from ssmdoc.models import estimate_state_bytes

    model, ids, _ = case
    state = model.new_state(batch_size=2)
    model(ids, state, logits="none")
    assert state.nbytes() == estimate_state_bytes(model.config, LENGTH, torch.float32, batch_size=2)
    assert math.prod(ids.shape) > 0 and sum(state.nbytes().values()) > 0
