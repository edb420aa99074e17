"""The generation settings a checkpoint ships, read as transformers' generate() reads them.

transformers resolves each setting as: what the caller passes > generation_config.json > its global defaults
(GenerationConfig._get_default_generation_params: greedy, temperature 1.0, top_k 50, top_p 1.0, repetition
penalty 1.0). Without a generation_config.json it takes bos / eos / pad from config.json (from_model_config).
Sampling settings count only when do_sample is true; otherwise decoding is greedy (a repetition penalty still
applies). The pad id, when no file names one, is the first EOS id (generate()'s _prepare_special_tokens).
`sampling()` turns this into the (temperature, top_p, top_k, repetition_penalty) that ssmdoc's
GenerationConfig takes when the user gives none (temperature 0 = greedy).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checkpoint import read_json
from .errors import ModelError

# transformers' GenerationConfig._get_default_generation_params for the settings ssmdoc implements
_GLOBAL = {"do_sample": False, "temperature": 1.0, "top_k": 50, "top_p": 1.0, "repetition_penalty": 1.0}


def _ids(value: Any) -> tuple[int, ...]:
    if isinstance(value, bool) or value is None:
        return ()
    if isinstance(value, int):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(v for v in value if isinstance(v, int) and not isinstance(v, bool))
    return ()


@dataclass(frozen=True)
class GenerationDefaults:
    eos_token_ids: tuple[int, ...] = ()  # every id that ends generation, in the file's order
    bos_token_id: int | None = None
    pad_token_id: int | None = None  # as generate() uses it: the file's, else the first EOS id
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 50
    repetition_penalty: float = 1.0
    source: str = "defaults"  # "generation_config.json", "config.json" or "defaults"

    def sampling(self) -> dict:
        """Keyword arguments for ssmdoc's GenerationConfig when the user sets none of them."""
        if not self.do_sample:
            return dict(temperature=0.0, top_p=1.0, top_k=0, repetition_penalty=self.repetition_penalty)
        return dict(temperature=self.temperature, top_p=self.top_p, top_k=self.top_k,
                    repetition_penalty=self.repetition_penalty)


def read_generation_defaults(directory: str | Path) -> GenerationDefaults:
    """The generation settings of the checkpoint in `directory` (generation_config.json, else config.json)."""
    directory = Path(directory)
    generation = read_json(directory / "generation_config.json")
    source = "generation_config.json"
    if generation is None:
        config = read_json(directory / "config.json") or {}
        generation = {k: config.get(k) for k in ("bos_token_id", "eos_token_id", "pad_token_id")}
        source = "config.json" if config else "defaults"
    eos = _ids(generation.get("eos_token_id"))
    bos = _ids(generation.get("bos_token_id"))
    pad = _ids(generation.get("pad_token_id"))
    value = {k: generation.get(k) if generation.get(k) is not None else v for k, v in _GLOBAL.items()}
    try:
        return GenerationDefaults(
            eos_token_ids=eos, bos_token_id=bos[0] if bos else None,
            pad_token_id=pad[0] if pad else (eos[0] if eos else None),
            do_sample=bool(value["do_sample"]), temperature=float(value["temperature"]), top_p=float(value["top_p"]),
            top_k=int(value["top_k"]), repetition_penalty=float(value["repetition_penalty"]), source=source,
        )
    except (TypeError, ValueError) as exc:
        raise ModelError(f"cannot read the generation settings in {directory}: {exc}") from exc
