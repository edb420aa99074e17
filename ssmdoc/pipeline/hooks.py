"""Optional callbacks through which a run tells a user interface what it is doing (ssmdoc.progress uses them).

The pipeline never prints; it calls these, and a library user may leave them out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Hooks:
    event: Callable[[str], None] | None = None  # the shape of the run changed: map-reduce starts, a combining round
    token: Callable[[int, int], None] | None = None  # (tokens generated so far, at most max_new_tokens)

    def say(self, message: str) -> None:
        if self.event is not None:
            self.event(message)


NO_HOOKS = Hooks()
