"""`ssmdoc inspect`, the library side: what the inputs hold in tokens, and what reading them would cost.

Nothing runs the model. Tokens are counted with the model's own tokenizer when a model is named, else
estimated as UTF-8 bytes / 4 (typical of BPE tokenizers on English prose and code; the result says it is an
estimate). The memory figures come from the model's config alone (`estimate_state_bytes`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ssmdoc.errors import ModelError
from ssmdoc.ingest import IngestOptions, IngestStats, Segment, iter_segments

BYTES_PER_TOKEN_ESTIMATE = 4


@dataclass
class TokenNode:
    """One node of the token tree: an input, a directory inside one, or a file (PDF, text, stdin)."""

    name: str
    kind: str  # "input-dir" | "dir" | "file"
    tokens: int = 0
    children: dict[str, TokenNode] = field(default_factory=dict)

    def child(self, name: str, kind: str) -> TokenNode:
        if name not in self.children:
            self.children[name] = TokenNode(name, kind)
        return self.children[name]

    def walk(self, depth: int = 0) -> Iterator[tuple[int, TokenNode]]:
        """Depth-first, in the order the inputs were read (directory walks are sorted by name)."""
        yield depth, self
        for node in self.children.values():
            yield from node.walk(depth + 1)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind, "tokens": self.tokens}
        if self.children:
            d["children"] = [node.to_dict() for node in self.children.values()]
        return d


@dataclass
class ModelInfo:
    """A model as inspect sees it: its context, and the state a run over the inputs would hold."""

    name: str
    architecture: str
    layers: dict[str, int]  # mixer kind -> count
    max_context: int | None
    dtype: str
    state_bytes: dict[str, int]  # {"ssm", "conv", "kv"} after reading all the input tokens
    transformer_kv_bytes: int  # the KV cache an all-attention model of the same shape would need
    context_source: str = "unknown"  # where max_context comes from: config, known, --context, unknown
    plan: Any = None  # ssmdoc.pipeline.plan.Plan: how a run would read the inputs (needs the tokenizer)
    plan_state_bytes: dict[str, int] | None = None  # the state at its peak during that run
    plan_error: str | None = None  # why a run with these options would be refused

    @property
    def state_total(self) -> int:
        return sum(self.state_bytes.values())


@dataclass
class InspectResult:
    inputs: list[str]
    tree: TokenNode  # its children are the inputs
    total_tokens: int
    counter: str  # how tokens were counted, in words
    exact: bool  # False when the count is an estimate
    stats: IngestStats
    model: ModelInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        model = None
        if self.model is not None:
            m = self.model
            model = {
                "name": m.name,
                "architecture": m.architecture,
                "layers": m.layers,
                "max_context": m.max_context,
                "context_source": m.context_source,
                "dtype": m.dtype,
                "state_bytes": m.state_bytes,
                "state_total_bytes": m.state_total,
                "transformer_kv_equivalent_bytes": m.transformer_kv_bytes,
                "context_fraction": (self.total_tokens / m.max_context) if m.max_context else None,
                "plan": ({"error": m.plan_error} if m.plan_error else None) if m.plan is None
                else {**m.plan.to_dict(), "state_peak_bytes": m.plan_state_bytes},
            }
        return {
            "inputs": self.inputs,
            "total_tokens": self.total_tokens,
            "tokens_exact": self.exact,
            "token_counter": self.counter,
            "tree": [node.to_dict() for node in self.tree.children.values()],
            "ingest": self.stats.to_dict(),
            "model": model,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8", errors="replace")) / BYTES_PER_TOKEN_ESTIMATE)


def _place(tree: TokenNode, segment: Segment, n_tokens: int) -> None:
    """Adds a segment's tokens to its file node and to every node above it."""
    source = segment.source
    nodes = [tree]
    if source.kind == "repo" and source.root is not None:
        node = tree.child(source.root, "input-dir")
        nodes.append(node)
        parts = source.path.split("/")
        for part in parts[:-1]:
            node = node.child(part, "dir")
            nodes.append(node)
        nodes.append(node.child(parts[-1], "file"))
    else:
        nodes.append(tree.child(source.path, "file"))
    for node in nodes:
        node.tokens += n_tokens


def inspect_inputs(
    inputs: Sequence[str],
    options: IngestOptions | None = None,
    model: str | None = None,
    stdin: BinaryIO | None = None,
    context: int | None = None,
    run=None,
    task=None,
) -> InspectResult:
    """Reads every input as a run would, counts its tokens and, with a model, sizes the state.

    With a model and its tokenizer, also predicts how a run with `run` (ssmdoc.pipeline.RunOptions; default
    options when None) for `task` (default: summarize) reads the inputs, with the pipeline's own arithmetic
    (ssmdoc.pipeline.plan): one pass or map-reduce, how many windows, and the state at its peak.

    Raises InputError for unreadable inputs (as ingestion does) and ModelError for a model that cannot be
    resolved or whose config cannot be parsed.
    """
    options = options or IngestOptions()
    stats = IngestStats()
    count: Callable[[str], int] = estimate_tokens
    counter, exact = f"estimate: UTF-8 bytes / {BYTES_PER_TOKEN_ESTIMATE} (name a --model for exact counts)", False
    config = path = tokenizer = None
    segments = iter_segments(inputs, options, stats, stdin=stdin)  # checks the inputs before any download
    if model is not None:
        from ssmdoc.models.checkpoint import resolve_checkpoint

        path = resolve_checkpoint(model)
        from ssmdoc.models import load_config

        config = load_config(path)
        tokenizer = _tokenizer(path, options)
        if tokenizer is not None:
            count, counter, exact = (lambda text: len(tokenizer.encode(text))), f"tokenizer of {model}", True
        else:
            counter = f"estimate: UTF-8 bytes / {BYTES_PER_TOKEN_ESTIMATE} ({model} has no usable tokenizer)"
    tree = TokenNode("", "root")
    for segment in segments:
        _place(tree, segment, count(segment.text))
    result = InspectResult(list(inputs), tree, tree.tokens, counter, exact, stats)
    if config is not None:
        result.model = _model_info(model, path, config, tree.tokens, context)
        if tokenizer is not None:
            _add_plan(result.model, config, tokenizer, run, task, tree.tokens)
    return result


def _add_plan(info, config, tokenizer, run, task, n_tokens: int) -> None:
    from ssmdoc.models import estimate_state_bytes
    from ssmdoc.pipeline import RunOptions, Task
    from ssmdoc.pipeline.plan import plan

    # the context the run plans with (config, a known training length, --context), as _model_info found it
    from ssmdoc.errors import UsageError

    try:
        info.plan = plan(tokenizer, info.max_context, task or Task("summarize"), run or RunOptions(), n_tokens)
    except UsageError as exc:  # the run would refuse these options: say so rather than fail to inspect
        info.plan_error = exc.message
        return
    info.plan_state_bytes = dict(estimate_state_bytes(config, info.plan.peak_sequence_tokens, info.dtype))


def _tokenizer(path: Path, options: IngestOptions):
    """The checkpoint's tokenizer, or None (with a warning) so that inspect still answers with an estimate."""
    try:
        from ssmdoc.models.tokenizer import Tokenizer

        return Tokenizer.from_dir(path)
    except (ImportError, ModelError) as exc:
        options.warn(f"cannot load the tokenizer of {path} ({exc}); token counts are estimates")
        return None


def _model_info(name: str, path: Path, config, n_tokens: int, context: int | None = None) -> ModelInfo:
    from ssmdoc.models import estimate_state_bytes, transformer_kv_equivalent_bytes

    from ssmdoc.models.checkpoint import checkpoint_dtype

    from ssmdoc.models.context import context_limit, repo_id_of

    dtype = checkpoint_dtype(path)
    limit = context_limit(config, repo_id_of(name) or repo_id_of(path), context)
    layers: dict[str, int] = {}
    for spec in config.layers:
        layers[spec.mixer] = layers.get(spec.mixer, 0) + 1
    return ModelInfo(
        name=name,
        architecture=config.architecture,
        layers=layers,
        max_context=limit.tokens,
        context_source=limit.source,
        dtype=dtype,
        state_bytes=dict(estimate_state_bytes(config, n_tokens, dtype)),
        transformer_kv_bytes=int(transformer_kv_equivalent_bytes(config, n_tokens, dtype)),
    )
