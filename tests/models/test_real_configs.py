"""Real config.json files of public checkpoints (tests/fixtures/real/<owner>__<name>/, each with a SOURCES file):
every one ssmdoc accepts is read exactly as transformers reads it (layout, scalars, every tensor name and shape);
the ones ssmdoc must refuse (quantized copies, another format) are refused with one ModelError."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest

from hf_meta import compare, hf_side
from ssmdoc.errors import ModelError

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
CONFIGS = sorted(p.parent.name for p in REAL.glob("*/config.json"))
# fixture -> what ssmdoc's one-line refusal must say (transformers builds some of these, but the weights are
# quantized or the format is not a transformers one)
REFUSED = {
    "tiiuae__falcon-mamba-7b-instruct-4bit": r"quantized \(bitsandbytes, 4-bit\)",
    "mlx-community__Mamba-Codestral-7B-v0.1-2bit": r"quantized \(MLX, 2-bit\)",
    "state-spaces__mamba-130m": r"mamba-ssm's own format",
    "Zyphra__Zamba2-1.2B@4f8e85cd": r"Zamba2 layer types",
}
# transformers 5.24 refuses these while ssmdoc reads them (recorded, not a parity failure)
HF_REFUSES_ONLY = {"limloop__whiff-mamba2-20M-v2"}  # expand 1.5: transformers 5.3 wrote it, 5.24's int field refuses


def _raw(name: str) -> dict:
    return json.loads((REAL / name / "config.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True, scope="module")
def _quiet_transformers():
    import transformers

    before = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    yield
    transformers.logging.set_verbosity(before)


def test_fixtures_cover_enough_checkpoints_and_families():
    families = {}
    for d in REAL.iterdir():
        sources = (d / "SOURCES").read_text(encoding="utf-8")
        assert re.search(r"https://huggingface\.co/\S+", sources), d.name
        assert "exact" in sources or "PARTIAL" in sources, d.name  # each file says how complete it is
        if (d / "config.json").is_file():
            raw = json.loads((d / "config.json").read_text(encoding="utf-8"))
            families.setdefault(raw.get("model_type", "?"), set()).add(d.name)
    checkpoints = {name.split("@")[0] for names in families.values() for name in names}
    assert len(checkpoints) >= 15
    nine = {"mamba", "falcon_mamba", "mamba2", "jamba", "bamba", "granitemoehybrid", "nemotron_h", "falcon_h1", "zamba2"}
    assert len(nine & set(families)) >= 7, sorted(families)


@pytest.mark.parametrize("name", [n for n in CONFIGS if n not in REFUSED and n not in HF_REFUSES_ONLY])
def test_real_config_reads_like_transformers(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert compare(_raw(name)) == []


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_real_config_refused_in_one_line(name):
    from ssmdoc.models import parse_config

    with pytest.raises(ModelError, match=REFUSED[name]) as info:
        parse_config(_raw(name))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", sorted(HF_REFUSES_ONLY))
def test_configs_only_transformers_refuses_still_shape_consistently(name):
    from ssmdoc.models import parse_config

    raw = _raw(name)
    from huggingface_hub.errors import StrictDataclassError

    with pytest.raises(StrictDataclassError):
        hf_side(raw)
    config = parse_config(raw)
    assert config.ssm.num_heads * config.ssm.head_dim == config.ssm.inner_size


def test_falcon_mamba_7b_reads_its_stored_intermediate_size():
    from ssmdoc.models import estimate_state_bytes, parse_config

    config = parse_config(_raw("tiiuae__falcon-mamba-7b"))
    assert config.ssm.inner_size == 8192  # not expand 16 x 4096
    # 64 layers x 8192 x 16 float32: 32 MiB of SSM state, not 8x that
    assert estimate_state_bytes(config, 1, "bfloat16")["ssm"] == 64 * 8192 * 16 * 4


def test_hub_recommends_only_checkpoints_whose_config_is_a_fixture():
    from ssmdoc.hub import CONFIG_CHECKED, recommended_models

    assert recommended_models()
    for repo, _ in recommended_models():
        directory = REAL / repo.replace("/", "__")
        assert (directory / "config.json").is_file(), repo
        sources = (directory / "SOURCES").read_text(encoding="utf-8")
        assert ("PARTIAL" in sources) == (CONFIG_CHECKED[repo] == "partial"), repo
        assert directory.name not in REFUSED
