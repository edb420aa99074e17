"""How a run will read its input: one pass, or map-reduce windows of a known size. `read` uses it to size
its windows and `ssmdoc inspect` to predict them, so the prediction is the run's own arithmetic."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ssmdoc.errors import UsageError
from ssmdoc.pipeline.mapreduce import capacity_for
from ssmdoc.pipeline.prompts import Task, build_prompt


def window_capacity(tokenizer, max_context: int | None, task: Task, options) -> int | None:
    """Document tokens one window may hold (None: one pass over everything), for `options` (RunOptions)."""
    if options.strategy == "stream":
        return None
    if max_context is None:
        if options.strategy == "map-reduce":
            raise UsageError(
                "--strategy map-reduce needs the model's context length, and this checkpoint states none",
                "give it with --context N (e.g. the length the model was trained at), or use --strategy stream",
            )
        return None
    whole, part = build_prompt(tokenizer, task, "whole"), build_prompt(tokenizer, task, "part")
    prompt_tokens = len(whole.prefix) + max(len(whole.suffix), len(part.suffix))
    capacity = capacity_for(max_context, prompt_tokens, options.gen.max_new_tokens)
    if capacity < 1:
        raise UsageError(
            f"the prompt and --max-new-tokens {options.gen.max_new_tokens} leave no room for the document in "
            f"the model's context of {max_context} tokens",
            "use a smaller --max-new-tokens",
        )
    return capacity


@dataclass
class Plan:
    strategy: str  # "stream" or "map-reduce"
    windows: int  # windows of the first (map) level; combining rounds follow for map-reduce
    window_tokens: int | None  # document tokens per window (None: no limit, one pass)
    prompt_tokens: int  # the task's prompt around the document
    peak_sequence_tokens: int  # the longest sequence one state holds: prompt + a window's document + answer

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def plan(tokenizer, max_context: int | None, task: Task, options, document_tokens: int) -> Plan:
    capacity = window_capacity(tokenizer, max_context, task, options)
    whole, part = build_prompt(tokenizer, task, "whole"), build_prompt(tokenizer, task, "part")
    prompt_tokens = len(whole.prefix) + max(len(whole.suffix), len(part.suffix))  # as window_capacity counts
    answer = options.gen.max_new_tokens
    if capacity is None or document_tokens <= capacity:
        return Plan("stream", 1, capacity, prompt_tokens, prompt_tokens + document_tokens + answer)
    windows = math.ceil(document_tokens / capacity)
    return Plan("map-reduce", windows, capacity, prompt_tokens, prompt_tokens + capacity + answer)
