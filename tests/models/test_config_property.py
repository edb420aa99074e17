"""Config parity by construction: generated config.json dicts of every family, read by transformers and by
ssmdoc, must give the same layer layout, the same scalars and every tensor name and shape (on-disk names).

SSMDOC_PROPERTY_EXAMPLES sets the number of configs per family (200 by default; CI keeps the default). The
default run is derandomized so that the suite stays reproducible; with the variable set the search is random.
"""

from __future__ import annotations

import os
import warnings

import pytest
from huggingface_hub.errors import StrictDataclassError
from hypothesis import HealthCheck, given, reject, settings

from config_strategies import FAMILIES
from hf_meta import compare, hf_side, ssmdoc_tensor_discrepancies

EXAMPLES = int(os.environ.get("SSMDOC_PROPERTY_EXAMPLES", "200"))


@pytest.fixture(autouse=True, scope="module")
def _quiet_transformers():
    import transformers

    before = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # deprecation notes about kernel flags, on every build
    yield
    transformers.logging.set_verbosity(before)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_generated_configs_read_like_transformers(family):
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              derandomize="SSMDOC_PROPERTY_EXAMPLES" not in os.environ,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(FAMILIES[family])
    def check(raw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                hf_side(raw)
            except StrictDataclassError:  # transformers' strict config validation refuses it: not a config
                reject()
            assert compare(raw) == [], raw

    check()


def test_falcon_mamba_7b_shape_keeps_the_stored_intermediate_size():
    # tiiuae/falcon-mamba-7b: expand 16 x hidden 4096 would be 65536; the file says 8192 and so do the weights
    raw = {"architectures": ["FalconMambaForCausalLM"], "model_type": "falcon_mamba", "hidden_size": 4096,
           "expand": 16, "intermediate_size": 8192, "num_hidden_layers": 2, "state_size": 16, "vocab_size": 65024,
           "time_step_rank": 256, "tie_word_embeddings": False}
    assert compare(raw) == []
    assert hf_side(raw).shapes["backbone.layers.0.mixer.in_proj.weight"] == (16384, 4096)


def test_nemotron_h_older_key_wins_and_nothing_is_tied():
    raw = {"architectures": ["NemotronHForCausalLM"], "model_type": "nemotron_h", "hidden_size": 64,
           "layers_block_type": ["mamba", "attention"], "num_attention_heads": 4, "num_key_value_heads": 2,
           "head_dim": 16, "mamba_num_heads": 8, "mamba_head_dim": 16, "n_groups": 8, "mamba_n_groups": 2,
           "conv_kernel": 4, "mamba_d_conv": 2, "chunk_size": 128, "mamba_chunk_size": 8,
           "time_step_min": 0.01, "mamba_dt_min": 0.001, "tie_word_embeddings": True}
    assert compare(raw) == []


def test_the_comparison_sees_a_wrong_shape():
    """The harness itself can fail: tensors of one config loaded into the model of another."""
    from ssmdoc.models import parse_config

    raw = {"architectures": ["MambaForCausalLM"], "model_type": "mamba", "hidden_size": 64, "num_hidden_layers": 1}
    other = dict(raw, intermediate_size=96)
    found = ssmdoc_tensor_discrepancies(parse_config(raw), hf_side(other).shapes)
    assert found and "has shape (96, 16)" in found[0] and "implies (128, 16)" in found[0]
