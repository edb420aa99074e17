"""The model described as data: a small core plus one sub-config per layer kind, parsed from config.json.

A hybrid stack is a list of `LayerSpec(mixer, ffn)`; every block computes
    x = x + mixer(norm(x));  x = x + ffn(norm(x))   (the second half only when ffn != "none")
so Mamba, Falcon-Mamba, Mamba-2 and Jamba differ only in that list and in a few scalar fields.
A new family is one module in models/families/ (its parser fills these dataclasses); multipliers and
per-layer flags stay fields (with neutral defaults), never subclasses. Blocks that depart from the
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
        """A Mamba-1 / Mamba-2 mixer of its own (its activation is the config's ssm.activation)."""
        return self.mixer in ("mamba1", "mamba2")

    @property
    def has_kv(self) -> bool:
        """The layer carries a KV cache (its own attention, or its use of a shared attention block)."""
        return self.mixer in ("attention", "parallel") or self.shared_block is not None


@dataclass
class AttentionConfig:
    """Grouped-query attention layers (and Zamba2's shared blocks). Keys: transformers' names."""

    num_heads: int = 0  # num_attention_heads
    num_kv_heads: int = 0  # num_key_value_heads (None in config.json: as many as num_heads)
    head_dim: int = 0  # head_dim, else hidden_size / num_attention_heads (Zamba2: 2 x hidden / heads)
    rope_theta: float | None = None  # rope_parameters.rope_theta / rope_theta; None: no positional encoding
    partial_rotary_factor: float = 1.0  # rope_parameters.partial_rotary_factor: rotate that share of each head
    scale: float | None = None  # softmax scale: attention_multiplier (Granite); None: 1 / sqrt(head_dim)
    bias: bool = False  # attention_bias / add_bias_linear (Zamba2)
    shared_adapter: bool = False  # use_shared_attention_adapter (Zamba2): per-use low-rank q, k, v adapters
    adapter_rank: int = 0  # adapter_rank (Zamba2): rank of those and of the per-use MLP adapter


@dataclass
class SSMConfig:
    """Mamba-1 and Mamba-2 layers. Keys: Mamba's / Mamba-2's names; the hybrids prefix most with mamba_."""

    state_size: int = 0  # N, d_state: state_size / mamba_d_state / ssm_state_size
    inner_size: int = 0  # d_inner: expand x hidden_size / mamba_d_ssm / heads x head_dim (Nemotron-H)
    conv_kernel: int = 4  # depthwise causal conv width: conv_kernel / mamba_d_conv
    conv_bias: bool = True  # use_conv_bias / mamba_conv_bias
    proj_bias: bool = False  # bias of in_proj / out_proj: use_bias / mamba_proj_bias
    activation: str = "silu"  # after the conv (and the gate): hidden_act / mamba_hidden_act
    # Mamba-1 only
    time_step_rank: int = 0  # R, width of the dt projection: time_step_rank / mamba_dt_rank ("auto": hidden / 16)
    bcdt_norm: str = "none"  # RMSNorm on dt, B, C: none | weightless (Falcon-Mamba) | learned (Jamba)
    bcdt_norm_eps: float = 1e-6  # mixer_rms_eps (Falcon-Mamba) / rms_norm_eps (Jamba)
    # Mamba-2 only
    num_heads: int = 0  # num_heads / mamba_n_heads / mamba_num_heads / n_mamba_heads
    head_dim: int = 0  # head_dim / mamba_d_head / mamba_head_dim ("auto": d_inner / heads)
    n_groups: int = 1  # B and C shared by num_heads / n_groups heads: n_groups / mamba_n_groups
    chunk_size: int = 256  # chunk_size / mamba_chunk_size
    time_step_limit: tuple[float, float] = (0.0, math.inf)  # dt clamp after softplus: time_step_limit / _min
    norm_group_size: int = 0  # the gated RMSNorm normalises groups of this many channels (0: d_inner)
    # output: "gated" rmsnorm(y * silu(z)) | "gated_norm_first" rmsnorm(y) * silu(z) | "none" y * silu(z)
    norm: str = "gated"  # mamba_rms_norm, mamba_norm_before_gate (Falcon-H1)
    out_proj_bias: bool | None = None  # projectors_bias (Falcon-H1); None: proj_bias
    norm_eps: float | None = None  # that norm's eps; None: the model's norm_eps (Zamba2 fixes it at 1e-5)


@dataclass
class MLPConfig:
    """The dense feed-forward (and the width of one expert unless MoEConfig.expert_size says otherwise)."""

    intermediate_size: int = 0  # intermediate_size (Granite dense: shared_intermediate_size)
    activation: str = "silu"  # hidden_act / mlp_hidden_act
    gated: bool = True  # act(gate) * up; False: down(act(up(x))) (Nemotron-H)
    bias: bool = False  # mlp_bias / add_bias_linear (Zamba2)


@dataclass
class MoEConfig:
    """Mixture-of-experts feed-forwards."""

    num_experts: int = 0  # num_experts / num_local_experts / n_routed_experts; 0: no MoE
    num_experts_per_tok: int = 0  # top-k: num_experts_per_tok
    expert_size: int = 0  # width of one expert when it differs from the MLP's: moe_intermediate_size
    # router: "softmax_topk" (Jamba: softmax weights of the k, not renormalised) | "topk_softmax" (Granite:
    # softmax over the k chosen logits) | "sigmoid_grouped" (Nemotron-H: sigmoid scores, bias-corrected
    # choice within the best groups)
    router: str = "softmax_topk"
    shared_size: int = 0  # width of the shared MLP added to the experts' output: shared_intermediate_size /
    #                       moe_shared_expert_intermediate_size (0: none)
    n_group: int = 1  # sigmoid_grouped only: n_group, topk_group, norm_topk_prob, routed_scaling_factor
    topk_group: int = 1
    norm_topk: bool = True
    routed_scaling: float = 1.0


@dataclass
class Multipliers:
    """Scalings some families apply (muP); neutral defaults."""

    embedding: float = 1.0  # embedding_multiplier (Granite, Falcon-H1)
    residual: float = 1.0  # residual_multiplier (Granite): both residual branches are scaled by it
    logits_scaling: float = 1.0  # logits are divided by it: logits_scaling (Granite), 1 / lm_head_multiplier
    key: float = 1.0  # key_multiplier (Falcon-H1): k is scaled before the rotation
    attention_in: float = 1.0  # attention_in_multiplier / attention_out_multiplier (Falcon-H1's branches)
    attention_out: float = 1.0
    ssm_in: float = 1.0  # ssm_in_multiplier / ssm_out_multiplier
    ssm_out: float = 1.0
    ssm: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0)  # ssm_multipliers: the in_proj slices z, x, B, C, dt
    mlp: tuple[float, float] = (1.0, 1.0)  # mlp_multipliers: the MLP's gate input and down output


@dataclass
class ModelConfig:
    """The core of a model; each layer kind's settings in its own sub-config."""

    architecture: str  # config.json architectures[0], e.g. "JambaForCausalLM"; selects the family
    vocab_size: int  # vocab_size
    hidden_size: int  # hidden_size
    layers: list[LayerSpec]  # from the family's layout keys (layers_block_type, attn_layer_period, ...)
    max_context: int | None = None  # max_position_embeddings, what it was trained for; None: unstated
    norm_eps: float = 1e-5  # the block / final RMSNorms: layer_norm_epsilon / rms_norm_eps
    norm_fp32_weight: bool = False  # those norms apply their weight in float32 before casting (Nemotron-H)
    residual_in_fp32: bool = False  # residual_in_fp32: the residual stream stays float32 (Mamba, Mamba-2)
    tie_word_embeddings: bool = False  # tie_word_embeddings: lm_head shares the embedding matrix
    bos_token_id: int | None = None  # bos_token_id
    eos_token_ids: list[int] = field(default_factory=list)  # eos_token_id (an int or a list)
    pad_token_id: int | None = None  # pad_token_id
    model_type: str = ""  # model_type
    attention: AttentionConfig = field(default_factory=AttentionConfig)
    ssm: SSMConfig = field(default_factory=SSMConfig)
    mlp: MLPConfig = field(default_factory=MLPConfig)
    moe: MoEConfig = field(default_factory=MoEConfig)
    multipliers: Multipliers = field(default_factory=Multipliers)

    def __post_init__(self):
        self.layers = list(self.layers)

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    def layer_indices(self, mixer: str) -> list[int]:
        return [i for i, spec in enumerate(self.layers) if spec.mixer == mixer]


# The parsers' flat field names (what the _fields helpers return) -> (sub-config, field)
_SUB = {"attention": AttentionConfig, "ssm": SSMConfig, "mlp": MLPConfig, "moe": MoEConfig, "multipliers": Multipliers}
FLAT_FIELDS = {
    "num_attention_heads": ("attention", "num_heads"), "num_key_value_heads": ("attention", "num_kv_heads"),
    "head_dim": ("attention", "head_dim"), "rope_theta": ("attention", "rope_theta"),
    "partial_rotary_factor": ("attention", "partial_rotary_factor"), "attention_scale": ("attention", "scale"),
    "attention_bias": ("attention", "bias"), "shared_attention_adapter": ("attention", "shared_adapter"),
    "adapter_rank": ("attention", "adapter_rank"),
    "ssm_state_size": ("ssm", "state_size"), "ssm_inner_size": ("ssm", "inner_size"),
    "conv_kernel": ("ssm", "conv_kernel"), "conv_bias": ("ssm", "conv_bias"), "ssm_proj_bias": ("ssm", "proj_bias"),
    "ssm_activation": ("ssm", "activation"), "time_step_rank": ("ssm", "time_step_rank"),
    "bcdt_norm": ("ssm", "bcdt_norm"), "bcdt_norm_eps": ("ssm", "bcdt_norm_eps"), "ssm_num_heads": ("ssm", "num_heads"),
    "ssm_head_dim": ("ssm", "head_dim"), "ssm_n_groups": ("ssm", "n_groups"), "ssm_chunk_size": ("ssm", "chunk_size"),
    "time_step_limit": ("ssm", "time_step_limit"), "ssm_norm_group_size": ("ssm", "norm_group_size"),
    "ssm_norm": ("ssm", "norm"), "ssm_out_proj_bias": ("ssm", "out_proj_bias"), "ssm_norm_eps": ("ssm", "norm_eps"),
    "intermediate_size": ("mlp", "intermediate_size"), "mlp_activation": ("mlp", "activation"),
    "mlp_gated": ("mlp", "gated"), "mlp_bias": ("mlp", "bias"),
    "num_experts": ("moe", "num_experts"), "num_experts_per_tok": ("moe", "num_experts_per_tok"),
    "expert_size": ("moe", "expert_size"), "moe_router": ("moe", "router"), "moe_shared_size": ("moe", "shared_size"),
    "moe_n_group": ("moe", "n_group"), "moe_topk_group": ("moe", "topk_group"), "moe_norm_topk": ("moe", "norm_topk"),
    "moe_routed_scaling": ("moe", "routed_scaling"),
    "embedding_multiplier": ("multipliers", "embedding"), "residual_multiplier": ("multipliers", "residual"),
    "logits_scaling": ("multipliers", "logits_scaling"), "key_multiplier": ("multipliers", "key"),
    "attention_in_multiplier": ("multipliers", "attention_in"),
    "attention_out_multiplier": ("multipliers", "attention_out"),
    "ssm_in_multiplier": ("multipliers", "ssm_in"), "ssm_out_multiplier": ("multipliers", "ssm_out"),
    "ssm_multipliers": ("multipliers", "ssm"), "mlp_multipliers": ("multipliers", "mlp"),
}


def build_config(**fields) -> ModelConfig:
    """A ModelConfig from the core fields plus the parsers' flat names (FLAT_FIELDS), routed to the
    sub-configs; an unknown name is a TypeError, as for a dataclass."""
    nested: dict[str, dict] = {name: {} for name in _SUB}
    core = {}
    for key, value in fields.items():
        if key in FLAT_FIELDS:
            sub, name = FLAT_FIELDS[key]
            nested[sub][name] = value
        else:
            core[key] = value
    return ModelConfig(**core, **{sub: _SUB[sub](**values) for sub, values in nested.items()})
