"""Checkpoint loading: safetensors files -> HybridLM parameters, through a per-architecture name map.

Only safetensors are read (a single model.safetensors or a sharded model.safetensors.index.json);
pickle checkpoints (*.bin, *.pt) are refused because unpickling can run arbitrary code, and no code that
ships with a checkpoint is ever imported.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch

from ssmdoc.errors import ModelError

from .config import ModelConfig, load_config
from .ffn import MoE
from .loader_hybrids import HYBRID_NAME_MAPS
from .model import HybridLM

# (pattern, replacement) applied in order to each checkpoint name; the first match wins.
_MAMBA_NAMES = [
    (r"backbone\.embeddings?\.weight", "embed.weight"),  # older exports say "embedding"
    (r"backbone\.norm_f\.weight", "norm_f.weight"),
    (r"backbone\.layers\.(\d+)\.norm\.weight", r"layers.\1.norm.weight"),
    (r"backbone\.layers\.(\d+)\.mixer\.(.+)", r"layers.\1.mixer.\2"),
    (r"lm_head\.weight", "lm_head.weight"),
]
_JAMBA_NAMES = [
    (r"model\.embed_tokens\.weight", "embed.weight"),
    (r"model\.final_layernorm\.weight", "norm_f.weight"),
    (r"model\.layers\.(\d+)\.input_layernorm\.weight", r"layers.\1.norm.weight"),
    (r"model\.layers\.(\d+)\.pre_ff_layernorm\.weight", r"layers.\1.ffn_norm.weight"),
    (r"model\.layers\.(\d+)\.(?:mamba|self_attn)\.(.+)", r"layers.\1.mixer.\2"),
    # experts: per-expert tensors (Hub) or fused (E, 2f, d) / (E, d, f) tensors (transformers 5 layout)
    (r"model\.layers\.(\d+)\.feed_forward\.experts\.(\d+)\.(gate|up|down)_proj\.weight", r"layers.\1.ffn.\3[\2]"),
    (r"model\.layers\.(\d+)\.feed_forward\.experts\.gate_up_proj", r"layers.\1.ffn.gate+up"),
    (r"model\.layers\.(\d+)\.feed_forward\.experts\.down_proj", r"layers.\1.ffn.down"),
    (r"model\.layers\.(\d+)\.feed_forward\.router\.weight", r"layers.\1.ffn.router.weight"),
    (r"model\.layers\.(\d+)\.feed_forward\.(.+)", r"layers.\1.ffn.\2"),
    (r"lm_head\.weight", "lm_head.weight"),
]
NAME_MAPS = {
    "MambaForCausalLM": _MAMBA_NAMES,
    "FalconMambaForCausalLM": _MAMBA_NAMES,
    "Mamba2ForCausalLM": _MAMBA_NAMES,
    "JambaForCausalLM": _JAMBA_NAMES,
    "BambaForCausalLM": _JAMBA_NAMES,  # the same module names as Jamba's (dense MLPs only)
}
NAME_MAPS.update(HYBRID_NAME_MAPS)
# Falcon-Mamba's dt/B/C norms have no weights; an export may still carry their dummy all-ones tensors.
_FALCON = "FalconMambaForCausalLM"
_FALCON_DUMMY = re.compile(r".*\.mixer\.(?:b|c|dt)_layernorm\.weight")
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


def _safetensors_files(path: Path) -> list[Path]:
    index = path / "model.safetensors.index.json"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read {index}: {exc}") from exc
        files = [path / name for name in dict.fromkeys(weight_map.values())]
        missing = [f.name for f in files if not f.is_file()]
        if missing:
            raise ModelError(f"{index.name} lists shards that are not in {path}: {', '.join(missing[:5])}",
                             hint="the download may be incomplete; fetch the checkpoint again")
        return files
    single = path / "model.safetensors"
    if single.is_file():
        return [single]
    files = sorted(path.glob("*.safetensors"))
    if files:
        return files
    pickles = sorted(p.name for p in path.iterdir() if p.name.endswith(_PICKLE_SUFFIXES))
    if pickles:
        raise ModelError(
            f"{path} has only pickle weights ({', '.join(pickles[:3])}); ssmdoc loads safetensors only, "
            "because unpickling a file can run arbitrary code",
            hint="use a checkpoint that ships model.safetensors, or convert it with a tool you trust",
        )
    raise ModelError(f"no weights in {path} (expected model.safetensors or model.safetensors.index.json)")


def _iter_tensors(files: list[Path]):
    """(name, tensor) pairs, one at a time, so that loading never holds two copies of the weights."""
    from safetensors import SafetensorError, safe_open

    for file in files:
        try:
            with safe_open(str(file), framework="pt") as handle:
                for name in handle.keys():
                    yield name, handle.get_tensor(name)
        except (SafetensorError, OSError) as exc:
            raise ModelError(f"cannot read {file}: {exc}") from exc


def _targets(config: ModelConfig, name: str, tensor: torch.Tensor) -> list[tuple[str, int | None, torch.Tensor]]:
    """Where a checkpoint tensor goes: [(parameter name, expert index or None, tensor)]; [] to skip it,
    None when the name is unknown."""
    if name.endswith("rotary_emb.inv_freq") or (config.architecture == _FALCON and _FALCON_DUMMY.fullmatch(name)):
        return []
    for rx, replacement in _rules(config):
        if rx.fullmatch(name):
            target = rx.sub(replacement, name)
            break
    else:
        return None
    if target == "-":  # a tensor the reference builds but never reads (e.g. an untied Zamba2 block's spare adapters)
        return []
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


def _rules(config: ModelConfig):
    rules = NAME_MAPS[config.architecture]
    if callable(rules):  # a map that depends on the layout (e.g. where Granite's shared MLP sits)
        rules = rules(config)
    return [(re.compile(p), r) for p, r in rules]


def load_state(model: HybridLM, named_tensors) -> None:
    """Copy (name, tensor) pairs from a checkpoint into `model`; ModelError naming every missing,
    unexpected or misshapen tensor."""
    config = model.config
    params = dict(model.named_parameters())  # a tied lm_head appears once, as embed.weight
    filled: set[str] = set()
    unexpected: list[str] = []
    for name, tensor in named_tensors:
        targets = _targets(config, name, tensor)
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


def _resolve(path_or_repo_id: str | Path) -> Path:
    path = Path(path_or_repo_id).expanduser()
    if path.is_dir():
        return path
    from ssmdoc.hub import resolve_checkpoint  # lazily: network and cache handling live there

    return Path(resolve_checkpoint(str(path_or_repo_id)))


_SAFETENSORS_DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


def _pick_dtype(dtype, files: list[Path]) -> torch.dtype:
    if dtype is None:  # the checkpoint's own dtype: that of its embedding matrix (read from the header)
        from safetensors import safe_open

        for file in files:
            with safe_open(str(file), framework="pt") as handle:
                for name in handle.keys():
                    if "emb" in name:
                        return _SAFETENSORS_DTYPES.get(handle.get_slice(name).get_dtype(), torch.float32)
        return torch.float32
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype.removeprefix("torch."), None)
    if dtype not in (torch.float32, torch.bfloat16, torch.float16):
        raise ModelError(f"unsupported dtype {dtype}; use float32, bfloat16 or float16")
    return dtype


def load_pretrained(path_or_repo_id: str | Path, device: str | torch.device = "cpu", dtype=None) -> HybridLM:
    """Load a Hugging Face checkpoint (a local directory, else resolved through ssmdoc.hub)."""
    path = _resolve(path_or_repo_id)
    config = load_config(path)
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ModelError("device 'cuda' was asked for but no CUDA device is available", hint="use --device cpu")
    files = _safetensors_files(path)
    target_dtype = _pick_dtype(dtype, files)
    with torch.device("meta"):  # no memory until the real tensors arrive
        model = HybridLM(config).to(target_dtype)
    model = model.to_empty(device=device)
    for module in model.modules():  # to_empty leaves buffers undefined: rotary frequencies, muP vectors
        if hasattr(module, "reset_buffers"):
            module.reset_buffers()
    if config.tie_word_embeddings:  # to_empty breaks the tie: restore it
        model.lm_head.weight = model.embed.weight
    load_state(model, _iter_tensors(files))
    return model.eval()
