"""The errors the engine raises for what a caller can cause: a checkpoint it cannot load, a saved state that
does not fit the model, generation options out of range.

They carry a one-line `message`, an optional `hint` and the exit status an application should use; the
engine knows nothing of the application that maps them (ssmdoc's CLI prints `error: ...` and exits 2).
Programming errors (a wrong argument from code) stay ValueError / AssertionError.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of the engine's caller-facing errors."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ModelError(EngineError):
    """A checkpoint cannot be resolved or loaded: unknown architecture, missing tensors, pickle-only, ..."""


class StateMismatchError(EngineError):
    """A saved inference state does not fit the model it is given to."""


class GenerationError(EngineError):
    """Generation options or inputs that do not fit together (a negative temperature, an empty prompt)."""
