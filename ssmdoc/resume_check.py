"""Checks made when a saved state replaces reading: is its prompt the one this task would have used, and
can its tensors be restored without allocating what the file does not hold?

The prefix a state was read with (`StateMeta.prompt_prefix`) is part of what the state encodes. `ssmdoc
read` saves the question-free prefix, meant to be asked anything. A state saved by `ask "q1" --save` was
read with q1 in its prefix: asked "q2" it would answer from a reading primed for q1, and a state saved by
`summarize --save` was read to be summarized. The prefix cannot be replaced after the fact (the document
follows it in the state), so the user is told, with the way to a neutral state.
"""

from __future__ import annotations

import os

from ssmdoc.errors import StateFileError


def _prefix_text(tokenizer, task) -> str:
    from ssmdoc.pipeline.prompts import build_prompt

    return tokenizer.decode(build_prompt(tokenizer, task).prefix, skip_special_tokens=False)


def prompt_mismatch(tokenizer, meta, task) -> str | None:
    """A warning when the state's prompt prefix was written for another task than `task`, else None."""
    from ssmdoc.pipeline.prompts import Task

    saved = meta.prompt_prefix
    if saved in (_prefix_text(tokenizer, Task("read")), _prefix_text(tokenizer, task)):
        return None  # a neutral state, or the very prompt this task would have read with
    what = f'"{task.question}"' if task.name == "ask" else task.name
    return (f"this state was read with a prompt for another task (its prefix: {saved.strip()[:80]!r}); "
            f"answering {what} from it may be worse than from a fresh reading. "
            "Save question-free states with `ssmdoc read INPUT... --save FILE`")


def restore_state(state_cls, engine, tensors: dict, meta, path: str | os.PathLike):
    """state_cls.from_tensors, after checking that every tensor is one sequence (batch 1) with a first
    dimension: a forged shape must not make the empty state it is copied into allocate gigabytes."""
    for name, tensor in tensors.items():
        if tensor.dim() < 1 or tensor.shape[0] != 1:
            raise StateFileError(f"{path}: saved tensor {name} has shape {tuple(tensor.shape)}, not one sequence",
                                 "read the documents again with `ssmdoc read INPUT... --save FILE`")
    return state_cls.from_tensors(engine.model, {k: t.to(engine.device) for k, t in tensors.items()},
                                  meta.seen_tokens)
