"""Zamba2's shared transformer blocks (Glorioso et al. 2024, fig. 2), as in transformers' modeling_zamba2.py.

A few attention + MLP blocks (num_mem_blocks of them) are reused at every "hybrid" depth, in turn. Each
use has its own small parts: LoRA-like adapters on q, k, v (use_shared_attention_adapter) and on the MLP's
gate/up projection, a linear map of the block's output, the Mamba-2 layer it feeds, and its own KV cache.

Dimension letters: b batch, l length, d hidden, r adapter rank, f MLP width.

    a = attn(rmsnorm(cat[h, x0]))          x0: the call's token embeddings; q/k/v read 2d channels
    t = linear(mlp(rmsnorm(a)))            no residual inside the shared block
    h = h + mamba(rmsnorm(h + t))          the hybrid layer's residual skips t
"""

from __future__ import annotations

import torch
from torch import nn

from .attention import Attention
from .config import LayerSpec, ModelConfig
from .ffn import MLP
from .mamba2 import Mamba2Mixer
from .norms import RMSNorm
from .parallel import ParallelMixer
from .state import HybridLayerState


def num_shared_blocks(cfg: ModelConfig) -> int:
    used = [spec.shared_block for spec in cfg.layers if spec.shared_block is not None]
    return max(used) + 1 if used else 0


class SharedTransformer(nn.Module):
    """The weights shared by every use of one block (transformers' Zamba2AttentionDecoderLayer minus the
    per-use adapter lists)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.hidden_size
        self.input_layernorm = RMSNorm(2 * d, cfg.norm_eps)
        self.self_attn = Attention(cfg, in_size=2 * d)
        self.pre_ff_layernorm = RMSNorm(d, cfg.norm_eps)
        self.feed_forward = MLP(cfg)


def _adapter(d_in: int, rank: int, d_out: int) -> nn.Sequential:
    """x -> up(down(x)); nn.Sequential so that the weights keep transformers' names (.0, .1)."""
    return nn.Sequential(nn.Linear(d_in, rank, bias=False), nn.Linear(rank, d_out, bias=False))


class SharedUseBlock(nn.Module):
    """A Zamba2 "hybrid" layer: one use of `shared`, then the layer's own Mamba-2. State: HybridLayerState."""

    # its state is a Falcon-H1 layer's: the Mamba-2 state and the KV cache of this use of the shared block
    init_state = staticmethod(ParallelMixer.init_state)
    state_bytes = staticmethod(ParallelMixer.state_bytes)

    def __init__(self, cfg: ModelConfig, spec: LayerSpec, shared: SharedTransformer):
        super().__init__()
        assert spec.mixer == "mamba2" and spec.ffn == "none", spec
        d, attn = cfg.hidden_size, shared.self_attn
        self.shared = shared  # registered here too; its parameters keep their first name, shared.<k>.*
        self.qkv_adapters = None
        if cfg.attention.shared_adapter:
            self.qkv_adapters = nn.ModuleList(
                _adapter(2 * d, cfg.attention.adapter_rank, proj.out_features)
                for proj in (attn.q_proj, attn.k_proj, attn.v_proj)
            )
        # the MLP adapter is always there in transformers, whatever use_shared_attention_adapter says
        self.gate_up_adapter = _adapter(d, cfg.attention.adapter_rank, 2 * cfg.mlp.intermediate_size)
        self.linear = nn.Linear(d, d, bias=False)
        self.norm = RMSNorm(d, cfg.norm_eps)
        self.mixer = Mamba2Mixer(cfg)

    def _transformer(self, h: torch.Tensor, x0: torch.Tensor, state: HybridLayerState) -> torch.Tensor:
        """h, x0 (b, l, d) -> linear(shared block output) (b, l, d); appends l positions to the KV cache."""
        shared, attn = self.shared, self.shared.self_attn
        a = shared.input_layernorm(torch.cat([h, x0], dim=-1))  # (b, l, 2d)
        q, k, v = attn.q_proj(a), attn.k_proj(a), attn.v_proj(a)
        if self.qkv_adapters is not None:
            q, k, v = (p + adapter(a) for p, adapter in zip((q, k, v), self.qkv_adapters))
        a = shared.pre_ff_layernorm(attn.attend_projected(q, k, v, state.kv))  # (b, l, d)
        mlp = shared.feed_forward
        gate_extra, up_extra = self.gate_up_adapter(a).chunk(2, dim=-1)  # (b, l, f) each
        t = mlp.down_proj(mlp.act(mlp.gate_proj(a) + gate_extra) * (mlp.up_proj(a) + up_extra))
        return self.linear(t)

    def forward(self, h: torch.Tensor, state: HybridLayerState, x0: torch.Tensor,
                block_size: int | None = None) -> torch.Tensor:
        """h (b, l, d) -> (b, l, d). The shared block sees the whole call (its attention reads the cache
        once); the Mamba-2 runs in blocks of block_size tokens, as the other layers' mixers do."""
        u = h + self._transformer(h, x0, state)
        size = block_size or u.shape[1]
        mixed = [self.mixer(self.norm(u[:, s : s + size]), state.ssm) for s in range(0, u.shape[1], size)]
        return h + (mixed[0] if len(mixed) == 1 else torch.cat(mixed, dim=1))
