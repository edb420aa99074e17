"""Hypothesis strategies: config.json dicts of the nine families, varying every field ssmdoc reads.

Each draws a consistent architecture (transformers would build it), then writes it out the ways real files
do: a key whose value is the class default is sometimes left out, older spellings replace or sit beside the
current ones, stored fields disagree with the ones they could be derived from, and "architectures" is
sometimes missing (ssmdoc then goes by model_type). Sizes are real-checkpoint sized: both models are built
on the meta device, so a 4096-wide layer costs nothing.
"""

from __future__ import annotations

from hypothesis import strategies as st

INF = {"__float__": "Infinity"}  # how transformers 5 writes float("inf") into config.json
_ARCH = {
    "mamba": "MambaForCausalLM", "falcon_mamba": "FalconMambaForCausalLM", "mamba2": "Mamba2ForCausalLM",
    "jamba": "JambaForCausalLM", "bamba": "BambaForCausalLM", "granitemoehybrid": "GraniteMoeHybridForCausalLM",
    "nemotron_h": "NemotronHForCausalLM", "falcon_h1": "FalconH1ForCausalLM", "zamba2": "Zamba2ForCausalLM",
}


class _Writer:
    """Builds one raw dict; `put` leaves a key out half the time when its value is the class default."""

    def __init__(self, draw, model_type: str, defaults: dict):
        self.draw, self.defaults = draw, defaults
        self.raw = {"model_type": model_type}
        if draw(st.integers(0, 4)):  # 1 in 5: no "architectures" (older exports)
            self.raw["architectures"] = [_ARCH[model_type]]

    def put(self, key, value):
        if key in self.defaults and value == self.defaults[key] and self.draw(st.booleans()):
            return
        self.raw[key] = value

    def maybe(self, key, strategy):
        """A key the family may carry or not (stored-vs-derived disagreements, decoys transformers ignores)."""
        if self.draw(st.booleans()):
            self.raw[key] = self.draw(strategy)

    def tokens(self, vocab_default, tie_default):
        d = self.draw
        self.put("vocab_size", d(st.sampled_from([vocab_default, 512, 50277, 65536])))
        self.put("tie_word_embeddings", d(st.booleans()) if d(st.booleans()) else tie_default)
        for key in ("bos_token_id", "pad_token_id"):
            self.put(key, d(st.one_of(st.none(), st.integers(0, 511), st.just(self.defaults.get(key)))))
        eos = d(st.one_of(st.none(), st.integers(0, 511), st.lists(st.integers(0, 511), min_size=1, max_size=3),
                          st.just(self.defaults.get("eos_token_id"))))
        self.put("eos_token_id", eos)
        self.maybe("torch_dtype", st.sampled_from(["bfloat16", "float32", "float16"]))
        self.maybe("dtype", st.sampled_from(["bfloat16", "float32"]))


def _heads(draw, hidden_choices=(32, 64, 96, 128)):
    """(hidden, heads, kv heads, head_dim) of a grouped-query attention."""
    head_dim = draw(st.sampled_from([8, 16, 32, 64, 128]))
    kv = draw(st.sampled_from([1, 2, 4, 8]))
    heads = kv * draw(st.sampled_from([1, 2, 4]))
    return heads * head_dim, heads, kv, head_dim


def _ssd(draw, inner_choices=None):
    """(inner, heads, head_dim, groups) of a Mamba-2 mixer: heads x head_dim == inner, groups | heads."""
    groups = draw(st.sampled_from([1, 2, 4, 8]))
    heads = groups * draw(st.sampled_from([1, 2, 3, 4, 16]))
    head_dim = draw(st.sampled_from([8, 16, 32, 64]))
    return heads * head_dim, heads, head_dim, groups


def _dt_limit(draw):
    return draw(st.sampled_from([[0.0, INF], [0.001, INF], [0.0, 100.0], [0.01, 0.5]]))


@st.composite
def mamba(draw, falcon: bool = False):
    w = _Writer(draw, "falcon_mamba" if falcon else "mamba", dict(
        vocab_size=50280, hidden_size=768, state_size=16, num_hidden_layers=32, expand=2, conv_kernel=4,
        use_bias=False, use_conv_bias=True, hidden_act="silu", residual_in_fp32=True, time_step_rank="auto",
        layer_norm_epsilon=1e-5, tie_word_embeddings=True, bos_token_id=0, eos_token_id=0, pad_token_id=0,
        mixer_rms_eps=1e-6))
    hidden = draw(st.sampled_from([768, 24, 40, 64, 4096]))
    expand = draw(st.sampled_from([2, 1, 3, 16]))
    w.put("hidden_size", hidden)
    w.put("num_hidden_layers", draw(st.integers(1, 3)))
    w.put("state_size", draw(st.sampled_from([16, 8, 4])))
    w.put("expand", expand)
    # a stored intermediate_size, agreeing with expand x hidden or not (Falcon-Mamba-7B: 16 x 4096 vs 8192)
    w.maybe("intermediate_size", st.sampled_from([expand * hidden, 2 * hidden, hidden // 2 * 4]))
    w.put("conv_kernel", draw(st.sampled_from([4, 2, 3])))
    w.put("use_bias", draw(st.booleans()))
    w.put("use_conv_bias", draw(st.booleans()))
    w.put("time_step_rank", draw(st.one_of(st.just("auto"), st.integers(1, 300))))
    w.put("layer_norm_epsilon", draw(st.sampled_from([1e-5, 1e-6])))
    w.put("residual_in_fp32", draw(st.booleans()))
    if falcon:
        w.put("mixer_rms_eps", draw(st.sampled_from([1e-6, 1e-5])))
    w.tokens(50280, True)
    return w.raw


@st.composite
def mamba2(draw):
    w = _Writer(draw, "mamba2", dict(
        num_heads=128, head_dim=64, vocab_size=32768, hidden_size=4096, state_size=128, num_hidden_layers=64,
        layer_norm_epsilon=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2, expand=2, conv_kernel=4,
        n_groups=8, use_bias=False, use_conv_bias=True, hidden_act="silu", residual_in_fp32=True,
        chunk_size=256, tie_word_embeddings=False))
    if draw(st.booleans()):
        inner, heads, head_dim, groups = 8192, 128, 64, 8
    else:
        inner, heads, head_dim, groups = _ssd(draw)
    expand = draw(st.sampled_from([e for e in (2, 1, 4) if inner % e == 0]))
    w.put("hidden_size", inner // expand)
    w.put("expand", expand)
    w.put("num_heads", heads)
    w.put("head_dim", head_dim)
    w.put("n_groups", groups)
    w.put("num_hidden_layers", draw(st.integers(1, 3)))
    w.put("state_size", draw(st.sampled_from([128, 16, 64])))
    w.put("conv_kernel", draw(st.sampled_from([4, 2])))
    w.put("use_bias", draw(st.booleans()))
    w.put("use_conv_bias", draw(st.booleans()))
    w.put("chunk_size", draw(st.sampled_from([256, 128, 8])))
    w.put("layer_norm_epsilon", draw(st.sampled_from([1e-5, 1e-6])))
    w.put("residual_in_fp32", draw(st.booleans()))
    w.maybe("time_step_limit", st.just(_dt_limit(draw)))
    w.maybe("intermediate_size", st.just(3 * inner))  # a decoy: the Mamba-2 mixer uses expand x hidden
    w.maybe("time_step_rank", st.one_of(st.just("auto"), st.integers(1, 64)))
    w.tokens(32768, False)
    return w.raw


@st.composite
def jamba(draw):
    w = _Writer(draw, "jamba", dict(
        vocab_size=65536, tie_word_embeddings=False, hidden_size=4096, intermediate_size=14336,
        num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8, hidden_act="silu", rms_norm_eps=1e-6,
        pad_token_id=0, bos_token_id=1, eos_token_id=2, max_position_embeddings=262144, num_experts_per_tok=2,
        num_experts=16, expert_layer_period=2, expert_layer_offset=1, attn_layer_period=8, attn_layer_offset=4,
        mamba_d_state=16, mamba_d_conv=4, mamba_expand=2, mamba_dt_rank="auto", mamba_conv_bias=True,
        mamba_proj_bias=False))
    hidden, heads, kv, _ = _heads(draw)
    w.put("hidden_size", hidden)
    w.put("num_attention_heads", heads)
    w.put("num_key_value_heads", draw(st.sampled_from([kv, heads])))
    w.put("num_hidden_layers", draw(st.integers(1, 8)))
    period = draw(st.integers(1, 8))
    w.put("attn_layer_period", period)
    w.put("attn_layer_offset", draw(st.integers(0, period - 1)))
    period = draw(st.integers(1, 4))
    w.put("expert_layer_period", period)
    w.put("expert_layer_offset", draw(st.integers(0, period - 1)))
    experts = draw(st.sampled_from([16, 1, 2, 4]))
    w.put("num_experts", experts)
    w.put("num_experts_per_tok", draw(st.integers(1, min(experts, 2))))
    w.put("intermediate_size", draw(st.sampled_from([14336, 48, 160])))
    w.put("mamba_d_state", draw(st.sampled_from([16, 8])))
    w.put("mamba_d_conv", draw(st.sampled_from([4, 2])))
    w.put("mamba_expand", draw(st.sampled_from([2, 1, 3])))
    w.put("mamba_dt_rank", draw(st.one_of(st.just("auto"), st.integers(1, 64))))
    w.put("mamba_conv_bias", draw(st.booleans()))
    w.put("mamba_proj_bias", draw(st.booleans()))
    w.put("rms_norm_eps", draw(st.sampled_from([1e-6, 1e-5])))
    w.put("max_position_embeddings", draw(st.sampled_from([262144, 4096])))
    w.tokens(65536, False)
    return w.raw


def _rope(draw, w: _Writer, theta_default=10000.0):
    """rope_parameters (transformers 5), top-level rope_theta (older exports), or nothing."""
    theta = draw(st.sampled_from([theta_default, 5e5, 1e7]))
    how = draw(st.sampled_from(["params", "legacy", "none"]))
    if how == "params":
        params = {"rope_type": "default", "rope_theta": theta}
        if draw(st.booleans()):
            params["partial_rotary_factor"] = draw(st.sampled_from([0.5, 1.0, 0.25]))
        w.raw["rope_parameters"] = params
    elif how == "legacy":
        w.raw["rope_theta"] = theta


def _mamba_prefixed(draw, w: _Writer, hidden: int, inner_key: str | None = None):
    """The mamba_* keys of Bamba, Granite 4.0-H and Falcon-H1; returns inner."""
    _, heads, head_dim, groups = _ssd(draw)
    if inner_key is not None and draw(st.booleans()):  # Falcon-H1's mamba_d_ssm, apart from expand x hidden
        inner = heads * head_dim
        w.raw[inner_key] = inner
        w.put("mamba_expand", draw(st.sampled_from([1, 2])))
    else:
        if inner_key is not None:
            w.raw[inner_key] = None
        expand = draw(st.sampled_from([1, 2]))
        inner = expand * hidden
        w.put("mamba_expand", expand)
        heads = draw(st.sampled_from([h for h in (1, 2, 4, 8, 16, 32, 128) if inner % h == 0 and h % groups == 0]
                                     or [groups]))
        head_dim = inner // heads
    w.put("mamba_n_heads", heads)
    w.put("mamba_d_head", draw(st.sampled_from([head_dim, "auto"])))
    w.put("mamba_n_groups", groups)
    w.put("mamba_d_state", draw(st.sampled_from([256, 16, 64])))
    w.put("mamba_d_conv", draw(st.sampled_from([4, 2])))
    w.put("mamba_chunk_size", draw(st.sampled_from([256, 128, 8])))
    w.put("mamba_conv_bias", draw(st.booleans()))
    w.put("mamba_proj_bias", draw(st.booleans()))
    w.maybe("time_step_limit", st.just(_dt_limit(draw)))
    return inner


_COMMON_HYBRID = dict(tie_word_embeddings=False, hidden_act="silu", pad_token_id=0, bos_token_id=1, eos_token_id=2,
                      attention_bias=False, mlp_bias=False, mamba_n_heads=128, mamba_d_head="auto", mamba_n_groups=1,
                      mamba_d_state=256, mamba_d_conv=4, mamba_expand=2, mamba_chunk_size=256, mamba_conv_bias=True,
                      mamba_proj_bias=False)


@st.composite
def bamba(draw):
    w = _Writer(draw, "bamba", _COMMON_HYBRID | dict(
        vocab_size=128000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
        num_key_value_heads=8, rms_norm_eps=1e-5, max_position_embeddings=262144))
    hidden, heads, kv, _ = _heads(draw)
    n = draw(st.integers(1, 6))
    w.put("hidden_size", hidden)
    w.put("num_hidden_layers", n)
    w.put("num_attention_heads", heads)
    w.put("num_key_value_heads", draw(st.sampled_from([kv, None])))
    w.maybe("attn_layer_indices", st.lists(st.integers(0, n - 1), unique=True, max_size=n))
    w.put("intermediate_size", draw(st.sampled_from([14336, 48, 160])))
    w.put("attention_bias", draw(st.booleans()))
    w.put("mlp_bias", draw(st.booleans()))
    w.put("rms_norm_eps", draw(st.sampled_from([1e-5, 1e-6])))
    w.put("max_position_embeddings", draw(st.sampled_from([262144, 4096])))
    _rope(draw, w)
    _mamba_prefixed(draw, w, hidden)
    w.tokens(128000, False)
    return w.raw


@st.composite
def granite(draw):
    w = _Writer(draw, "granitemoehybrid", _COMMON_HYBRID | dict(
        vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
        num_key_value_heads=None, rms_norm_eps=1e-6, max_position_embeddings=2048, pad_token_id=None,
        embedding_multiplier=1.0, logits_scaling=1.0, residual_multiplier=1.0, attention_multiplier=1.0,
        num_local_experts=8, num_experts_per_tok=2, shared_intermediate_size=1024, position_embedding_type=None))
    hidden, heads, kv, _ = _heads(draw)
    n = draw(st.integers(1, 6))
    w.put("hidden_size", hidden)
    w.put("num_attention_heads", heads)
    w.put("num_key_value_heads", draw(st.sampled_from([kv, None])))
    if draw(st.booleans()):  # older exports spell the layer types "mamba" / "attention"
        names = draw(st.sampled_from([("mamba", "attention"), ("linear_attention", "full_attention")]))
        w.raw["layer_types"] = [names[draw(st.integers(0, 1))] for _ in range(n)]
        w.put("num_hidden_layers", n)  # transformers refuses a layer_types list of another length
    else:
        w.put("num_hidden_layers", n)
    experts = draw(st.sampled_from([8, 0, 4]))
    w.put("num_local_experts", experts)
    w.put("num_experts_per_tok", draw(st.integers(1, max(1, min(experts, 2)))))
    w.put("intermediate_size", draw(st.sampled_from([11008, 48])))
    w.put("shared_intermediate_size", draw(st.sampled_from([1024, 80])))
    w.put("position_embedding_type", draw(st.sampled_from([None, "rope", "nope"])))
    _rope(draw, w)
    for key in ("embedding_multiplier", "logits_scaling", "residual_multiplier", "attention_multiplier"):
        w.put(key, draw(st.sampled_from([1.0, 12.0, 0.22, 0.0078125])))
    w.put("attention_bias", draw(st.booleans()))
    w.put("rms_norm_eps", draw(st.sampled_from([1e-6, 1e-5])))
    w.put("max_position_embeddings", draw(st.sampled_from([2048, 131072])))
    _mamba_prefixed(draw, w, hidden)
    w.tokens(32000, False)
    return w.raw


_PATTERN = {"mamba": "M", "attention": "*", "mlp": "-", "moe": "E"}


@st.composite
def nemotron_h(draw):
    w = _Writer(draw, "nemotron_h", dict(
        vocab_size=131072, hidden_size=4096, tie_word_embeddings=False, pad_token_id=0, bos_token_id=1,
        eos_token_id=2, num_attention_heads=32, num_key_value_heads=8, head_dim=128, max_position_embeddings=4096,
        attention_bias=False, intermediate_size=21504, mlp_hidden_act="relu2", mlp_bias=False, ssm_state_size=128,
        mamba_num_heads=128, mamba_head_dim=64, mamba_hidden_act="silu", n_groups=8, conv_kernel=4, expand=2,
        time_step_min=0.001, use_conv_bias=True, chunk_size=128, n_routed_experts=8, moe_intermediate_size=7688,
        moe_shared_expert_intermediate_size=7688, num_experts_per_tok=2, routed_scaling_factor=1.0, n_group=1,
        topk_group=1, norm_topk_prob=True, use_bias=False, layer_norm_epsilon=1e-5, mamba_proj_bias=False))
    hidden = draw(st.sampled_from([4096, 64, 96]))
    w.put("hidden_size", hidden)
    n = draw(st.integers(1, 6))
    kinds = [draw(st.sampled_from(["mamba", "attention", "mlp", "moe"])) for _ in range(n)]
    how = draw(st.sampled_from(["list", "legacy_list", "pattern", "both"]))
    if how in ("list", "both"):
        w.raw["layers_block_type"] = [{"mamba": "linear_attention", "attention": "full_attention"}.get(k, k)
                                      for k in kinds]
    if how == "legacy_list":
        w.raw["layers_block_type"] = kinds
    if how in ("pattern", "both"):  # "both": the pattern is ignored when the list is there
        pattern = kinds if how == "pattern" else list(reversed(kinds))
        w.raw["hybrid_override_pattern"] = "".join(_PATTERN[k] for k in pattern)
    w.maybe("num_hidden_layers", st.just(n))
    heads, kv = draw(st.sampled_from([(32, 8), (8, 2), (4, 4)]))
    w.put("num_attention_heads", heads)
    w.put("num_key_value_heads", draw(st.sampled_from([kv, heads])))
    w.put("head_dim", draw(st.sampled_from([128, 16, hidden // heads])))
    _, mheads, mhead_dim, groups = _ssd(draw)
    if draw(st.booleans()):
        mheads, mhead_dim, groups = 128, 64, 8
    w.put("mamba_num_heads", mheads)
    w.put("mamba_head_dim", mhead_dim)
    w.maybe("expand", st.sampled_from([2, 4]))  # a decoy: d_inner is heads x head_dim here
    # current and legacy spellings: transformers lets the legacy key win when both are there
    for key, legacy, values in (("n_groups", "mamba_n_groups", [groups]), ("conv_kernel", "mamba_d_conv", [4, 2]),
                                ("chunk_size", "mamba_chunk_size", [128, 8]),
                                ("use_conv_bias", "mamba_conv_bias", [True, False]),
                                ("time_step_min", "mamba_dt_min", [0.001, 0.01])):
        where = draw(st.sampled_from(["new", "legacy", "both"]))
        if where in ("new", "both"):
            w.put(key, draw(st.sampled_from(values)))
        if where in ("legacy", "both"):
            w.raw[legacy] = draw(st.sampled_from(values))
    w.maybe("time_step_limit", st.just(_dt_limit(draw)))
    w.put("ssm_state_size", draw(st.sampled_from([128, 16])))
    w.put("use_bias", draw(st.booleans()))
    w.put("mamba_proj_bias", draw(st.booleans()))
    w.put("attention_bias", draw(st.booleans()))
    w.put("mlp_bias", draw(st.booleans()))
    w.put("intermediate_size", draw(st.sampled_from([21504, 80])))
    experts = draw(st.sampled_from([8, 4, 16]))
    if draw(st.integers(0, 3)):
        w.put("n_routed_experts", experts)
    else:
        w.raw["num_local_experts"] = experts  # an older name (a decoy unless transformers maps it)
    w.put("num_experts_per_tok", draw(st.integers(1, 2)))
    w.put("moe_intermediate_size", draw(st.sampled_from([7688, 24])))
    w.put("moe_shared_expert_intermediate_size", draw(st.sampled_from([7688, 40])))
    group = draw(st.sampled_from([1, 2, 4]))
    w.put("n_group", group)
    w.put("topk_group", draw(st.integers(1, group)))
    w.put("norm_topk_prob", draw(st.booleans()))
    w.put("routed_scaling_factor", draw(st.sampled_from([1.0, 2.5])))
    w.put("layer_norm_epsilon", draw(st.sampled_from([1e-5, 1e-6])))
    w.put("max_position_embeddings", draw(st.sampled_from([4096, 8192])))
    w.tokens(131072, False)
    return w.raw


@st.composite
def falcon_h1(draw):
    w = _Writer(draw, "falcon_h1", _COMMON_HYBRID | dict(
        vocab_size=128000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
        num_key_value_heads=8, rms_norm_eps=1e-5, max_position_embeddings=8192, mamba_norm_before_gate=True,
        mamba_rms_norm=False, projectors_bias=False, lm_head_multiplier=1.0, embedding_multiplier=1.0,
        key_multiplier=1.0, attention_out_multiplier=1.0, attention_in_multiplier=1.0, ssm_in_multiplier=1.0,
        ssm_out_multiplier=1.0))
    hidden, heads, kv, head_dim = _heads(draw)
    w.put("hidden_size", hidden)
    w.put("num_hidden_layers", draw(st.integers(1, 4)))
    w.put("num_attention_heads", heads)
    w.put("num_key_value_heads", draw(st.sampled_from([kv, None])))
    w.maybe("head_dim", st.sampled_from([head_dim, 64, 128]))  # real Falcon-H1 configs state one apart
    w.put("intermediate_size", draw(st.sampled_from([14336, 48])))
    w.put("mamba_rms_norm", draw(st.booleans()))
    w.put("mamba_norm_before_gate", draw(st.booleans()))
    w.put("projectors_bias", draw(st.booleans()))
    w.put("attention_bias", draw(st.booleans()))
    w.put("mlp_bias", draw(st.booleans()))
    for key in ("lm_head_multiplier", "embedding_multiplier", "key_multiplier", "attention_out_multiplier",
                "attention_in_multiplier", "ssm_in_multiplier", "ssm_out_multiplier"):
        w.put(key, draw(st.sampled_from([1.0, 0.5, 2.25])))
    w.maybe("ssm_multipliers", st.lists(st.sampled_from([1.0, 0.5, 4.0]), min_size=5, max_size=5))
    w.maybe("mlp_multipliers", st.lists(st.sampled_from([1.0, 0.5, 4.0]), min_size=2, max_size=2))
    w.put("rms_norm_eps", draw(st.sampled_from([1e-5, 1e-6])))
    w.put("max_position_embeddings", draw(st.sampled_from([8192, 131072])))
    _rope(draw, w)
    _mamba_prefixed(draw, w, hidden, inner_key="mamba_d_ssm")
    w.tokens(128000, False)
    return w.raw


@st.composite
def zamba2(draw):
    w = _Writer(draw, "zamba2", dict(
        vocab_size=32000, max_position_embeddings=4096, hidden_size=2560, mamba_d_state=64, mamba_d_conv=4,
        mamba_expand=2, mamba_ngroups=1, time_step_min=0.001, n_mamba_heads=8, use_conv_bias=True, chunk_size=256,
        add_bias_linear=False, intermediate_size=None, hidden_act="gelu", num_attention_heads=32,
        num_key_value_heads=None, num_mem_blocks=1, use_shared_attention_adapter=False, adapter_rank=128,
        use_mem_rope=False, rms_norm_eps=1e-5, pad_token_id=0, bos_token_id=1, eos_token_id=2,
        use_long_context=False, tie_word_embeddings=True))
    hidden, heads = draw(st.sampled_from([(2560, 32), (64, 4), (96, 6), (128, 8)]))
    w.put("hidden_size", hidden)
    w.put("num_attention_heads", heads)
    w.put("num_key_value_heads", draw(st.sampled_from([None, heads])))
    n = draw(st.integers(1, 6))
    names = draw(st.sampled_from([("linear_attention", "hybrid"), ("mamba", "hybrid")]))
    w.raw["layers_block_type"] = [names[draw(st.integers(0, 1))] for _ in range(n)]
    w.raw["num_hidden_layers"] = n  # transformers refuses a list of another length
    w.put("num_mem_blocks", draw(st.sampled_from([1, 2])))
    w.put("use_shared_attention_adapter", draw(st.booleans()))
    w.put("adapter_rank", draw(st.sampled_from([128, 8])))
    groups = draw(st.sampled_from([1, 2]))
    expand = draw(st.sampled_from([2, 1]))
    w.put("mamba_expand", expand)
    w.put("mamba_ngroups", groups)
    w.put("n_mamba_heads", draw(st.sampled_from([h for h in (8, 2, 4, 16) if expand * hidden % h == 0
                                                 and h % groups == 0])))
    w.put("mamba_d_state", draw(st.sampled_from([64, 16])))
    w.put("mamba_d_conv", draw(st.sampled_from([4, 2])))
    w.put("chunk_size", draw(st.sampled_from([256, 8])))
    w.put("time_step_min", draw(st.sampled_from([0.001, 0.01])))
    w.put("use_conv_bias", draw(st.booleans()))  # a decoy: Zamba2's conv always has a bias
    w.put("add_bias_linear", draw(st.booleans()))
    w.put("intermediate_size", draw(st.sampled_from([None, 48, 4 * hidden])))
    w.put("hidden_act", draw(st.sampled_from(["gelu", "silu"])))
    w.put("use_mem_rope", draw(st.booleans()))
    _rope(draw, w)
    w.put("use_long_context", draw(st.booleans()))
    w.put("max_position_embeddings", draw(st.sampled_from([4096, 16384])))
    w.put("rms_norm_eps", draw(st.sampled_from([1e-5, 1e-6])))
    w.tokens(32000, True)
    return w.raw


FAMILIES = {
    "mamba": mamba(), "falcon_mamba": mamba(falcon=True), "mamba2": mamba2(), "jamba": jamba(), "bamba": bamba(),
    "granitemoehybrid": granite(), "nemotron_h": nemotron_h(), "falcon_h1": falcon_h1(), "zamba2": zamba2(),
}
