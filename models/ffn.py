"""Feed-forward layers: an MLP (gated, or plain as in Nemotron-H) and a top-k mixture of experts with the
routers of Jamba, Granite-4.0-H and Nemotron-H, optionally beside a shared MLP.

Dimension letters: m tokens (batch x length flattened), d hidden, f expert width, E experts, k top-k.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig

ACTIVATIONS = {
    "silu": F.silu, "swish": F.silu, "gelu": F.gelu, "relu": F.relu,
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu2": lambda x: torch.square(F.relu(x)),  # Nemotron-H's squared ReLU
}


def activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"unsupported activation {name!r}")
    return ACTIVATIONS[name]


class MLP(nn.Module):
    """down(act(gate(x)) * up(x)), or down(act(up(x))) when the config says mlp_gated=False.

    Falcon-H1 scales the gate's input and the output by its mlp_multipliers (neutral elsewhere).
    """

    def __init__(self, cfg: ModelConfig, width: int | None = None):
        super().__init__()
        d, f, bias = cfg.hidden_size, width or cfg.mlp.intermediate_size, cfg.mlp.bias
        self.gate_proj = nn.Linear(d, f, bias=bias) if cfg.mlp.gated else None
        self.up_proj = nn.Linear(d, f, bias=bias)
        self.down_proj = nn.Linear(f, d, bias=bias)
        self.act = activation(cfg.mlp.activation)
        self.gate_multiplier, self.down_multiplier = cfg.multipliers.mlp

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gate_proj is None:
            return self.down_proj(self.act(self.up_proj(x)))
        gate = self.gate_proj(x)
        if self.gate_multiplier != 1.0:
            gate = gate * self.gate_multiplier
        out = self.down_proj(self.act(gate) * self.up_proj(x))
        return out * self.down_multiplier if self.down_multiplier != 1.0 else out


class MoE(nn.Module):
    """Sparse MoE: a router picks k experts per token and weights them; the experts' outputs are summed,
    plus a shared MLP's where the family has one (Granite's shared_mlp, Nemotron-H's shared_experts).

    Routers (cfg.moe.router), as in transformers:
      softmax_topk     Jamba: softmax over all logits, keep the top k weights as they are (no renormalising)
      topk_softmax     Granite: top k logits, softmax over those k
      sigmoid_grouped  Nemotron-H: sigmoid scores; choose with scores + correction bias among the best
                       topk_group of n_group groups; weights are the uncorrected scores, renormalised, scaled

    Expert weights are stacked: gate/up (E, f, d), down (E, d, f) (no gate when mlp_gated is False); the
    loader assembles them from either per-expert tensors (Hub checkpoints) or the fused layout.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        E, d, f = cfg.moe.num_experts, cfg.hidden_size, cfg.moe.expert_size or cfg.mlp.intermediate_size
        self.top_k = cfg.moe.num_experts_per_tok
        self.kind = cfg.moe.router
        self.router = nn.Linear(d, E, bias=False)
        self.gate = nn.Parameter(torch.zeros(E, f, d)) if cfg.mlp.gated else None
        self.up = nn.Parameter(torch.zeros(E, f, d))
        self.down = nn.Parameter(torch.zeros(E, d, f))
        self.act = activation(cfg.mlp.activation)
        if self.kind == "sigmoid_grouped":
            self.router_bias = nn.Parameter(torch.zeros(E))  # e_score_correction_bias: choice only
            self.n_group, self.topk_group = cfg.moe.n_group, cfg.moe.topk_group
            self.norm_topk, self.scaling = cfg.moe.norm_topk, cfg.moe.routed_scaling
        self.shared = MLP(cfg, width=cfg.moe.shared_size) if cfg.moe.shared_size else None

    def _route(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (m, d) -> weights (m, k) in x's dtype, expert indices (m, k)."""
        if self.kind == "topk_softmax":
            logits, experts = torch.topk(self.router(x).float(), self.top_k, dim=-1)
            return torch.softmax(logits, dim=-1).to(x.dtype), experts
        if self.kind == "sigmoid_grouped":
            scores = F.linear(x.float(), self.router.weight.float()).sigmoid()  # (m, E)
            choice = scores + self.router_bias.float()
            m, E = choice.shape
            grouped = choice.view(m, self.n_group, E // self.n_group)
            group_scores = grouped.topk(min(2, grouped.shape[-1]), dim=-1)[0].sum(-1)  # (m, n_group)
            keep = torch.zeros_like(group_scores)
            keep.scatter_(1, torch.topk(group_scores, self.topk_group, dim=-1, sorted=False)[1], 1.0)
            allowed = keep.bool()[:, :, None].expand_as(grouped).reshape(m, E)
            experts = torch.topk(choice.masked_fill(~allowed, float("-inf")), self.top_k, dim=-1, sorted=False)[1]
            weights = scores.gather(1, experts)
            if self.norm_topk:
                weights = weights / (weights.sum(-1, keepdim=True) + 1e-20)
            return (weights * self.scaling).to(x.dtype), experts
        probs = torch.softmax(self.router(x), dim=-1, dtype=torch.float32)  # (m, E)
        weights, experts = torch.topk(probs, self.top_k, dim=-1)  # (m, k) each
        return weights.to(x.dtype), experts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x = x.reshape(-1, shape[-1])  # (m, d)
        weights, experts = self._route(x)
        out = torch.zeros_like(x)
        # one pass per expert over the tokens routed to it (sorted once, so no per-expert mask scan)
        flat = experts.reshape(-1)  # (m k,)
        order = torch.argsort(flat, stable=True)
        counts = torch.bincount(flat, minlength=self.up.shape[0]).tolist()
        token_of = order // self.top_k  # token index of each sorted (token, slot) pair
        weight_of = weights.reshape(-1)[order]
        start = 0
        for e, count in enumerate(counts):
            if count == 0:
                continue
            idx = token_of[start : start + count]
            xe = x[idx]  # (count, d)
            up = xe @ self.up[e].t()  # (count, f)
            he = self.act(xe @ self.gate[e].t()) * up if self.gate is not None else self.act(up)
            ye = (he @ self.down[e].t()) * weight_of[start : start + count, None]  # (count, d)
            out.index_add_(0, idx, ye)
            start += count
        if self.shared is not None:
            out = out + self.shared(x)
        return out.reshape(shape)
