"""Feed-forward layers: a gated MLP and Jamba's top-k mixture of experts.

Dimension letters: m tokens (batch x length flattened), d hidden, f expert width, E experts, k top-k.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig

ACTIVATIONS = {"silu": F.silu, "swish": F.silu, "gelu": F.gelu, "relu": F.relu}


def activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"unsupported activation {name!r}")
    return ACTIVATIONS[name]


class MLP(nn.Module):
    """down(act(gate(x)) * up(x))."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)
        self.act = activation(cfg.mlp_activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.act(self.gate_proj(x)) * self.up_proj(x))


class MoE(nn.Module):
    """Jamba's sparse MoE: softmax over all experts' router logits, keep the top k weights as they are
    (no renormalisation to sum 1, as in transformers' JambaTopKRouter), sum the chosen experts' outputs.

    Expert weights are stacked: gate/up (E, f, d), down (E, d, f); the loader assembles them from either
    per-expert tensors (Hub checkpoints) or the fused layout.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        E, d, f = cfg.num_experts, cfg.hidden_size, cfg.intermediate_size
        self.top_k = cfg.num_experts_per_tok
        self.router = nn.Linear(d, E, bias=False)
        self.gate = nn.Parameter(torch.zeros(E, f, d))
        self.up = nn.Parameter(torch.zeros(E, f, d))
        self.down = nn.Parameter(torch.zeros(E, d, f))
        self.act = activation(cfg.mlp_activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x = x.reshape(-1, shape[-1])  # (m, d)
        probs = torch.softmax(self.router(x), dim=-1, dtype=torch.float32)  # (m, E)
        weights, experts = torch.topk(probs, self.top_k, dim=-1)  # (m, k) each
        weights = weights.to(x.dtype)
        out = torch.zeros_like(x)
        # one pass per expert over the tokens routed to it (sorted once, so no per-expert mask scan)
        flat = experts.reshape(-1)  # (m k,)
        order = torch.argsort(flat, stable=True)
        counts = torch.bincount(flat, minlength=self.gate.shape[0]).tolist()
        token_of = order // self.top_k  # token index of each sorted (token, slot) pair
        weight_of = weights.reshape(-1)[order]
        start = 0
        for e, count in enumerate(counts):
            if count == 0:
                continue
            idx = token_of[start : start + count]
            xe = x[idx]  # (count, d)
            he = self.act(xe @ self.gate[e].t()) * (xe @ self.up[e].t())  # (count, f)
            ye = (he @ self.down[e].t()) * weight_of[start : start + count, None]  # (count, d)
            out.index_add_(0, idx, ye)
            start += count
        return out.reshape(shape)
