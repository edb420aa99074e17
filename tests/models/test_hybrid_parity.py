"""Parity with transformers for the Mamba-2 hybrids of issue 7 (Bamba, Granite-4.0-H, Nemotron-H, Falcon-H1,
Zamba2), float32, with the same checks as test_model_parity.py (imported from there): full forward, uneven
chunks through one state, token-by-token decode, internal blocks, state size vs the estimate.
"""

from __future__ import annotations

import pytest

from test_model_parity import (  # noqa: F401  (collected here, run with this module's `case`)
    build_case,
    test_full_forward,
    test_internal_blocks_and_logit_selection,
    test_state_size_matches_the_estimate,
    test_token_by_token_decode_after_prefix,
    test_uneven_chunks_through_one_state,
)

CONFIGS = {
    # attention in the middle, partial rotary (Bamba's forced 0.5), 2 groups, chunk 8 < the sequence
    "bamba-partial-rope": ("bamba", {}),
    # attention first and last, full rotary, 4 groups, odd sizes, biases, dt limit, MQA
    "bamba-odd": ("bamba", dict(hidden_size=24, intermediate_size=36, num_hidden_layers=4, attn_layer_indices=[0, 3],
                                num_attention_heads=3, num_key_value_heads=1, mamba_n_heads=4, mamba_n_groups=4,
                                mamba_d_state=6, mamba_d_conv=3, mamba_chunk_size=5, mamba_proj_bias=True,
                                mamba_conv_bias=False, attention_bias=True, mlp_bias=True,
                                time_step_limit=(0.0, 0.05), rope_parameters=dict(rope_type="default",
                                rope_theta=500.0, partial_rotary_factor=1.0))),
    # MoE + shared MLP, no positional encoding, all the multipliers
    "granite-moe-nope": ("granite_hybrid", {}),
    # dense (shared MLP only), rotary, tied embeddings, odd sizes, 3 groups, GQA 3:1
    "granite-dense-rope": ("granite_hybrid", dict(hidden_size=30, num_local_experts=0, shared_intermediate_size=22,
                                                  num_hidden_layers=4, layer_types=["attention", "mamba", "mamba",
                                                  "attention"], num_attention_heads=3, num_key_value_heads=1,
                                                  mamba_n_heads=6, mamba_n_groups=3, mamba_d_state=5,
                                                  mamba_d_conv=3, mamba_chunk_size=6, position_embedding_type="rope",
                                                  tie_word_embeddings=True, mamba_proj_bias=True)),
    # every block kind (Mamba-2, MoE, attention, MLP), grouped sigmoid routing, dt floor at time_step_min
    "nemotron-all-blocks": ("nemotron_h", {}),
    # the older hybrid_override_pattern spelling, odd sizes, MQA, biases, 3 groups, 3 of 6 experts in 3 groups
    # (hidden and expert widths stay multiples of 4: transformers' grouped-mm experts need 16-byte strides)
    "nemotron-pattern-odd": ("nemotron_h", dict(hidden_size=28, layers_block_type=None,
                                                hybrid_override_pattern="*M-EM*", num_attention_heads=3,
                                                num_key_value_heads=1, head_dim=10, intermediate_size=26,
                                                moe_intermediate_size=20, moe_shared_expert_intermediate_size=18,
                                                mamba_num_heads=6, mamba_head_dim=5, n_groups=3, ssm_state_size=6,
                                                conv_kernel=3, chunk_size=5, use_bias=True, use_conv_bias=False,
                                                mlp_bias=True, n_routed_experts=6, num_experts_per_tok=3,
                                                n_group=3, topk_group=2, norm_topk_prob=False,
                                                time_step_min=0.01)),
    # every multiplier off 1 (large B/C/dt slices: a tiny random SSM barely moves the logits otherwise, and
    # a wrong slice must), d_ssm apart from expand x hidden, gated norm applied before the gate
    "falcon-h1-mup": ("falcon_h1", {}),
    # no Mamba norm (y * silu(z)), projector / proj / attention / MLP biases, odd sizes, 3 groups, MQA
    "falcon-h1-plain-odd": ("falcon_h1", dict(hidden_size=30, intermediate_size=26, num_hidden_layers=3,
                                              num_attention_heads=3, num_key_value_heads=1, mamba_d_ssm=None,
                                              mamba_expand=1, mamba_n_heads=6, mamba_n_groups=3, mamba_d_state=5,
                                              mamba_d_conv=3, mamba_chunk_size=5, mamba_rms_norm=False,
                                              projectors_bias=True, mamba_proj_bias=True, attention_bias=True,
                                              mlp_bias=True, tie_word_embeddings=True, ssm_in_multiplier=3.0,
                                              ssm_out_multiplier=5.0, ssm_multipliers=[1.3, 0.6, 7.0, 5.0, 3.0],
                                              rope_parameters=dict(rope_type="default", rope_theta=300.0))),
    # the gated norm after the gate (mamba_norm_before_gate False)
    "falcon-h1-norm-after-gate": ("falcon_h1", dict(mamba_norm_before_gate=False, num_hidden_layers=1)),
    # two shared blocks over three uses (block 0 used twice, each use with its own adapters and KV), rotary
    "zamba2-two-blocks-adapters": ("zamba2", {}),
    # one shared block used at three depths, no q/k/v adapters (the MLP's stay), no RoPE, biases, odd sizes
    "zamba2-one-block-odd": ("zamba2", dict(hidden_size=30, num_hidden_layers=5, layers_block_type=["hybrid", "mamba",
                                            "hybrid", "mamba", "hybrid"], num_mem_blocks=1,
                                            use_shared_attention_adapter=False, adapter_rank=3, num_attention_heads=3,
                                            intermediate_size=26, n_mamba_heads=6, mamba_ngroups=3, mamba_d_state=5,
                                            mamba_d_conv=3, chunk_size=5, use_mem_rope=False, add_bias_linear=True,
                                            hidden_act="gelu_pytorch_tanh")),
    # untied embeddings: transformers then ties no shared block either, each use has its own copy
    "zamba2-untied": ("zamba2", dict(num_hidden_layers=3, layers_block_type=["hybrid", "mamba", "hybrid"],
                                     num_mem_blocks=1, tie_word_embeddings=False)),
}


@pytest.fixture(scope="module", params=list(CONFIGS))
def case(request, tmp_path_factory):
    return build_case(CONFIGS, request.param, tmp_path_factory)
