"""The `ssmdoc` command: a thin Typer layer over the library.

Every command lives in its own module below and registers itself on `app`. This module owns the error
boundary: user errors (ssmdoc.errors.USER_ERRORS: the application's and the engine's; bad options) become one `error: ...` line on stderr and exit status 2;
anything else is a bug, reported in one line unless --debug (or SSMDOC_DEBUG=1) asks for the traceback.
"""

from __future__ import annotations

import os
import sys
import traceback

import typer
from typer.core import TyperGroup

try:  # typer >= 0.29 vendors click as typer._click; older ones use click itself
    from typer._click import echo as _echo
    from typer._click.exceptions import UsageError as _UsageError
except ImportError:  # pragma: no cover
    from click import UsageError as _UsageError
    from click import echo as _echo

from ssmdoc.errors import USER_ERRORS
from ssmdoc.signals import exit_interrupted


def _debug_requested(args: list[str] | None) -> bool:
    argv = sys.argv[1:] if args is None else list(args)
    return "--debug" in argv or os.environ.get("SSMDOC_DEBUG", "") not in ("", "0")


def echo_error(message: str, hint: str | None = None) -> None:
    from ssmdoc.terminal import safe  # names from inputs may hold escape sequences or undecodable bytes

    _echo(f"error: {safe(message)}", err=True)
    if hint:
        _echo(f"hint: {safe(hint)}", err=True)


def _quiet_broken_pipe() -> None:
    """The reader of stdout went away (`ssmdoc ... | head`): not an error of ours. Point stdout at
    /dev/null so that the interpreter's final flush cannot fail again, and exit 0."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    sys.exit(0)


class _Interrupted(Exception):
    """KeyboardInterrupt (SIGINT, or SIGTERM under ssmdoc.signals) carried past typer, which would turn it
    into a silent exit 130."""


class _StdoutClosed(Exception):
    """BrokenPipeError carried past typer, which would turn it into exit 1."""


class SsmdocGroup(TyperGroup):
    """Runs click in non-standalone mode so that every way out passes through one boundary.

    Also: the commands in the order of `help.COMMAND_ORDER`, and the config file's values as click's
    `default_map` (so a flag beats an environment variable, which beats the file, which beats the default)."""

    def get_params(self, ctx):
        from ssmdoc.cli.help import _plain_params

        params = super().get_params(ctx)
        _plain_params(params)
        return params

    def list_commands(self, ctx) -> list[str]:
        from ssmdoc.cli.help import ordered

        return ordered(super().list_commands(ctx))

    def make_context(self, info_name, args, parent=None, **extra):
        from ssmdoc.settings import default_map

        extra.setdefault("default_map", default_map(self))
        return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise _Interrupted() from exc
        except BrokenPipeError as exc:
            raise _StdoutClosed() from exc

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        debug = _debug_requested(args)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except _UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":
                exc.show()  # `ssmdoc` alone: the help, not an error
                sys.exit(0)
            command = exc.ctx.command_path if exc.ctx else "ssmdoc"
            echo_error(exc.format_message(), f"see '{command} --help'")
            sys.exit(2)
        except (typer.Abort, KeyboardInterrupt, _Interrupted):
            try:
                echo_error("interrupted")
            except (OSError, ValueError):
                pass
            exit_interrupted()
        except USER_ERRORS as exc:
            if debug:
                traceback.print_exc()
            echo_error(exc.message, exc.hint)
            sys.exit(exc.exit_code)
        except (BrokenPipeError, _StdoutClosed):
            _quiet_broken_pipe()
        except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
            if debug:
                traceback.print_exc()
                sys.exit(1)
            echo_error(f"internal error: {type(exc).__name__}: {exc}", "run again with --debug for the traceback")
            sys.exit(1)
        if rv == 130:  # typer turns a KeyboardInterrupt outside invoke (parsing the arguments) into Exit(130)
            try:
                echo_error("interrupted")
            except (OSError, ValueError):
                pass
            exit_interrupted()
        try:
            sys.stdout.flush()  # a reader that left during the last write is seen here, not at exit
        except (BrokenPipeError, _StdoutClosed):
            _quiet_broken_pipe()
        except (OSError, ValueError):
            pass
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=SsmdocGroup,
    name="ssmdoc",
    help="Read documents too long for a transformer: summarize, ask, watch — on hybrid state-space models.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from ssmdoc.cli.version import version_line

        typer.echo(version_line())
        raise typer.Exit(0)


def _set_color(value: str) -> str:
    """--color: rich (every table, the help) reads NO_COLOR / FORCE_COLOR, so set them for this process."""
    value = (value or "auto").lower()
    if value not in ("auto", "always", "never"):
        raise typer.BadParameter("use auto, always or never")
    if value == "never":
        os.environ["NO_COLOR"] = "1"
        os.environ.pop("FORCE_COLOR", None)
    elif value == "always":
        os.environ["FORCE_COLOR"] = "1"
        os.environ.pop("NO_COLOR", None)
    return value


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", is_eager=True, callback=_print_version,
                                 help="Print the version and exit."),
    color: str = typer.Option("auto", "--color", envvar="SSMDOC_COLOR", callback=_set_color, metavar="WHEN",
                              help="Colour in tables and help: auto (on a terminal), always, never. "
                              "NO_COLOR=1 also turns it off."),
) -> None:
    """ssmdoc: long-document analysis on hybrid state-space language models.

    Start with `ssmdoc demo` (no download: a small model shipped with ssmdoc), then
    `ssmdoc summarize FILE` or `ssmdoc ask FILE "question"` with a real model.
    """


def main() -> None:
    try:
        app()  # typer builds the click command here, before SsmdocGroup.main's boundary is entered
    except KeyboardInterrupt:
        try:
            echo_error("interrupted")
        except (OSError, ValueError):
            pass
        exit_interrupted()


# Command modules register themselves on `app` when imported (one line each, keep sorted).
from ssmdoc.cli import batch_cmd as _batch_cmd  # noqa: E402,F401
from ssmdoc.cli import bench as _bench  # noqa: E402,F401
from ssmdoc.cli import eval_cmd as _eval_cmd  # noqa: E402,F401
from ssmdoc.cli import inspect as _inspect  # noqa: E402,F401
from ssmdoc.cli import models_cmd as _models_cmd  # noqa: E402,F401
from ssmdoc.cli import read_cmd as _read_cmd  # noqa: E402,F401
from ssmdoc.cli import state_cmd as _state_cmd  # noqa: E402,F401
from ssmdoc.cli import tasks as _tasks  # noqa: E402,F401
from ssmdoc.cli import version as _version  # noqa: E402,F401
from ssmdoc.cli import config_cmd as _config_cmd  # noqa: E402,F401
from ssmdoc.cli import demo as _demo  # noqa: E402,F401
from ssmdoc.cli.help import use_ssmdoc_classes  # noqa: E402

use_ssmdoc_classes(app)  # after every command module has registered (help.py says why)
