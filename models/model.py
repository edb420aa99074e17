"""The hybrid stack: embedding, blocks built from the config's layer list, final norm, LM head.

    h = embed(ids)
    for each block:  h = h + mixer(norm(h), state)   [h = h + ffn(ffn_norm(h))]
    logits = lm_head(norm_f(h))

A call continues the sequence held in `state`. The call runs layer by layer over its whole length; inside a
layer the SSM mixers and feed-forwards take it in blocks of `block_size` tokens (their intermediates are
several times wider than h), while attention layers see the whole call at once so that the fused causal
kernel skips the masked half of the score matrix. Activations are O(call length x hidden), never
length x d_inner x d_state, and the LM head runs only on the positions whose logits were asked for.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .attention import Attention
from .config import LayerSpec, ModelConfig
from .ffn import MLP, MoE
from .mamba1 import Mamba1Mixer
from .mamba2 import Mamba2Mixer
from .norms import RMSNorm
from .parallel import ParallelMixer
from .shared_block import SharedTransformer, SharedUseBlock, num_shared_blocks
from .state import InferenceState

MIXERS = {"mamba1": Mamba1Mixer, "mamba2": Mamba2Mixer, "attention": Attention, "parallel": ParallelMixer}
FFNS = {"mlp": MLP, "moe": MoE}


def state_owner(spec: LayerSpec):
    """The class that declares a layer's state (init_state, state_bytes); None for a stateless layer."""
    if spec.shared_block is not None:
        return SharedUseBlock
    return MIXERS.get(spec.mixer)  # mixer "none": an MLP-only block, no state


class Embedding(nn.Module):
    """A lookup table. Not nn.Embedding: its random init on the meta device pulls in sympy (+150 MB RSS),
    and the loader overwrites every entry anyway."""

    def __init__(self, vocab_size: int, hidden_size: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(vocab_size, hidden_size))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(ids, self.weight)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig, spec: LayerSpec):
        super().__init__()
        norm = lambda: RMSNorm(cfg.hidden_size, cfg.norm_eps, cfg.norm_fp32_weight)  # noqa: E731
        self.norm = norm()
        # mixer "none" (Nemotron-H's MLP / MoE blocks): the block is norm + feed-forward, under self.norm
        self.mixer = MIXERS[spec.mixer](cfg) if spec.mixer != "none" else None
        self.residual_multiplier = cfg.multipliers.residual
        self.residual_in_fp32 = cfg.residual_in_fp32
        self.ffn_norm = self.ffn = None
        if spec.ffn != "none":
            self.ffn_norm = norm() if self.mixer is not None else self.norm
            self.ffn = FFNS[spec.ffn](cfg)

    def forward(self, h: torch.Tensor, layer_state, block_size: int | None = None) -> torch.Tensor:
        """h (b, l, d) -> (b, l, d). With block_size, all but attention mixers run block by block."""
        if self.mixer is not None:
            whole = block_size is None or isinstance(self.mixer, Attention)
            # a float32 residual stream is cast to the weights' dtype for the norm, as in transformers
            mix = lambda x: self.mixer(self.norm(x.to(self.norm.weight.dtype) if self.residual_in_fp32 else x),
                                       layer_state)  # noqa: E731
            h = h + self.residual_multiplier * (mix(h) if whole else _blocked(mix, h, block_size))
        if self.ffn is not None:
            feed = lambda x: self.ffn(self.ffn_norm(x.to(self.ffn_norm.weight.dtype) if self.residual_in_fp32
                                                    else x))  # noqa: E731
            h = h + self.residual_multiplier * (feed(h) if block_size is None else _blocked(feed, h, block_size))
        return h


def _blocked(fn, x: torch.Tensor, size: int) -> torch.Tensor:
    """fn over x (b, l, d) in consecutive length-`size` slices, in order (fn may advance a state)."""
    if x.shape[1] <= size:
        return fn(x)
    first = fn(x[:, :size])
    out = first.new_empty(x.shape[0], x.shape[1], first.shape[2])  # (b, l, d_out)
    out[:, :size] = first
    for start in range(size, x.shape[1], size):  # written in place: no list of pieces, no concatenated copy
        out[:, start : start + size] = fn(x[:, start : start + size])
    return out


class HybridLM(nn.Module):
    """A causal LM whose layer layout is `config.layers`; see ssmdoc.models.load_pretrained."""

    block_size = 1024  # tokens per block inside the SSM mixers and feed-forwards of a long call
    # A longer call goes through the whole stack segment by segment, carrying the state between them, so
    # activations stay O(segment x hidden) however long the call (exact: the state is the same either way).
    segment_size = 8192

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.embed = Embedding(config.vocab_size, config.hidden_size)
        # Zamba2's shared transformer blocks, each used by several layers (registered before the layers, so
        # their parameters are named shared.<k>.*); an empty list for every other family
        self.shared = nn.ModuleList(SharedTransformer(config) for _ in range(num_shared_blocks(config)))
        self.layers = nn.ModuleList(
            Block(config, spec) if spec.shared_block is None
            else SharedUseBlock(config, spec, self.shared[spec.shared_block])
            for spec in config.layers
        )
        self.norm_f = RMSNorm(config.hidden_size, config.norm_eps, config.norm_fp32_weight)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.embed.weight

    @property
    def dtype(self) -> torch.dtype:
        return self.embed.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.embed.weight.device

    def new_state(self, batch_size: int = 1, kv_window: int | None = None) -> InferenceState:
        """An empty state: the start of a sequence. kv_window: attention keeps only the last N keys."""
        return InferenceState.empty(self, batch_size=batch_size, kv_window=kv_window)

    def init_layer_states(self, batch_size: int, kv_window: int | None = None) -> list:
        """Each layer's empty state, from its own init_state, on the weights' device; SSM states float32."""
        dtype, device = self.dtype, self.device
        return [None if (owner := state_owner(spec)) is None
                else owner.init_state(self.config, batch_size, device, dtype, kv_window)
                for spec in self.config.layers]

    def weights_nbytes(self) -> int:
        """Bytes of the parameters (a tied LM head counted once)."""
        seen, total = set(), 0
        for p in self.parameters():
            if p.data_ptr() not in seen:
                seen.add(p.data_ptr())
                total += p.nbytes
        return total

    @torch.no_grad()
    def forward(self, input_ids: torch.Tensor, state: InferenceState | None = None,
                logits: str = "all") -> torch.Tensor | None:
        """input_ids (b, l) -> float32 logits (b, l, vocab) ("all"), (b, 1, vocab) ("last") or None ("none").

        With a state the call continues its sequence and advances it in place; without one the ids are a
        whole sequence on their own.
        """
        if logits not in ("all", "last", "none"):
            raise ValueError(f"logits must be 'all', 'last' or 'none', not {logits!r}")
        if input_ids.dim() != 2:
            raise ValueError(f"input_ids must be (batch, length), got shape {tuple(input_ids.shape)}")
        b, l = input_ids.shape
        if state is None:
            state = self.new_state(batch_size=b)
        elif state.batch_size != b:
            raise ValueError(f"state holds batch {state.batch_size}, input_ids batch {b}")
        if l == 0:
            if logits == "last":
                raise ValueError("logits='last' needs at least one token")
            return None if logits == "none" else torch.empty(b, 0, self.config.vocab_size, device=self.device)
        if l > self.segment_size:
            return self._forward_segmented(input_ids, state, logits)
        return self._forward_segment(input_ids, state, logits)

    def _forward_segmented(self, input_ids: torch.Tensor, state: InferenceState, logits: str):
        b, l = input_ids.shape
        out = torch.empty(b, l, self.config.vocab_size, device=self.device) if logits == "all" else None
        for start in range(0, l, self.segment_size):
            end = min(start + self.segment_size, l)
            want = logits if logits == "all" else ("last" if end == l and logits == "last" else "none")
            part = self._forward_segment(input_ids[:, start:end], state, want)
            if out is not None:
                out[:, start:end] = part
            elif want == "last":
                return part
        return out

    def _forward_segment(self, input_ids: torch.Tensor, state: InferenceState, logits: str):
        b, l = input_ids.shape
        input_ids = input_ids.to(self.device)
        h = self.embed(input_ids)  # (b, l, d)
        if self.config.residual_in_fp32:
            h = h.float()
        if self.config.multipliers.embedding != 1.0:
            h = h * self.config.multipliers.embedding
        x0 = h  # the token embeddings, which Zamba2's shared blocks read beside the hidden state
        for block, layer_state in zip(self.layers, state.layers):
            if isinstance(block, SharedUseBlock):
                h = block(h, layer_state, x0, self.block_size)
            else:
                h = block(h, layer_state, self.block_size)
        state.seen_tokens += l
        if logits == "last":
            return self._logits(h[:, -1:])
        if logits == "none":
            return None
        out = torch.empty(b, l, self.config.vocab_size, device=self.device)
        for start in range(0, l, self.block_size):  # the head in blocks: (b, block, vocab) at a time
            out[:, start : start + self.block_size] = self._logits(h[:, start : start + self.block_size])
        return out

    def _logits(self, h: torch.Tensor) -> torch.Tensor:
        logits = self.lm_head(self.norm_f(h).to(self.lm_head.weight.dtype)).float()
        if self.config.multipliers.logits_scaling != 1.0:
            logits = logits / self.config.multipliers.logits_scaling
        return logits
