"""The model described as data: one flat dataclass, parsed from a Hugging Face config.json.

A hybrid stack is a list of `LayerSpec(mixer, ffn)`; every block computes
    x = x + mixer(norm(x));  x = x + ffn(norm(x))   (the second half only when ffn != "none")
so Mamba, Falcon-Mamba, Mamba-2 and Jamba differ only in that list and in a few scalar fields.
A new family is one module in models/families/ (its parser fills this dataclass); multipliers and
per-layer flags stay fields here (with neutral defaults), never subclasses. Blocks that depart from the
scheme above: mixer "none" (norm + feed-forward only), "parallel" (Falcon-H1) and layers with a
shared_block (Zamba2, shared_block.py). Parsing is in parsing.py, memory estimates in memory.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
    def has_mixer(self) -> bool:
        """False for Nemotron-H's MLP-only blocks (half of a transformer layer)."""
        return self.mixer != "none"

    @property
    def plain_ssm(self) -> bool:
        """A Mamba-1 / Mamba-2 mixer of its own (its activation is the config's ssm_activation)."""
        return self.mixer in ("mamba1", "mamba2")

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

    def layer_indices(self, mixer: str) -> list[int]:
        return [i for i, spec in enumerate(self.layers) if spec.mixer == mixer]
