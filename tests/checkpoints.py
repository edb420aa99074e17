"""Tiny random Hugging Face checkpoints, built on the spot with transformers (the reference oracle).

`tiny_checkpoint(path, arch, **overrides)` writes config.json + model.safetensors (float32) into `path`,
plus a tokenizer when tests/tiny_tokenizer.py is there. Sizes are small enough that a parity test runs in
well under a second; overrides change any field of the transformers config class.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

# Short name -> (transformers config class, model class, tiny defaults). Odd sizes on purpose where the
# architecture allows (hidden 24, dt rank 3), so a transposed or mis-split weight cannot line up by luck.
ARCHS = {
    "mamba": (
        "MambaConfig", "MambaForCausalLM",
        dict(hidden_size=24, num_hidden_layers=2, state_size=8, expand=2, conv_kernel=4, time_step_rank="auto"),
    ),
    "falcon_mamba": (
        "FalconMambaConfig", "FalconMambaForCausalLM",
        dict(hidden_size=32, num_hidden_layers=2, state_size=8, expand=2, conv_kernel=4, time_step_rank=5,
             tie_word_embeddings=False),
    ),
    "mamba2": (
        "Mamba2Config", "Mamba2ForCausalLM",
        dict(hidden_size=32, num_hidden_layers=2, state_size=16, expand=2, num_heads=8, head_dim=8, n_groups=2,
             conv_kernel=4, chunk_size=8),
    ),
    "jamba": (
        "JambaConfig", "JambaForCausalLM",
        dict(hidden_size=32, intermediate_size=48, num_hidden_layers=4, num_attention_heads=4,
             num_key_value_heads=2, attn_layer_period=2, attn_layer_offset=1, expert_layer_period=2,
             expert_layer_offset=0, num_experts=4, num_experts_per_tok=2, mamba_d_state=8, mamba_d_conv=4,
             mamba_expand=2, mamba_dt_rank="auto", use_mamba_kernels=False),
    ),
    "bamba": (
        "BambaConfig", "BambaForCausalLM",
        dict(hidden_size=32, intermediate_size=40, num_hidden_layers=3, attn_layer_indices=[1],
             num_attention_heads=4, num_key_value_heads=2, mamba_n_heads=8, mamba_n_groups=2, mamba_d_state=8,
             mamba_d_conv=4, mamba_expand=2, mamba_chunk_size=8),
    ),
    "granite_hybrid": (
        "GraniteMoeHybridConfig", "GraniteMoeHybridForCausalLM",
        dict(hidden_size=32, intermediate_size=24, shared_intermediate_size=40, num_hidden_layers=3,
             layer_types=["mamba", "attention", "mamba"], num_attention_heads=4, num_key_value_heads=2,
             num_local_experts=4, num_experts_per_tok=2, mamba_n_heads=8, mamba_n_groups=2, mamba_d_state=8,
             mamba_d_conv=4, mamba_expand=2, mamba_chunk_size=8, embedding_multiplier=3.0,
             residual_multiplier=0.5, attention_multiplier=0.3, logits_scaling=2.5),
    ),
    "nemotron_h": (
        "NemotronHConfig", "NemotronHForCausalLM",
        dict(hidden_size=32, layers_block_type=["mamba", "moe", "attention", "mlp", "mamba"],
             num_attention_heads=4, num_key_value_heads=2, head_dim=8, intermediate_size=40,
             mamba_num_heads=8, mamba_head_dim=8, n_groups=2, ssm_state_size=8, conv_kernel=4, chunk_size=8,
             n_routed_experts=4, num_experts_per_tok=2, moe_intermediate_size=24,
             moe_shared_expert_intermediate_size=20, n_group=2, topk_group=1, routed_scaling_factor=1.7),
    ),
    "falcon_h1": (
        "FalconH1Config", "FalconH1ForCausalLM",
        dict(hidden_size=32, intermediate_size=40, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, mamba_d_ssm=48, mamba_n_heads=6, mamba_n_groups=2, mamba_d_state=8,
             mamba_d_conv=4, mamba_chunk_size=8, mamba_rms_norm=True, embedding_multiplier=2.0,
             lm_head_multiplier=0.7, key_multiplier=1.3, attention_in_multiplier=0.8, attention_out_multiplier=1.1,
             ssm_in_multiplier=1.2, ssm_out_multiplier=0.9, ssm_multipliers=[0.5, 1.5, 6.0, 5.0, 4.0],
             mlp_multipliers=[1.4, 0.7]),
    ),
    "zamba2": (
        "Zamba2Config", "Zamba2ForCausalLM",
        dict(hidden_size=32, num_hidden_layers=6, layers_block_type=["mamba", "hybrid", "mamba", "hybrid", "hybrid",
             "mamba"], num_mem_blocks=2, use_shared_attention_adapter=True, adapter_rank=4, num_attention_heads=4,
             intermediate_size=40, n_mamba_heads=8, mamba_ngroups=2, mamba_d_state=8, mamba_d_conv=4,
             chunk_size=8, use_mem_rope=True),
    ),
}


def _tiny_model(arch: str, overrides: dict, seed: int):
    import transformers

    if arch not in ARCHS:
        raise ValueError(f"unknown tiny architecture {arch!r}; known: {', '.join(ARCHS)}")
    config_name, model_name, defaults = ARCHS[arch]
    kwargs = dict(vocab_size=512, bos_token_id=0, eos_token_id=1, pad_token_id=2) | defaults | overrides
    config = getattr(transformers, config_name)(**kwargs)
    torch.manual_seed(seed)
    model = getattr(transformers, model_name)(config).to(torch.float32).eval()
    _perturb(model, seed)
    return model


def _perturb(model, seed: int) -> None:
    """Make every parameter informative: HF initialises norms to ones and biases to zeros, so a weight the
    engine forgot to apply (a norm, a conv bias, D) would otherwise go unnoticed."""
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("A_log") or "dt_proj.bias" in name or name.endswith("dt_bias"):
                continue  # keep the SSM stable: decay rates and step sizes as initialised
            if param.dim() == 1 or "norm" in name:
                param.add_(0.1 * torch.randn(param.shape, generator=gen))
            if "adapter" in name:  # Zamba2's low-rank adapters: two 0.02-std factors would add next to nothing
                param.mul_(8.0)
        for name, buffer in model.named_buffers():
            if name.endswith("e_score_correction_bias"):  # Nemotron-H's router correction: zeros at init
                buffer.add_(0.1 * torch.randn(buffer.shape, generator=gen))


def tiny_checkpoint(path: str | Path, arch: str, seed: int = 0, **config_overrides) -> Path:
    """Build a random `arch` model with transformers and save it as a Hugging Face checkpoint in `path`."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model = _tiny_model(arch, config_overrides, seed)
    model.save_pretrained(path, safe_serialization=True)
    tokenizer_file = Path(__file__).with_name("tiny_tokenizer.py")
    if tokenizer_file.exists():
        spec = importlib.util.spec_from_file_location("_ssmdoc_tiny_tokenizer", tokenizer_file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.build_tokenizer(path)
    return path


def reference_model(path: str | Path):
    """The same checkpoint loaded back with transformers, float32, eval mode."""
    import transformers

    return transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
