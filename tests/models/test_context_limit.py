"""Where a checkpoint's context comes from: --context, config.json, a known training length, or unknown."""

from __future__ import annotations

import json
from pathlib import Path

from ssmdoc.models import parse_config
from ssmdoc.models.context import context_limit, repo_id_of

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"


def _config(name: str):
    return parse_config(json.loads((REAL / name / "config.json").read_text()))


def test_mamba_without_a_stated_context_is_unknown_not_unlimited():
    limit = context_limit(_config("dominguesm__mambarim-110m"), "dominguesm/mambarim-110m")
    assert (limit.tokens, limit.source) == (None, "unknown")
    assert limit.describe().startswith("unknown")


def test_state_spaces_release_has_its_known_training_length(tmp_path):
    config = _config("state-spaces__mamba-130m-hf")
    assert context_limit(config, "state-spaces/mamba-130m-hf") == context_limit(
        config, tmp_path / "hub" / "models--state-spaces--mamba-130m-hf" / "snapshots" / "abc123")
    limit = context_limit(config, "state-spaces/mamba-130m-hf")
    assert (limit.tokens, limit.source) == (2048, "known")
    assert limit.describe() == "2,048 tokens (known training length)"


def test_config_and_override_win():
    jamba = _config("ai21labs__Jamba-v0.1")
    assert (context_limit(jamba).tokens, context_limit(jamba).source) == (262144, "config")
    limit = context_limit(jamba, override=4096)
    assert (limit.tokens, limit.source) == (4096, "--context")
    mamba = _config("state-spaces__mamba-130m-hf")
    assert context_limit(mamba, "state-spaces/mamba-130m-hf", override=8000).source == "--context"


def test_repo_id_of():
    assert repo_id_of("/x/hub/models--tiiuae--falcon-mamba-7b/snapshots/r1") == "tiiuae/falcon-mamba-7b"
    assert repo_id_of("owner/name") == "owner/name"
    assert repo_id_of("/some/local/dir") is None and repo_id_of(None) is None
