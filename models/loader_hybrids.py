"""Weight-name maps for the Mamba-2 hybrids of issue 7, registered into loader.NAME_MAPS.

Each rule is (checkpoint-name regex, ssmdoc parameter name). Special targets (see loader._targets):
"...ffn.gate+up" splits a fused (E, 2f, d) expert tensor; "a|b" splits a fused tensor into equal slices
along its output-feature dimension (Granite's shared_mlp.input_linear, Zamba2's gate_up_proj). Names are
accepted both as on the Hub and as transformers 5 renames them when it loads (its conversion_mapping).
"""

from __future__ import annotations

from .config import ModelConfig

_L = r"model\.layers\.(\d+)"


def granite_names(config: ModelConfig) -> list[tuple[str, str]]:
    """GraniteMoeHybridForCausalLM; the shared MLP is the block's whole feed-forward when there are no
    experts, else the MoE's shared part."""
    shared = r"layers.\1.ffn." + ("shared." if config.num_experts else "")
    return [
        (r"model\.embed_tokens\.weight", "embed.weight"),
        (r"model\.norm\.weight", "norm_f.weight"),
        (_L + r"\.input_layernorm\.weight", r"layers.\1.norm.weight"),
        (_L + r"\.post_attention_layernorm\.weight", r"layers.\1.ffn_norm.weight"),
        (_L + r"\.(?:mamba|self_attn)\.(.+)", r"layers.\1.mixer.\2"),
        (_L + r"\.block_sparse_moe\.(?:input_linear\.weight|experts\.gate_up_proj)", r"layers.\1.ffn.gate+up"),
        (_L + r"\.block_sparse_moe\.(?:output_linear\.weight|experts\.down_proj)", r"layers.\1.ffn.down"),
        (_L + r"\.block_sparse_moe\.router\.(?:layer\.)?weight", r"layers.\1.ffn.router.weight"),
        (_L + r"\.shared_mlp\.input_linear\.weight", f"{shared}gate_proj.weight|{shared}up_proj.weight"),
        (_L + r"\.shared_mlp\.output_linear\.weight", f"{shared}down_proj.weight"),
        (r"lm_head\.weight", "lm_head.weight"),
    ]


# Nemotron-H: the Hub says "backbone.", transformers 5 "model."; MLP / MoE blocks keep their feed-forward
# under "mixer." too, told apart from Mamba-2 / attention by the parameter names
_NL = r"(?:backbone|model)\.layers\.(\d+)\.mixer"
_NEMOTRON_H_NAMES = [
    (r"(?:backbone|model)\.embeddings?\.weight", "embed.weight"),
    (r"(?:backbone|model)\.norm_f\.weight", "norm_f.weight"),
    (r"(?:backbone|model)\.layers\.(\d+)\.norm\.weight", r"layers.\1.norm.weight"),
    (_NL + r"\.experts\.(\d+)\.(up|down)_proj\.weight", r"layers.\1.ffn.\3[\2]"),
    (_NL + r"\.experts\.(up|down)_proj", r"layers.\1.ffn.\2"),
    (_NL + r"\.gate\.weight", r"layers.\1.ffn.router.weight"),
    (_NL + r"\.gate\.e_score_correction_bias", r"layers.\1.ffn.router_bias"),
    (_NL + r"\.shared_experts\.(.+)", r"layers.\1.ffn.shared.\2"),
    (_NL + r"\.((?:up|down)_proj\..+)", r"layers.\1.ffn.\2"),
    (_NL + r"\.(.+)", r"layers.\1.mixer.\2"),
    (r"lm_head\.weight", "lm_head.weight"),
]

_FALCON_H1_NAMES = [
    (r"model\.embed_tokens\.weight", "embed.weight"),
    (r"model\.final_layernorm\.weight", "norm_f.weight"),
    (_L + r"\.input_layernorm\.weight", r"layers.\1.norm.weight"),
    (_L + r"\.pre_ff_layernorm\.weight", r"layers.\1.ffn_norm.weight"),
    (_L + r"\.(mamba|self_attn)\.(.+)", r"layers.\1.mixer.\2.\3"),
    (_L + r"\.feed_forward\.(.+)", r"layers.\1.ffn.\2"),
    (r"lm_head\.weight", "lm_head.weight"),
]

def zamba2_names(config: ModelConfig) -> list[tuple[str, str]]:
    """Zamba2ForCausalLM. transformers stores a shared block under the first hybrid layer that uses it, with
    the adapters of all its uses in lists indexed by use (u); each use's adapters move to its own layer.
    Untied (see the parser) every layer has its block and reads only its own list entry; the others are
    never used and are skipped."""
    hybrid = [i for i, spec in enumerate(config.layers) if spec.shared_block is not None]
    first = {}  # block -> the first layer that uses it
    for layer in hybrid:
        first.setdefault(config.layers[layer].shared_block, layer)
    rules = [
        (r"model\.embed_tokens\.weight", "embed.weight"),
        (r"model\.final_layernorm\.weight", "norm_f.weight"),
        (_L + r"\.(?:mamba_decoder\.)?input_layernorm\.weight", r"layers.\1.norm.weight"),
        (_L + r"\.(?:mamba_decoder\.)?mamba\.(.+)", r"layers.\1.mixer.\2"),
        (_L + r"\.linear\.weight", r"layers.\1.linear.weight"),
        (r"lm_head\.weight", "lm_head.weight"),
    ]
    for use, layer in enumerate(hybrid):
        block = config.layers[layer].shared_block
        src = rf"model\.layers\.{first[block]}\.shared_transformer"
        rules += [
            (src + rf"\.self_attn\.linear_{name}_adapter_list\.{use}\.([01])\.weight",
             rf"layers.{layer}.qkv_adapters.{j}.\1.weight")
            for j, name in enumerate("qkv")
        ]
        rules.append((src + rf"\.feed_forward\.gate_up_proj_adapter_list\.{use}\.([01])\.weight",
                      rf"layers.{layer}.gate_up_adapter.\1.weight"))
    rules.append((_L + r"\.shared_transformer\..*adapter_list\.\d+\.[01]\.weight", "-"))
    for layer in hybrid:
        block = f"shared.{config.layers[layer].shared_block}"
        here = rf"model\.layers\.{layer}\.shared_transformer"
        rules += [
            (here + r"\.feed_forward\.gate_up_proj\.(weight|bias)",
             rf"{block}.feed_forward.gate_proj.\1|{block}.feed_forward.up_proj.\1"),
            (here + r"\.(.+)", rf"{block}.\1"),
        ]
    return rules


HYBRID_NAME_MAPS = {
    "Zamba2ForCausalLM": zamba2_names,
    "FalconH1ForCausalLM": _FALCON_H1_NAMES,
    "NemotronHForCausalLM": _NEMOTRON_H_NAMES,
    "GraniteMoeHybridForCausalLM": granite_names,
}
