"""The model described as data: one flat dataclass, parsed from a Hugging Face config.json.

A hybrid stack is a list of `LayerSpec(mixer, ffn)`; every block computes
    x = x + mixer(norm(x));  x = x + ffn(norm(x))   (the second half only when ffn != "none")
so Mamba, Falcon-Mamba, Mamba-2 and Jamba differ only in that list and in a few scalar fields.
A new family is a parser plus a weight-name map (the Mamba-2 hybrids: config_hybrids.py and
loader_hybrids.py); multipliers and per-layer flags stay fields here (with neutral defaults), never
subclasses. Blocks that depart from the scheme above: mixer "none" (norm + feed-forward only), "parallel"
(Falcon-H1) and layers with a shared_block (Zamba2, shared_block.py).

Fields follow transformers' configuration_{mamba,falcon_mamba,mamba2,jamba}.py, including their defaults
for keys a checkpoint leaves out (e.g. Mamba's time_step_rank "auto" = ceil(hidden / 16)).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssmdoc.errors import ModelError

MIXERS = ("mamba1", "mamba2", "attention", "parallel", "none")  # parallel: attention + Mamba-2 side by side
FFNS = ("none", "mlp", "moe")


@dataclass(frozen=True)
class LayerSpec:
    """One block of the stack: its sequence mixer and its feed-forward."""

    mixer: str  # mamba1 | mamba2 | attention | parallel (Falcon-H1) | none (Nemotron-H's MLP-only blocks)
    ffn: str = "none"  # none | mlp | moe
    shared_block: int | None = None  # Zamba2: index of the shared transformer block run before the mixer

    def __post_init__(self):
        assert self.mixer in MIXERS, self.mixer
        assert self.ffn in FFNS, self.ffn

    @property
    def has_ssm(self) -> bool:
        """The layer carries a conv + SSM state."""
        return self.mixer in ("mamba1", "mamba2", "parallel")

    @property
    def has_kv(self) -> bool:
        """The layer carries a KV cache (its own attention, or its use of a shared attention block)."""
        return self.mixer in ("attention", "parallel") or self.shared_block is not None


@dataclass
class ModelConfig:
    architecture: str  # the HF class name, e.g. "JambaForCausalLM"; selects the weight-name map
    vocab_size: int
    hidden_size: int
    layers: list[LayerSpec]
    max_context: int | None = None  # what the checkpoint states it was trained for; None: unstated
    norm_eps: float = 1e-5  # the block / final RMSNorms
    norm_fp32_weight: bool = False  # those norms apply their weight in float32 before casting (Nemotron-H)
    residual_in_fp32: bool = False  # the residual stream stays float32 under bf16/fp16 weights (Mamba, Mamba-2)
    tie_word_embeddings: bool = False  # lm_head shares the embedding matrix
    bos_token_id: int | None = None
    eos_token_ids: list[int] = field(default_factory=list)
    pad_token_id: int | None = None
    model_type: str = ""

    # attention layers (grouped-query)
    num_attention_heads: int = 0
    num_key_value_heads: int = 0
    head_dim: int = 0
    rope_theta: float | None = None  # None: no positional encoding at all (Jamba relies on its Mamba layers)
    partial_rotary_factor: float = 1.0  # rotate only the first int(head_dim x factor) dims of each head
    attention_scale: float | None = None  # softmax scale; None: 1 / sqrt(head_dim)
    attention_bias: bool = False

    # SSM layers, shared by Mamba-1 and Mamba-2
    ssm_state_size: int = 0  # N, d_state
    ssm_inner_size: int = 0  # d_inner = expand x hidden
    conv_kernel: int = 4  # depthwise causal conv width
    conv_bias: bool = True
    ssm_proj_bias: bool = False  # bias of in_proj / out_proj
    ssm_activation: str = "silu"  # after the conv (and the gate)
    # Mamba-1 only
    time_step_rank: int = 0  # R, width of the dt low-rank projection
    bcdt_norm: str = "none"  # RMSNorm on dt, B, C before the scan: none | weightless (Falcon) | learned (Jamba)
    bcdt_norm_eps: float = 1e-6
    # Mamba-2 only
    ssm_num_heads: int = 0
    ssm_head_dim: int = 0
    ssm_n_groups: int = 1  # B and C shared by num_heads / n_groups heads
    ssm_chunk_size: int = 256
    time_step_limit: tuple[float, float] = (0.0, math.inf)  # dt clamp after softplus
    ssm_norm_group_size: int = 0  # gated RMSNorm normalises groups of this many channels (0: d_inner)

    # Zamba2's shared transformer blocks (layers name theirs in LayerSpec.shared_block)
    shared_attention_adapter: bool = False  # per-use low-rank adapters on q, k, v
    adapter_rank: int = 0  # rank of those and of the per-use MLP gate/up adapter

    # feed-forward layers
    intermediate_size: int = 0  # MLP / expert width
    mlp_activation: str = "silu"  # gated: act(gate) * up
    mlp_gated: bool = True  # False: down(act(up(x))) (Nemotron-H)
    mlp_bias: bool = False
    num_experts: int = 0
    num_experts_per_tok: int = 0  # top-k; Jamba keeps the softmax weights of the k without renormalising
    expert_size: int = 0  # width of one expert when it differs from intermediate_size (Nemotron-H)
    # router: "softmax_topk" (Jamba) | "topk_softmax" (Granite: softmax over the k chosen logits)
    #         | "sigmoid_grouped" (Nemotron-H: sigmoid scores, bias-corrected choice within the best groups)
    moe_router: str = "softmax_topk"
    moe_shared_size: int = 0  # width of the shared MLP added to the experts' output (0: none)
    moe_n_group: int = 1  # sigmoid_grouped only: expert groups, groups kept, renormalise, final scale
    moe_topk_group: int = 1
    moe_norm_topk: bool = True
    moe_routed_scaling: float = 1.0

    # multipliers some later families use (neutral here)
    embedding_multiplier: float = 1.0
    residual_multiplier: float = 1.0  # Granite: both residual branches are scaled by it
    logits_scaling: float = 1.0  # logits are divided by it (Falcon-H1's lm_head_multiplier m: 1 / m)
    key_multiplier: float = 1.0  # Falcon-H1: k is scaled before the rotation
    # Falcon-H1's muP multipliers: inputs / outputs of its parallel branches, the five slices of the Mamba-2
    # in_proj output (z, x, B, C, dt), the MLP's gate input and down output
    attention_in_multiplier: float = 1.0
    attention_out_multiplier: float = 1.0
    ssm_in_multiplier: float = 1.0
    ssm_out_multiplier: float = 1.0
    ssm_multipliers: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0)
    mlp_multipliers: tuple[float, float] = (1.0, 1.0)
    # Mamba-2 output: "gated" rmsnorm(y * silu(z)) | "gated_norm_first" rmsnorm(y) * silu(z) | "none" y * silu(z)
    ssm_norm: str = "gated"
    ssm_out_proj_bias: bool | None = None  # None: ssm_proj_bias (Falcon-H1 sets it apart)
    ssm_norm_eps: float | None = None  # that norm's eps; None: norm_eps (Zamba2 fixes it at 1e-5)

    def __post_init__(self):
        self.layers = list(self.layers)

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def ssm_conv_dim(self) -> int:
        """Channels of the causal conv: x for Mamba-1; x, B and C together for Mamba-2."""
        if any(spec.mixer in ("mamba2", "parallel") for spec in self.layers):
            return self.ssm_inner_size + 2 * self.ssm_n_groups * self.ssm_state_size
        return self.ssm_inner_size

    def layer_indices(self, mixer: str) -> list[int]:
        return [i for i, spec in enumerate(self.layers) if spec.mixer == mixer]


# ---------------------------------------------------------------------------------------------------------
# parsers: HF config.json dict -> ModelConfig


def _eos_list(value: Any) -> list[int]:
    if value is None:
        return []
    if isinstance(value, int):
        return [value]
    return [int(v) for v in value]


def _float(value: Any) -> float:
    """A JSON float; transformers 5 writes non-finite ones as {"__float__": "Infinity"}."""
    if isinstance(value, dict) and "__float__" in value:
        value = value["__float__"]
    return float(value)


def _rank(value: Any, hidden: int) -> int:
    return math.ceil(hidden / 16) if value in (None, "auto") else int(value)


def _common(raw: dict, architecture: str, **defaults) -> dict:
    """Token ids and vocabulary; `defaults` are the HF class defaults for keys absent from config.json."""
    get = lambda key: raw.get(key, defaults.get(key))  # noqa: E731
    return dict(
        architecture=architecture,
        model_type=raw.get("model_type", ""),
        vocab_size=int(get("vocab_size")),
        hidden_size=int(get("hidden_size")),
        bos_token_id=get("bos_token_id"),
        eos_token_ids=_eos_list(get("eos_token_id")),
        pad_token_id=get("pad_token_id"),
        tie_word_embeddings=bool(get("tie_word_embeddings")),
    )


def _parse_mamba(raw: dict, architecture: str) -> ModelConfig:
    """MambaForCausalLM and FalconMambaForCausalLM (the latter adds weightless RMSNorms on dt, B, C)."""
    falcon = architecture == "FalconMambaForCausalLM"
    base = _common(raw, architecture, vocab_size=50280, hidden_size=768, bos_token_id=0, eos_token_id=0,
                   pad_token_id=0, tie_word_embeddings=True)
    hidden = base["hidden_size"]
    return ModelConfig(
        **base,
        layers=[LayerSpec("mamba1")] * int(raw.get("num_hidden_layers", 32)),
        norm_eps=float(raw.get("layer_norm_epsilon", 1e-5)),
        residual_in_fp32=bool(raw.get("residual_in_fp32", True)),
        ssm_state_size=int(raw.get("state_size", 16)),
        # transformers derives it from expand and ignores a stored intermediate_size
        ssm_inner_size=int(raw.get("expand", 2) * hidden),
        conv_kernel=int(raw.get("conv_kernel", 4)),
        conv_bias=bool(raw.get("use_conv_bias", True)),
        ssm_proj_bias=bool(raw.get("use_bias", False)),
        ssm_activation=raw.get("hidden_act", "silu"),
        time_step_rank=_rank(raw.get("time_step_rank", "auto"), hidden),
        bcdt_norm="weightless" if falcon else "none",
        bcdt_norm_eps=float(raw.get("mixer_rms_eps", 1e-6)),
    )


def _parse_mamba2(raw: dict, architecture: str) -> ModelConfig:
    base = _common(raw, architecture, vocab_size=32768, hidden_size=4096, bos_token_id=0, eos_token_id=2,
                   pad_token_id=1, tie_word_embeddings=False)
    hidden = base["hidden_size"]
    inner = int(raw.get("expand", 2) * hidden)
    heads, head_dim = int(raw.get("num_heads", 128)), int(raw.get("head_dim", 64))
    groups = int(raw.get("n_groups", 8))
    if heads * head_dim != inner or heads % groups:
        raise ModelError(
            f"inconsistent Mamba-2 config: expand x hidden_size = {inner}, num_heads x head_dim = "
            f"{heads * head_dim}, num_heads {heads} over n_groups {groups}"
        )
    limit = raw.get("time_step_limit") or (0.0, math.inf)
    return ModelConfig(
        **base,
        layers=[LayerSpec("mamba2")] * int(raw.get("num_hidden_layers", 64)),
        norm_eps=float(raw.get("layer_norm_epsilon", 1e-5)),
        residual_in_fp32=bool(raw.get("residual_in_fp32", True)),
        ssm_state_size=int(raw.get("state_size", 128)),
        ssm_inner_size=inner,
        conv_kernel=int(raw.get("conv_kernel", 4)),
        conv_bias=bool(raw.get("use_conv_bias", True)),
        ssm_proj_bias=bool(raw.get("use_bias", False)),
        ssm_activation=raw.get("hidden_act", "silu"),
        ssm_num_heads=heads,
        ssm_head_dim=head_dim,
        ssm_n_groups=groups,
        ssm_chunk_size=int(raw.get("chunk_size", 256)),
        time_step_limit=(_float(limit[0]), _float(limit[1])),
        ssm_norm_group_size=inner // groups,
    )


def _parse_jamba(raw: dict, architecture: str) -> ModelConfig:
    base = _common(raw, architecture, vocab_size=65536, hidden_size=4096, bos_token_id=1, eos_token_id=2,
                   pad_token_id=0, tie_word_embeddings=False)
    hidden = base["hidden_size"]
    n_layers = int(raw.get("num_hidden_layers", 32))
    attn_period, attn_offset = int(raw.get("attn_layer_period", 8)), int(raw.get("attn_layer_offset", 4))
    exp_period, exp_offset = int(raw.get("expert_layer_period", 2)), int(raw.get("expert_layer_offset", 1))
    num_experts = int(raw.get("num_experts", raw.get("num_local_experts", 16)))
    if attn_offset >= attn_period or exp_offset >= exp_period:
        raise ModelError("inconsistent Jamba config: a layer offset is not smaller than its period")
    layers = [
        LayerSpec(
            "attention" if i % attn_period == attn_offset else "mamba1",
            "moe" if num_experts > 1 and i % exp_period == exp_offset else "mlp",
        )
        for i in range(n_layers)
    ]
    heads = int(raw.get("num_attention_heads", 32))
    kv_heads = raw.get("num_key_value_heads", 8)
    eps = float(raw.get("rms_norm_eps", 1e-6))
    return ModelConfig(
        **base,
        layers=layers,
        max_context=raw.get("max_position_embeddings", 262144),
        norm_eps=eps,
        num_attention_heads=heads,
        num_key_value_heads=int(heads if kv_heads is None else kv_heads),
        head_dim=hidden // heads,
        rope_theta=None,
        ssm_state_size=int(raw.get("mamba_d_state", 16)),
        ssm_inner_size=int(raw.get("mamba_expand", 2) * hidden),
        conv_kernel=int(raw.get("mamba_d_conv", 4)),
        conv_bias=bool(raw.get("mamba_conv_bias", True)),
        ssm_proj_bias=bool(raw.get("mamba_proj_bias", False)),
        ssm_activation=raw.get("hidden_act", "silu"),
        time_step_rank=_rank(raw.get("mamba_dt_rank", "auto"), hidden),
        bcdt_norm="learned",
        bcdt_norm_eps=eps,
        intermediate_size=int(raw.get("intermediate_size", 14336)),
        mlp_activation=raw.get("hidden_act", "silu"),
        num_experts=num_experts if num_experts > 1 else 0,
        num_experts_per_tok=int(raw.get("num_experts_per_tok", 2)) if num_experts > 1 else 0,
    )


PARSERS = {
    "MambaForCausalLM": _parse_mamba,
    "FalconMambaForCausalLM": _parse_mamba,
    "Mamba2ForCausalLM": _parse_mamba2,
    "JambaForCausalLM": _parse_jamba,
}
# config.json without "architectures" (older exports) still names its model_type
_BY_MODEL_TYPE = {
    "mamba": "MambaForCausalLM",
    "falcon_mamba": "FalconMambaForCausalLM",
    "mamba2": "Mamba2ForCausalLM",
    "jamba": "JambaForCausalLM",
}
# the Mamba-2 hybrids (Bamba, Granite-4.0-H, ...) live in their own module, built on the helpers above
from .config_hybrids import HYBRID_MODEL_TYPES, HYBRID_PARSERS  # noqa: E402

PARSERS.update(HYBRID_PARSERS)
_BY_MODEL_TYPE.update(HYBRID_MODEL_TYPES)


def parse_config(raw: dict) -> ModelConfig:
    """Parse a config.json dict; ModelError for an architecture ssmdoc does not implement."""
    names = raw.get("architectures") or []
    architecture = names[0] if names else _BY_MODEL_TYPE.get(raw.get("model_type", ""), "")
    parser = PARSERS.get(architecture)
    if parser is None:
        shown = architecture or f"model_type {raw.get('model_type')!r}"
        raise ModelError(
            f"unsupported model architecture {shown}; ssmdoc runs {', '.join(PARSERS)}",
            hint="pick a checkpoint of one of those architectures",
        )
    try:
        config = parser(raw, architecture)
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelError(f"cannot parse the {architecture} config: {exc}") from exc
    for i in config.layer_indices("mamba1") + config.layer_indices("mamba2"):
        if config.ssm_activation not in ("silu", "swish"):
            raise ModelError(f"unsupported SSM activation {config.ssm_activation!r} (layer {i})")
    return config


def load_config(path_or_dir: str | Path) -> ModelConfig:
    """Read config.json from a checkpoint directory (or the file itself). Parsing only, no weights."""
    path = Path(path_or_dir)
    if path.is_dir():
        path = path / "config.json"
    if not path.is_file():
        raise ModelError(f"no config.json at {path}", hint="point at a Hugging Face checkpoint directory")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ModelError(f"{path} is not a JSON object")
    return parse_config(raw)


# ---------------------------------------------------------------------------------------------------------
# memory estimates from the config alone (ssmdoc inspect, the report)

_ITEMSIZE = {"float32": 4, "float": 4, "fp32": 4, "bfloat16": 2, "bf16": 2, "float16": 2, "half": 2,
             "fp16": 2, "float64": 8, "double": 8}


def dtype_bytes(dtype: Any) -> int:
    """Bytes per element of a torch dtype or its name ("bfloat16", "torch.float16", ...)."""
    size = getattr(dtype, "itemsize", None)
    if isinstance(size, int):
        return size
    name = str(dtype).removeprefix("torch.")
    if name not in _ITEMSIZE:
        raise ValueError(f"unknown dtype {dtype!r}")
    return _ITEMSIZE[name]


SSM_STATE_BYTES = 4  # the recurrent SSM state is always held in float32, whatever the weights' dtype


def estimate_state_bytes(config: ModelConfig, n_tokens: int, dtype: Any, batch_size: int = 1,
                         kv_window: int | None = None) -> dict[str, int]:
    """Bytes of the inference state after `n_tokens`: {"ssm", "conv", "kv"}; matches InferenceState.nbytes().

    The SSM state is float32; conv and KV caches are in `dtype`. With `kv_window` attention keeps only the
    last `kv_window` keys and values.
    """
    item = dtype_bytes(dtype)
    kept = n_tokens if kv_window is None else min(n_tokens, kv_window)
    ssm = conv = kv = 0
    for spec in config.layers:  # a layer may hold both (Falcon-H1's parallel layers, Zamba2's shared uses)
        if spec.mixer == "mamba1":
            ssm += config.ssm_inner_size * config.ssm_state_size * SSM_STATE_BYTES
            conv += config.ssm_inner_size * (config.conv_kernel - 1) * item
        elif spec.has_ssm:
            ssm += config.ssm_num_heads * config.ssm_head_dim * config.ssm_state_size * SSM_STATE_BYTES
            conv += config.ssm_conv_dim * (config.conv_kernel - 1) * item
        if spec.has_kv:
            kv += 2 * config.num_key_value_heads * config.head_dim * kept * item
    return {"ssm": ssm * batch_size, "conv": conv * batch_size, "kv": kv * batch_size}


def transformer_kv_equivalent_bytes(config: ModelConfig, n_tokens: int, dtype: Any) -> int:
    """KV cache of an all-attention model of the same depth and width, for comparison.

    2 x n_layers x n_kv_heads x head_dim x tokens x bytes; hidden_size stands for n_kv_heads x head_dim
    when the checkpoint has no attention layer.
    """
    width = config.num_key_value_heads * config.head_dim if any(s.has_kv for s in config.layers) else 0
    width = width or config.hidden_size
    # Nemotron-H's MLP-only blocks are half of a transformer layer: only blocks with a sequence mixer count
    depth = sum(spec.mixer != "none" for spec in config.layers)
    return 2 * depth * width * n_tokens * dtype_bytes(dtype)
