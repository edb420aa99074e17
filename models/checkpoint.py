"""Where a checkpoint is and what its weights are: a local directory or a Hub repo id resolved to one, the
safetensors files that hold its weights, and their dtype.

Downloads go through huggingface_hub into the standard cache (so `hf download`, transformers and ssmdoc
share files), fetching only what the engine loads. `HF_HUB_OFFLINE` and the cache location are read at
call time, not at import time, so that a test or a wrapper script can set them late.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from .errors import ModelError
from .safetensors_check import check_files, shard_names

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


_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


def safetensors_files(path: Path) -> list[Path]:
    index = path / "model.safetensors.index.json"
    if index.is_file():
        files = [path / name for name in shard_names(index)]
        missing = [f.name for f in files if not f.is_file()]
        if missing:
            raise ModelError(f"{index.name} lists shards that are not in {path}: {', '.join(missing[:5])}",
                             hint="the download may be incomplete; fetch the checkpoint again")
        return check_files(files)
    single = path / "model.safetensors"
    if single.is_file():
        return check_files([single])
    files = sorted(path.glob("*.safetensors"))
    if files:
        return check_files(files)  # headers validated before safe_open sees them (safetensors_check)
    pickles = sorted(p.name for p in path.iterdir() if p.name.endswith(_PICKLE_SUFFIXES))
    if pickles:
        raise ModelError(
            f"{path} has only pickle weights ({', '.join(pickles[:3])}); ssmdoc loads safetensors only, "
            "because unpickling a file can run arbitrary code",
            hint="use a checkpoint that ships model.safetensors, or convert it with a tool you trust",
        )
    raise ModelError(f"no weights in {path} (expected model.safetensors or model.safetensors.index.json)")


_SAFETENSORS_DTYPES = {"F32": "float32", "BF16": "bfloat16", "F16": "float16"}
DTYPES = ("float32", "bfloat16", "float16")
DEFAULT_DTYPE = "bfloat16"  # when neither the weights nor config.json say


def checkpoint_dtype(path: str | os.PathLike) -> str:
    """The checkpoint's dtype: that of its embedding matrix, read from the safetensors header; without
    weights, the dtype config.json states; else bfloat16. One of DTYPES."""
    path = Path(path)
    try:
        files = safetensors_files(path)
    except ModelError:
        files = []
    if files:
        from safetensors import safe_open

        for file in files:
            with safe_open(str(file), framework="pt") as handle:
                for name in handle.keys():
                    if "emb" in name:
                        return _SAFETENSORS_DTYPES.get(handle.get_slice(name).get_dtype(), "float32")
    try:
        raw = json.loads((path / "config.json").read_text(encoding="utf-8"))
        name = str(raw.get("torch_dtype") or raw.get("dtype") or DEFAULT_DTYPE).removeprefix("torch.")
    except (OSError, ValueError, AttributeError):
        return DEFAULT_DTYPE
    return name if name in DTYPES else DEFAULT_DTYPE


def read_json(path: Path) -> dict | None:
    """The JSON object in `path`, None when the file does not exist; a corrupt file is a ModelError."""
    if not path.is_file():
        return None
    if path.stat().st_size > 64 << 20:
        raise ModelError(f"cannot read {path}: larger than 64 MiB, not a config file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelError(f"cannot read {path}: expected a JSON object")
    return data
