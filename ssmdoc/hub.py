"""Model resolution: a local checkpoint directory, or a Hub repo id fetched into the Hugging Face cache.

`resolve_checkpoint` is what `ssmdoc.models.load_pretrained` calls for anything that is not a local
directory. Downloads go through huggingface_hub into the standard cache (so `hf download`, transformers and
ssmdoc share files), fetching only what the engine loads. `HF_HUB_OFFLINE` is read at call time, not at
import time, so that a test or a wrapper script can set it late.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from ssmdoc.errors import ModelError

DEFAULT_MODEL = "ai21labs/AI21-Jamba2-3B"

# Checkpoints known to load and to be worth a user's download; shown by `ssmdoc models`.
RECOMMENDED_MODELS: tuple[tuple[str, str], ...] = (
    (DEFAULT_MODEL, "Jamba hybrid (Mamba + attention + MoE), 256K context, chat template — the default"),
    ("tiiuae/falcon-mamba-7b-instruct", "Falcon-Mamba, pure SSM (no attention at all), chat template"),
    ("state-spaces/mamba-130m-hf", "pure Mamba-1, tiny and fast for trying ssmdoc out; a base model, no chat template"),
    ("ibm-granite/granite-4.0-h-1b", "Granite 4.0-H: Mamba-2 + attention hybrid, 1B, chat template"),
    ("tiiuae/Falcon-H1-0.5B-Instruct", "Falcon-H1: attention and Mamba-2 in parallel, 0.5B, chat template"),
    ("tiiuae/Falcon-H1-1.5B-Instruct", "Falcon-H1, 1.5B, chat template"),
    ("Zyphra/Zamba2-1.2B-instruct", "Zamba2: Mamba-2 + shared attention blocks, 1.2B, chat template"),
    ("ibm-ai-platform/Bamba-9B-v2", "Bamba: Mamba-2 + attention, 9B, a base model"),
    ("nvidia/Nemotron-H-8B-Base-8K", "Nemotron-H: Mamba-2 + attention + MLP blocks, 8B, a base model"),
)

# Only what the engine reads: weights in safetensors (never pickles), the config and the tokenizer.
ALLOW_PATTERNS = [
    "config.json",
    "*.safetensors",
    "model.safetensors.index.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "generation_config.json",
]

# owner/name as the Hub spells them; a bare name is allowed too (legacy canonical repos).
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, resolved from the environment now (HF_HUB_CACHE, then HF_HOME)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    hf_home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface"
    )
    return Path(hf_home).expanduser() / "hub"


def _download_hint(repo_id: str) -> str:
    return (
        f"download it where the Hub is reachable with `hf download {repo_id}` "
        f"(into the Hugging Face cache), or point --model at a local checkpoint directory"
    )


def _local_dir(path: Path) -> Path:
    if not path.is_dir():
        raise ModelError(f"model path is not a directory: {path}", "give a checkpoint directory or a Hub repo id")
    if not (path / "config.json").is_file():
        raise ModelError(
            f"not a checkpoint directory (no config.json): {path}",
            "a checkpoint directory holds config.json, *.safetensors and tokenizer.json",
        )
    return path


def resolve_checkpoint(name_or_path: str | os.PathLike, progress: bool | None = None) -> Path:
    """Return a local directory holding the checkpoint `name_or_path`.

    A local directory is returned as is. Anything else must be a Hub repo id (`owner/name`); it is looked
    up in the Hugging Face cache and, unless HF_HUB_OFFLINE is set, downloaded (only the files the engine
    loads) with progress bars on stderr: when `progress` is True, or by default when stderr is a terminal.
    Every failure is a ModelError with a hint.
    """
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    looks_like_path = text.startswith((".", "/", "~")) or text.count("/") > 1
    if path.exists() or looks_like_path:
        return _local_dir(path)
    if not _REPO_ID.match(text) or "--" in text or ".." in text:
        raise ModelError(
            f"not a local directory nor a valid Hub repo id: {text!r}",
            "use a repo id like ai21labs/AI21-Jamba2-3B or a checkpoint directory",
        )

    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HFValidationError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    offline = _offline()
    if progress is None:
        progress = sys.stderr.isatty()
    silence = not progress and not are_progress_bars_disabled()  # a global switch: restore it after
    if silence:
        disable_progress_bars()
    try:
        snapshot = snapshot_download(
            text, cache_dir=hub_cache_dir(), allow_patterns=ALLOW_PATTERNS, local_files_only=offline
        )
    except HFValidationError as exc:
        raise ModelError(f"invalid Hub repo id {text!r}: {exc}") from exc
    except GatedRepoError as exc:
        raise ModelError(
            f"model {text} is gated on the Hub", "accept its licence on huggingface.co and run `hf auth login`"
        ) from exc
    except (RepositoryNotFoundError, RevisionNotFoundError) as exc:
        raise ModelError(
            f"model not found on the Hub: {text}", "check the repo id, or point --model at a local directory"
        ) from exc
    except LocalEntryNotFoundError as exc:
        # Raised both offline and when the Hub cannot be reached; either way nothing usable is cached.
        reason = "HF_HUB_OFFLINE is set" if offline else "the Hugging Face Hub cannot be reached"
        raise ModelError(f"model {text} is not in the local cache and {reason}", _download_hint(text)) from exc
    except (HfHubHTTPError, OSError) as exc:
        raise ModelError(f"could not download {text}: {exc}", _download_hint(text)) from exc
    except Exception as exc:  # httpx transport errors and the like: the network, not a bug of ours
        if type(exc).__module__.split(".")[0] in ("httpx", "httpcore", "requests", "urllib3"):
            raise ModelError(f"could not reach the Hugging Face Hub for {text}: {exc}", _download_hint(text)) from exc
        raise
    finally:
        if silence:
            enable_progress_bars()
    snapshot_dir = Path(snapshot)
    if not (snapshot_dir / "config.json").is_file():
        raise ModelError(f"{text} has no config.json; it is not a model checkpoint ssmdoc can load")
    return snapshot_dir


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
