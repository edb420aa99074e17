"""Models on this machine and the ones we recommend: the default model, the recommended checkpoints (from the
model-family registry), and what the local Hugging Face cache holds.

Resolving a name to a checkpoint directory (and downloading it) is the engine's
`ssmdoc.models.checkpoint.resolve_checkpoint`, re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ssmdoc.models.checkpoint import ALLOW_PATTERNS, hub_cache_dir, resolve_checkpoint

__all__ = ["ALLOW_PATTERNS", "DEFAULT_MODEL", "CachedModel", "cached_models", "hub_cache_dir",
           "recommended_models", "resolve_checkpoint"]

DEFAULT_MODEL = "ai21labs/AI21-Jamba2-3B"
# Recommended checkpoints are those whose real config.json was checked against transformers (layout, sizes and
# every tensor name and shape; tests/fixtures/real, tests/models/test_real_configs.py), by how complete the
# stored copy of it was. The default is not among them: no stored copy of its config.json was found.
CONFIG_CHECKED = {
    "AntonV/mamba2-130m-hf": "exact",
    "state-spaces/mamba-130m-hf": "partial",
    "tiiuae/falcon-mamba-7b": "exact",
    "ibm-fms/Bamba-9B": "exact",
    "ai21labs/Jamba-v0.1": "exact",
    "Zyphra/Zamba2-2.7B-Instruct-v2": "partial",
}


def recommended_models() -> list[tuple[str, str]]:
    """Checkpoints known to load and to be worth a user's download, (repo id, note), as `ssmdoc models`
    lists them; each family declares its own."""
    from ssmdoc.models.families import all_families

    entries = [entry for family in all_families() for entry in family.recommended]
    return [(repo, note) for repo, note, _ in sorted(entries, key=lambda e: e[2])]


@dataclass(frozen=True)
class CachedModel:
    repo_id: str
    size_on_disk: int  # bytes, all revisions
    snapshot: Path  # the most recently modified revision
    has_weights: bool  # at least one *.safetensors file in that snapshot


def cached_models() -> list[CachedModel]:
    """The model repos in the local Hugging Face cache (empty when there is no cache)."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir(hub_cache_dir())
    except CacheNotFound:
        return []
    models = []
    for repo in info.repos:
        if repo.repo_type != "model" or not repo.revisions:
            continue
        latest = max(repo.revisions, key=lambda r: r.last_modified)
        has_weights = any(f.file_name.endswith(".safetensors") for f in latest.files)
        models.append(CachedModel(repo.repo_id, repo.size_on_disk, Path(latest.snapshot_path), has_weights))
    return sorted(models, key=lambda m: m.repo_id.lower())
