"""The engines a worker can measure, behind one small interface (runs inside the worker process only).

A runner holds a loaded model and the cache of one sequence:
    reset()            forget the sequence (fresh state / empty cache)
    prefill(ids)       feed (1, L) token ids, return the greedy next token (1, 1)
    step(token)        feed one token, return the next (1, 1)
    state_bytes()      {"ssm", "conv", "kv"}: bytes of the state / cache held now
Engines: "ssmdoc" (this package's engine), "transformers" (the same checkpoint through transformers'
AutoModelForCausalLM), "attention" (a random LlamaForCausalLM of the checkpoint's depth, width, heads and vocab).
"""

from __future__ import annotations

import inspect
from pathlib import Path

import torch

from ssmdoc.errors import ModelError, UsageError


class SsmdocRunner:
    def __init__(self, model):
        self.model = model
        self.state = model.new_state()

    def reset(self) -> None:
        self.state = self.model.new_state()

    def prefill(self, ids: torch.Tensor) -> torch.Tensor:
        # Chunked feeding is the engine's business; the benchmark hands it the whole document at once.
        logits = self.model(ids, state=self.state, logits="last")  # (1, 1, vocab)
        return logits[:, -1:].argmax(-1)

    def step(self, token: torch.Tensor) -> torch.Tensor:
        return self.prefill(token)

    def state_bytes(self) -> dict[str, int]:
        return {key: int(value) for key, value in self.state.nbytes().items()}


class TransformersRunner:
    """A transformers causal LM with its cache; works for Mamba (cache_params) and Llama (past_key_values)."""

    def __init__(self, model):
        self.model = model
        params = inspect.signature(model.forward).parameters
        self.cache_arg = "cache_params" if "cache_params" in params else "past_key_values"
        # only the last position's logits: transformers >= 4.50 says logits_to_keep, older num_logits_to_keep
        self.keep_arg = next((a for a in ("logits_to_keep", "num_logits_to_keep") if a in params), None)
        self.cache = None

    def reset(self) -> None:
        self.cache = None

    def _forward(self, ids: torch.Tensor) -> torch.Tensor:
        kwargs = {"use_cache": True}
        if self.keep_arg:
            kwargs[self.keep_arg] = 1
        if self.cache is not None:
            kwargs[self.cache_arg] = self.cache
        out = self.model(input_ids=ids, **kwargs)
        self.cache = getattr(out, "past_key_values", None) or getattr(out, "cache_params", None)
        return out.logits[:, -1:].argmax(-1)

    def prefill(self, ids: torch.Tensor) -> torch.Tensor:
        return self._forward(ids)

    def step(self, token: torch.Tensor) -> torch.Tensor:
        return self._forward(token)

    def state_bytes(self) -> dict[str, int]:
        return cache_bytes(self.cache)


def cache_bytes(cache) -> dict[str, int]:
    """Bytes of every tensor reachable from a transformers cache object, by kind (named by their attribute).

    Cache classes change between transformers versions (MambaCache, DynamicCache with linear-attention
    layers, ...), so walk their attributes instead of relying on one layout: "conv*" -> conv,
    "ssm*"/"recurrent*" -> ssm, "key*"/"value*" -> kv.
    """
    totals = {"ssm": 0, "conv": 0, "kv": 0}
    seen: set[int] = set()

    def kind_of(name: str) -> str | None:
        name = name.lower()
        if "conv" in name:
            return "conv"
        if "ssm" in name or "recurrent" in name:
            return "ssm"
        if "key" in name or "value" in name:
            return "kv"
        return None

    def walk(obj, kind: str | None, depth: int) -> None:
        if obj is None or depth > 6 or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, torch.Tensor):
            if kind is not None:
                totals[kind] += obj.numel() * obj.element_size()
            return
        if isinstance(obj, dict):
            for value in obj.values():
                walk(value, kind, depth + 1)
        elif isinstance(obj, (list, tuple)):
            for value in obj:
                walk(value, kind, depth + 1)
        elif type(obj).__module__.startswith("transformers"):
            for name, value in vars(obj).items():
                walk(value, kind_of(name) or kind, depth + 1)

    walk(cache, None, 0)
    return totals


def _torch_dtype(name: str) -> torch.dtype:
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def _transformers():
    try:
        import transformers
    except ImportError as exc:
        raise UsageError(
            "transformers is not installed: it is needed for --compare transformers and --baseline-attention",
            "pip install transformers (or leave those options out)",
        ) from exc
    transformers.logging.set_verbosity_error()
    return transformers


def attention_config(config, max_tokens: int):
    """The LlamaConfig of the all-attention baseline for a checkpoint's ModelConfig.

    Same depth, hidden size and vocab; the checkpoint's attention heads when it has attention layers, else
    heads of (about) 64 channels, multi-head. The MLP is the checkpoint's when it has one; for a pure SSM
    checkpoint it is sized so that a Llama layer holds about as many weights as the Mamba layer it replaces
    (Mamba-1: 3*d_inner*d; Llama: 4*d^2 attention + 3*d*I MLP, so I = d_inner - 4d/3).
    """
    transformers = _transformers()
    d = config.hidden_size
    heads = config.attention.num_heads
    if heads <= 0:
        heads = max(1, d // 64)
        while d % heads:  # heads must divide the width
            heads -= 1
    kv_heads = config.attention.num_kv_heads or heads
    head_dim = config.attention.head_dim or d // heads
    inner = config.mlp.intermediate_size or max(config.ssm.inner_size - (4 * d) // 3, d // 2)
    return transformers.LlamaConfig(
        vocab_size=config.vocab_size,
        hidden_size=d,
        intermediate_size=inner,
        num_hidden_layers=config.num_layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=head_dim,
        max_position_embeddings=max(max_tokens, 2048),
        tie_word_embeddings=config.tie_word_embeddings,
        bos_token_id=config.bos_token_id,
        eos_token_id=config.eos_token_ids[0] if config.eos_token_ids else None,
        pad_token_id=config.pad_token_id,
    )


def load_runner(engine: str, checkpoint: Path, device: str, dtype: str, max_tokens: int):
    """(runner, vocab_size, n_params) for `engine` on `checkpoint`, weights on `device` in `dtype`."""
    torch_dtype = _torch_dtype(dtype)
    if engine == "ssmdoc":
        from ssmdoc.models import load_pretrained

        model = load_pretrained(str(checkpoint), device=device, dtype=torch_dtype).eval()
        return SsmdocRunner(model), model.config.vocab_size, _n_params(model)
    transformers = _transformers()
    if engine == "transformers":
        try:
            model = transformers.AutoModelForCausalLM.from_pretrained(str(checkpoint), dtype=torch_dtype)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"transformers cannot load {checkpoint}: {exc}") from exc
        model = model.to(device).eval()
        return TransformersRunner(model), model.config.vocab_size, _n_params(model)
    if engine == "attention":
        from ssmdoc.models import load_config

        llama_config = attention_config(load_config(checkpoint), max_tokens)
        torch.manual_seed(0)  # the same random baseline every run
        model = transformers.LlamaForCausalLM(llama_config).to(device=device, dtype=torch_dtype).eval()
        return TransformersRunner(model), llama_config.vocab_size, _n_params(model)
    raise UsageError(f"unknown engine {engine!r}")


def _n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())
