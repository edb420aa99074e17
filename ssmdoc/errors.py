"""The user-facing error hierarchy.

Anything a user can cause (a bad file, an unknown model, no network) is raised as an SsmdocError subclass.
The CLI turns it into one `error: ...` line on stderr (plus `hint: ...` when there is one) and exit status 2.
Everything else is a bug and keeps its traceback under --debug.
"""

from __future__ import annotations


class SsmdocError(Exception):
    """Base of every error caused by the user's input or environment (exit status 2)."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(SsmdocError):
    """An input document cannot be read: missing, unreadable, encrypted, binary, ..."""


class ModelError(SsmdocError):
    """A checkpoint cannot be resolved or loaded: unknown architecture, missing tensors, pickle-only, ..."""


class StateFileError(SsmdocError):
    """A saved document state is refused: tampered, truncated, other model, unknown version."""


class UsageError(SsmdocError):
    """Options that do not fit together."""
