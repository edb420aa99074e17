"""How many tokens a checkpoint can be trusted with, and where that number comes from.

A checkpoint that states no context (Mamba and Mamba-2 configs have no max_position_embeddings) is "unknown",
never "unlimited". Sources, in order:
  --context  the user's own number (`override`);
  config     the checkpoint's max_position_embeddings, as transformers reads it;
  known      the documented training length of a release that states none: the state-spaces Mamba
             models were trained on the Pile at 2048 tokens (Gu & Dao 2023, the language-modelling runs) and degrade past
             about 3K (state-spaces/mamba issues #7 and #140);
  unknown    nothing to go on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SOURCES = ("--context", "config", "known", "unknown")

# repo id (lower case) -> training length in tokens, for releases whose config states none
KNOWN_TRAINING_CONTEXT: dict[str, int] = {
    f"state-spaces/mamba-{size}{suffix}": 2048
    for size in ("130m", "370m", "790m", "1.4b", "2.8b")
    for suffix in ("", "-hf")
}

_CACHE_DIR = re.compile(r"^models--([^/]+?)--(.+)$")  # the Hugging Face cache's folder for a repo


@dataclass(frozen=True)
class ContextLimit:
    tokens: int | None  # None: unknown
    source: str  # one of SOURCES

    def describe(self) -> str:
        """"2,048 tokens (known training length)" and the like, for inspect and the report."""
        if self.tokens is None:
            return "unknown (the checkpoint states none)"
        why = {"--context": "set with --context", "config": "from config.json", "known": "known training length"}
        return f"{self.tokens:,} tokens ({why[self.source]})"


def repo_id_of(name_or_path: str | Path | None) -> str | None:
    """The Hub repo id behind a name or a path: "owner/name" as given, or read off a Hugging Face cache path
    (.../models--owner--name/snapshots/<revision>)."""
    if name_or_path is None:
        return None
    text = str(name_or_path)
    for part in reversed(Path(text).parts):
        match = _CACHE_DIR.match(part)
        if match:
            return f"{match.group(1)}/{match.group(2)}"
    if re.fullmatch(r"[\w.-]+/[\w.-]+", text) and not Path(text).exists():
        return text
    return None


def context_limit(config, name_or_path: str | Path | None = None, override: int | None = None) -> ContextLimit:
    """The context to plan with for `config` (a ModelConfig), loaded from `name_or_path`."""
    if override is not None:
        return ContextLimit(int(override), "--context")
    if config.max_context is not None:
        return ContextLimit(int(config.max_context), "config")
    repo = repo_id_of(name_or_path)
    if repo is not None and repo.lower() in KNOWN_TRAINING_CONTEXT:
        return ContextLimit(KNOWN_TRAINING_CONTEXT[repo.lower()], "known")
    return ContextLimit(None, "unknown")
