"""A config.json read two ways, compared: by transformers (the oracle) and by ssmdoc, both on the meta device.

`compare(raw)` builds transformers' config class from the dict as `from_pretrained` does (`from_dict`), its
model on the meta device, and the tensor names and shapes `save_pretrained` would write (transformers'
weight-conversion mapping reverted: per-expert tensors, Nemotron-H's "backbone." prefix); then parses the
same dict with ssmdoc, builds its model on meta and loads those meta tensors through ssmdoc's own name map.
Every missing, unexpected or misshapen tensor, a different layer layout, and every scalar the engine reads
that differs from what transformers' modules hold is returned as a list of discrepancies (empty: agreement).

Nothing here reads ssmdoc's model internals beyond `ssmdoc_view` (one place to adapt when the config's
representation changes) and the public loader; the comparison is by on-disk tensor names.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch

# model_type -> architecture, for configs that leave "architectures" out
ARCH_BY_TYPE = {
    "mamba": "MambaForCausalLM", "falcon_mamba": "FalconMambaForCausalLM", "mamba2": "Mamba2ForCausalLM",
    "jamba": "JambaForCausalLM", "bamba": "BambaForCausalLM", "granitemoehybrid": "GraniteMoeHybridForCausalLM",
    "nemotron_h": "NemotronHForCausalLM", "falcon_h1": "FalconH1ForCausalLM", "zamba2": "Zamba2ForCausalLM",
}
_MAMBA1_ARCHS = ("MambaForCausalLM", "FalconMambaForCausalLM", "JambaForCausalLM")


@dataclass
class HFSide:
    config: object
    model: object
    shapes: dict[str, tuple[int, ...]]
    fp32_names: set[str] = field(default_factory=set)  # parameters transformers keeps in float32 under bf16


def hf_side(raw: dict) -> HFSide:
    """transformers' reading of `raw`: its config, its model on meta, the on-disk tensor names and shapes."""
    import transformers
    from transformers.core_model_loading import revert_weight_conversion

    arch = (raw.get("architectures") or [ARCH_BY_TYPE[raw["model_type"]]])[0]
    config_cls = transformers.CONFIG_MAPPING[raw["model_type"]]
    config = config_cls.from_dict(config_cls._decode_special_floats(copy.deepcopy(raw)))  # as from_pretrained
    cls = getattr(transformers, arch)
    with torch.device("meta"):
        model = cls(config)
    state = model.state_dict()
    disk = revert_weight_conversion(model, state)
    tied = model.get_output_embeddings().weight is model.get_input_embeddings().weight
    shapes = {name: tuple(t.shape) for name, t in disk.items() if not (tied and name == "lm_head.weight")}
    # transformers matches its keep list against module-path pieces ("gate.weight": a module named gate)
    keep = getattr(cls, "_keep_in_fp32_modules_strict", None) or []
    fp32 = {name for name in disk if any(("." + name).endswith("." + k) or f".{k}." in f".{name}." for k in keep)}
    return HFSide(config, model, shapes, fp32)


def ssmdoc_view(config) -> dict:
    """The scalars of ssmdoc's parsed config the comparison reads, under neutral names."""
    a, s, m, e, x = config.attention, config.ssm, config.mlp, config.moe, config.multipliers
    return dict(
        layers=[(spec.mixer, spec.ffn, spec.shared_block is not None) for spec in config.layers],
        tie=config.tie_word_embeddings, bos=config.bos_token_id, eos=list(config.eos_token_ids),
        pad=config.pad_token_id, norm_eps=config.norm_eps, max_context=config.max_context,
        ssm_state=s.state_size, ssm_inner=s.inner_size, conv_kernel=s.conv_kernel,
        ssm_activation=s.activation, dt_rank=s.time_step_rank, bcdt_eps=s.bcdt_norm_eps,
        ssm_heads=s.num_heads, ssm_head_dim=s.head_dim, ssm_groups=s.n_groups,
        chunk=s.chunk_size, dt_limit=tuple(s.time_step_limit), ssm_norm_group=s.norm_group_size,
        ssm_norm_eps=s.norm_eps if s.norm_eps is not None else config.norm_eps,
        heads=a.num_heads, kv_heads=a.num_kv_heads, head_dim=a.head_dim,
        scale=a.scale if a.scale is not None else (a.head_dim or 1) ** -0.5,
        rope_theta=a.rope_theta, rotary_dims=int(a.head_dim * a.partial_rotary_factor),
        mlp_act=m.activation, experts=e.num_experts, top_k=e.num_experts_per_tok,
        moe=(e.n_group, e.topk_group, e.norm_topk, e.routed_scaling),
        embedding_multiplier=x.embedding, residual_multiplier=x.residual, logits_scaling=x.logits_scaling,
        key_multiplier=x.key, branch_multipliers=(x.attention_in, x.attention_out, x.ssm_in, x.ssm_out),
        ssm_multipliers=tuple(x.ssm), mlp_multipliers=tuple(x.mlp),
        ssm_norm=s.norm, adapters=(a.shared_adapter, a.adapter_rank),
    )


def _family_fields(c, arch: str, view: dict) -> dict:
    """Per-family scalars transformers reads straight from its config (multipliers, routing, activations)."""
    if arch == "GraniteMoeHybridForCausalLM":
        return dict(embedding_multiplier=c.embedding_multiplier, residual_multiplier=c.residual_multiplier,
                    logits_scaling=c.logits_scaling, mlp_act=c.hidden_act,
                    top_k=c.num_experts_per_tok if c.num_local_experts else 0)
    if arch == "FalconH1ForCausalLM":
        norm = ("gated_norm_first" if c.mamba_norm_before_gate else "gated") if c.mamba_rms_norm else "none"
        return dict(embedding_multiplier=c.embedding_multiplier, logits_scaling=1.0 / c.lm_head_multiplier,
                    key_multiplier=c.key_multiplier, ssm_multipliers=tuple(c.ssm_multipliers),
                    mlp_multipliers=tuple(c.mlp_multipliers), ssm_norm=norm, mlp_act=c.hidden_act,
                    branch_multipliers=(c.attention_in_multiplier, c.attention_out_multiplier,
                                        c.ssm_in_multiplier, c.ssm_out_multiplier))
    if arch == "NemotronHForCausalLM":
        out = dict(mlp_act=c.mlp_hidden_act)
        if view["experts"]:
            out |= dict(top_k=c.num_experts_per_tok, experts=c.n_routed_experts,
                        moe=(c.n_group, c.topk_group, c.norm_topk_prob, c.routed_scaling_factor))
        return out
    if arch == "JambaForCausalLM":
        return dict(mlp_act=c.hidden_act, top_k=c.num_experts_per_tok if c.num_experts > 1 else 0)
    if arch in ("BambaForCausalLM",):
        return dict(mlp_act=c.hidden_act)
    if arch == "Zamba2ForCausalLM":
        return dict(mlp_act=c.hidden_act, adapters=(c.use_shared_attention_adapter, c.adapter_rank)
                    if c.use_shared_attention_adapter else view["adapters"])
    return {}


def _hf_layout(hf: HFSide, arch: str) -> list[tuple[str, str, bool]]:
    """(mixer, ffn, uses a shared block) per layer, from transformers' layer types and module tree."""
    types = list(hf.config.layer_types)
    layers = hf.model.model.layers if hasattr(hf.model, "model") else hf.model.backbone.layers
    out = []
    for kind, layer in zip(types, layers):
        names = [n for n, _ in layer.named_modules()]
        has_experts = any(n.endswith("experts") for n in names)
        if arch in ("MambaForCausalLM", "FalconMambaForCausalLM", "Mamba2ForCausalLM"):
            out.append(("mamba1" if arch != "Mamba2ForCausalLM" else "mamba2", "none", False))
        elif arch == "NemotronHForCausalLM":
            out.append({"linear_attention": ("mamba2", "none", False), "full_attention": ("attention", "none", False),
                        "mlp": ("none", "mlp", False), "moe": ("none", "moe", False)}[kind])
        elif arch == "Zamba2ForCausalLM":
            out.append(("mamba2", "none", kind == "hybrid"))
        elif arch == "FalconH1ForCausalLM":
            out.append(("parallel", "mlp", False))
        else:
            mixer = {"linear_attention": "mamba1" if arch in _MAMBA1_ARCHS else "mamba2",
                     "full_attention": "attention"}[kind]
            out.append((mixer, "moe" if has_experts else "mlp", False))
    return out


def _first(model, attr: str, kind: str):
    """The first module whose class name contains `kind` (ends with it, for "RMSNorm") and which has `attr`."""
    for module in model.modules():
        name = type(module).__name__
        if (name.endswith(kind) if kind == "RMSNorm" else kind in name) and hasattr(module, attr):
            return getattr(module, attr)
    return None


def _close(a, b) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return (math.isinf(a) and a == b) or math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.0)
    return a == b


def _eos(value) -> list:
    return [] if value is None else [value] if isinstance(value, int) else list(value)


def scalar_discrepancies(view: dict, hf: HFSide, arch: str) -> list[str]:
    """The engine's scalars against what transformers' config and modules hold."""
    c, m = hf.config, hf.model
    want = dict(
        tie=m.get_output_embeddings().weight is m.get_input_embeddings().weight,
        bos=c.bos_token_id, eos=_eos(c.eos_token_id), pad=c.pad_token_id,
        max_context=getattr(c, "max_position_embeddings", None),
        norm_eps=(_first(m, "variance_epsilon", "RMSNorm")),
    )
    mamba = "Mixer" if arch not in ("GraniteMoeHybridForCausalLM",) else "MambaLayer"
    if any(s[0] in ("mamba1", "mamba2", "parallel") for s in view["layers"]):
        want |= dict(ssm_state=_first(m, "ssm_state_size", mamba), ssm_inner=_first(m, "intermediate_size", mamba),
                     conv_kernel=_first(m, "conv_kernel_size", mamba), ssm_activation=_first(m, "activation", mamba))
        if arch in _MAMBA1_ARCHS:
            want["dt_rank"] = _first(m, "time_step_rank", mamba)
            if arch == "FalconMambaForCausalLM":
                want["bcdt_eps"] = _first(m, "rms_eps", mamba)
        else:
            want |= dict(ssm_heads=_first(m, "num_heads", mamba), ssm_head_dim=_first(m, "head_dim", mamba),
                         ssm_groups=_first(m, "n_groups", mamba), chunk=_first(m, "chunk_size", mamba),
                         dt_limit=tuple(_first(m, "time_step_limit", mamba)))
            group = _first(m, "group_size", "RMSNormGated")
            if group is not None:
                want["ssm_norm_group"] = group
            eps = _first(m, "variance_epsilon", "RMSNormGated")
            if eps is not None:
                want["ssm_norm_eps"] = eps
    if any(s[0] in ("attention", "parallel") or s[2] for s in view["layers"]):
        heads = c.num_attention_heads
        want |= dict(heads=heads, head_dim=_first(m, "head_dim", "Attention"), scale=_first(m, "scaling", "Attention"),
                     kv_heads=heads // _first(m, "num_key_value_groups", "Attention"))
        rotary = _first(m, "rope_type", "RotaryEmbedding")
        if rotary is None:
            want["rope_theta"] = None
        else:
            want["rope_theta"] = c.rope_parameters["rope_theta"]
            # the rotated width, from the shape of the inverse frequencies (meta tensors have shapes)
            want["rotary_dims"] = 2 * _first(m, "inv_freq", "RotaryEmbedding").shape[-1]
    if arch == "MambaForCausalLM" or arch == "FalconMambaForCausalLM" or arch == "Mamba2ForCausalLM":
        want["max_context"] = None  # the class has no such field: ssmdoc must not invent one
    want |= _family_fields(c, arch, view)
    got = dict(view)
    if arch == "Zamba2ForCausalLM" and "kv_heads" in want:
        want["kv_heads"] = c.num_key_value_heads
    out = [f"{k}: ssmdoc {got[k]!r}, transformers {v!r}" for k, v in want.items() if not _close(got[k], v)]
    layout = _hf_layout(hf, arch)
    if layout != view["layers"]:
        out.append(f"layers: ssmdoc {view['layers']}, transformers {layout}")
    return out


def ssmdoc_tensor_discrepancies(config, shapes: dict, fp32_names: set[str] = frozenset()) -> list[str]:
    """Load meta tensors of `shapes` (on-disk names) into ssmdoc's bfloat16 model on meta; the loader's
    complaints, and every parameter kept in float32 by one side only (`fp32_names`: transformers' keep list)."""
    from ssmdoc.errors import ModelError
    from ssmdoc.models.loader import _Rules, _targets, empty_model, load_state
    from ssmdoc.models.parsing import config_family

    model = empty_model(config, torch.bfloat16)
    rules = _Rules(config_family({"architectures": [config.architecture]}), config)
    try:
        load_state(model, ((n, torch.empty(s, device="meta")) for n, s in shapes.items()))
    except ModelError as exc:
        return [str(exc)]
    params = dict(model.named_parameters())
    out = []
    for name, shape in shapes.items():
        for target, _, _ in _targets(rules, name, torch.empty(shape, device="meta")) or []:
            kept = params[target].dtype == torch.float32 if target in params else None
            if kept is not None and kept != (name in fp32_names):
                out.append(f"{name}: ssmdoc keeps it in {params[target].dtype} under bf16, transformers in "
                           f"{'float32' if name in fp32_names else 'bfloat16'}")
    return out


def compare(raw: dict) -> list[str]:
    """Discrepancies between transformers' and ssmdoc's reading of the config dict `raw` ([] when none).
    ssmdoc refusing a config transformers builds is returned as a discrepancy starting with "refused"."""
    from ssmdoc.errors import ModelError
    from ssmdoc.models import parse_config

    hf = hf_side(raw)
    arch = type(hf.model).__name__
    try:
        config = parse_config(dict(raw))
    except ModelError as exc:
        return [f"refused: {exc}"]
    return (scalar_discrepancies(ssmdoc_view(config), hf, arch)
            + ssmdoc_tensor_discrepancies(config, hf.shapes, hf.fp32_names))
