"""Checkpoint loading: safetensors files -> HybridLM parameters, through a per-architecture name map.

Only safetensors are read (a single model.safetensors or a sharded model.safetensors.index.json);
pickle checkpoints (*.bin, *.pt) are refused because unpickling can run arbitrary code, and no code that
ships with a checkpoint is ever imported.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from . import checkpoint
from .config import ModelConfig
from .errors import ModelError
from .families import Family
from .ffn import MoE
from .model import HybridLM
from .parsing import config_family, load_config
from .stored import StoredTensor, read_header
from .validate import check_memory


def _iter_tensors(files: list[Path]):
    """(name, StoredTensor) pairs in file order, unread: load_state reads each into its parameter, so the
    weights are resident once (see stored.py)."""
    for file in files:
        try:
            tensors = read_header(file)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read {file}: {exc}") from exc
        for tensor in tensors:
            yield tensor.name, tensor


def _materialize(tensor) -> torch.Tensor:
    if isinstance(tensor, StoredTensor):
        try:
            return tensor.read()
        except OSError as exc:
            raise ModelError(f"cannot read {tensor.path}: {exc}") from exc
    return tensor


def _targets(rules: "_Rules", name: str, tensor: torch.Tensor) -> list[tuple[str, int | None, torch.Tensor]]:
    """Where a checkpoint tensor goes: [(parameter name, expert index or None, tensor)]; [] to skip it,
    None when the name is unknown."""
    if name.endswith("rotary_emb.inv_freq") or any(rx.fullmatch(name) for rx in rules.ignored):
        return []
    for rx, replacement in rules.names:
        if rx.fullmatch(name):
            target = rx.sub(replacement, name)
            break
    else:
        return None
    if target == "-":  # a tensor the reference builds but never reads (e.g. an untied Zamba2 block's spare adapters)
        return []
    if "|" in target or target.endswith("gate+up"):
        tensor = _materialize(tensor)  # split below: read whole first
    if "|" in target:  # a fused (..., n x f, d) tensor: n equal slices along the output-feature dimension
        names = target.split("|")
        return [(t, None, part) for t, part in zip(names, tensor.chunk(len(names), dim=tensor.dim() - 2))]
    if target.endswith("]"):  # one expert's matrix, a slice of the stacked parameter
        key, index = target[:-1].split("[")
        return [(key, int(index), tensor)]
    if target.endswith("gate+up"):  # fused (E, 2f, d): the first half is the gate
        gate, up = tensor.chunk(2, dim=1)
        base = target.removesuffix("gate+up")
        return [(base + "gate", None, gate), (base + "up", None, up)]
    return [(target, None, tensor)]


class _Rules:
    """A family's name map and ignored names, compiled for one config."""

    def __init__(self, family: Family, config: ModelConfig):
        self.names = [(re.compile(p), r) for p, r in family.name_rules(config)]
        self.ignored = [re.compile(p) for p in family.ignored_tensors]


def load_state(model: HybridLM, named_tensors) -> None:
    """Copy (name, tensor) pairs from a checkpoint into `model`; ModelError naming every missing,
    unexpected or misshapen tensor."""
    config = model.config
    rules = _Rules(config_family({"architectures": [config.architecture]}), config)
    params = dict(model.named_parameters())  # a tied lm_head appears once, as embed.weight
    filled: set[str] = set()
    unexpected: list[str] = []
    for name, tensor in named_tensors:
        targets = _targets(rules, name, tensor)
        if targets is None:
            unexpected.append(name)
            continue
        for target, index, value in targets:
            if target == "lm_head.weight" and config.tie_word_embeddings:
                continue  # some exports store the tied copy too
            param = params.get(target)
            if param is None:
                unexpected.append(name)
                continue
            dest = param if index is None else (param[index] if index < param.shape[0] else None)
            if dest is None or value.shape != dest.shape:
                raise ModelError(f"tensor {name} has shape {tuple(value.shape)}, the {config.architecture} "
                                 f"config implies {tuple(param.shape)}" + ("" if index is None else " (stacked)"))
            with torch.no_grad():
                if isinstance(value, StoredTensor):
                    try:
                        value.read_into(dest)
                    except OSError as exc:
                        raise ModelError(f"cannot read {value.path}: {exc}") from exc
                else:
                    dest.copy_(value)
            filled.add(target if index is None else f"{target}[{index}]")
    missing = []
    for pname, param in params.items():
        if pname in filled:
            continue
        owner, leaf = pname.rsplit(".", 1)
        if isinstance(model.get_submodule(owner), MoE) and leaf in ("gate", "up", "down"):  # stacked experts
            missing += [f"{pname}[{j}]" for j in range(param.shape[0]) if f"{pname}[{j}]" not in filled]
        else:
            missing.append(pname)
    if missing or unexpected:
        parts = []
        for label, names in (("missing tensors", missing), ("unexpected tensors", unexpected)):
            if names:
                parts.append(f"{label}: {', '.join(names[:8])}" + (f" (+{len(names) - 8} more)" if len(names) > 8 else ""))
        raise ModelError(f"the checkpoint does not match its {config.architecture} config (ssmdoc's parameter "
                         "names): " + "; ".join(parts))


def _pick_dtype(dtype, path: Path) -> torch.dtype:
    if dtype is None:
        return getattr(torch, checkpoint.checkpoint_dtype(path))
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype.removeprefix("torch."), None)
    if dtype not in (torch.float32, torch.bfloat16, torch.float16):
        raise ModelError(f"unsupported dtype {dtype}; use float32, bfloat16 or float16")
    return dtype


def load_pretrained(path_or_repo_id: str | Path, device: str | torch.device = "cpu", dtype=None) -> HybridLM:
    """Load a Hugging Face checkpoint: a local directory, or a Hub repo id (checkpoint.resolve_checkpoint)."""
    path = checkpoint.resolve_checkpoint(path_or_repo_id)
    config = load_config(path)
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ModelError("device 'cuda' was asked for but no CUDA device is available", hint="use --device cpu")
    files = checkpoint.safetensors_files(path)
    model = empty_model(config, _pick_dtype(dtype, path), device)
    load_state(model, _iter_tensors(files))
    return model.eval()


def empty_model(config: ModelConfig, dtype: torch.dtype, device: str | torch.device = "meta") -> HybridLM:
    """The model with uninitialised parameters in `dtype`, ready for load_state; the parameters its family
    keeps in float32 (Family.fp32_params, as transformers' _keep_in_fp32_modules_strict) stay float32."""
    kept = [re.compile(p) for p in config_family({"architectures": [config.architecture]}).fp32_params]
    with torch.device("meta"):  # no memory until the real tensors arrive
        model = HybridLM(config).to(dtype)
        for name, param in model.named_parameters():
            if any(rx.fullmatch(name) for rx in kept):
                param.data = param.data.float()
    if torch.device(device).type == "meta":
        return model
    check_memory(model, device)  # refused before to_empty takes the memory (validate.py)
    model = model.to_empty(device=device)
    for module in model.modules():  # to_empty leaves buffers undefined: rotary frequencies, muP vectors
        if hasattr(module, "reset_buffers"):
            module.reset_buffers()
    if config.tie_word_embeddings:  # to_empty breaks the tie: restore it
        model.lm_head.weight = model.embed.weight
    return model
