"""config.json -> ModelConfig, through the family registry (models/families/)."""

from __future__ import annotations

from pathlib import Path

from .checkpoint import read_json
from .config import ModelConfig
from .errors import ModelError
from .families import all_families, family_for
from .refusals import check_raw_config
from .validate import validate_raw_config

SSM_ACTIVATIONS = ("silu", "swish")


def config_family(raw: dict):
    """The Family a config.json dict names (its architectures[0], else its model_type); ModelError if none."""
    names = raw.get("architectures") or []
    architecture = names[0] if names else ""
    family = family_for(architecture, raw.get("model_type", ""))
    if family is None:
        shown = architecture or f"model_type {raw.get('model_type')!r}"
        raise ModelError(
            f"unsupported model architecture {shown}; ssmdoc runs "
            + ", ".join(f.architecture for f in all_families()),
            hint="pick a checkpoint of one of those architectures",
        )
    return family


def parse_config(raw: dict) -> ModelConfig:
    """Parse a config.json dict; ModelError for an architecture ssmdoc does not implement (or must not run:
    quantized weights, another config format; refusals.py)."""
    check_raw_config(raw, tuple(f.architecture for f in all_families()))
    family = config_family(raw)
    try:
        config = family.parse(raw, family.architecture)
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelError(f"cannot parse the {family.architecture} config: {exc}") from exc
    for i, spec in enumerate(config.layers):
        if spec.plain_ssm and config.ssm.activation not in SSM_ACTIVATIONS:
            raise ModelError(f"unsupported SSM activation {config.ssm.activation!r} (layer {i})")
    return config


def load_config(path_or_dir: str | Path) -> ModelConfig:
    """Read config.json from a checkpoint directory (or the file itself). Parsing only, no weights."""
    path = Path(path_or_dir)
    if path.is_dir():
        path = path / "config.json"
    raw = read_json(path)
    if raw is None:
        raise ModelError(f"no config.json at {path}", hint="point at a Hugging Face checkpoint directory")
    validate_raw_config(raw)  # types and ranges before any parser computes with them (validate.py)
    return parse_config(raw)


