"""The user-facing error hierarchy.

Anything a user can cause (a bad file, an unknown model, no network) is raised as an SsmdocError subclass.
The CLI turns it into one `error: ...` line on stderr (plus `hint: ...` when there is one) and exit status 2.
Everything else is a bug and keeps its traceback under --debug.
"""

from __future__ import annotations

# The engine (ssmdoc.models) owns its errors and imports nothing from here; the application uses the same
# classes, so one `except USER_ERRORS` maps both to an `error:` line.
from ssmdoc.models.errors import EngineError, GenerationError, ModelError, StateMismatchError


class SsmdocError(EngineError):
    """Base of every error the application raises for the user's input or environment (exit status 2)."""


class InputError(SsmdocError):
    """An input document cannot be read: missing, unreadable, encrypted, binary, ..."""


class StateFileError(SsmdocError):
    """A saved document state is refused: tampered, truncated, other model, unknown version."""


class UsageError(SsmdocError):
    """Options that do not fit together."""


# everything the CLI reports as `error: ...` (exit status 2): the application's errors and the engine's
USER_ERRORS = (EngineError,)
__all__ = ["EngineError", "GenerationError", "InputError", "ModelError", "SsmdocError", "StateFileError",
           "StateMismatchError", "USER_ERRORS", "UsageError"]
