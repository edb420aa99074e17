"""Positional arguments that forgive: which of them is the question, what is missing, and a hint at `-`.

`ask` takes INPUT... QUESTION (the question last) or INPUT... with --question/-q anywhere. A shell user
mixes these up in a handful of ways; each gets its own message instead of click's generic one.
"""

from __future__ import annotations

import os
import stat
import sys

from ssmdoc.errors import UsageError


def stdin_is_piped() -> bool:
    """Whether something is piped or redirected into stdin (`cat app.log | ssmdoc ...`, `< file`)."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (AttributeError, OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def missing_input(command: str, example: str) -> UsageError:
    if stdin_is_piped():
        return UsageError("missing input: no file or directory named, and stdin is not read unless it is named",
                          f"stdin is piped: name it with -, e.g. `... | ssmdoc {command} -{example}`")
    return UsageError("missing input: name the files or directories to read (or - for stdin)",
                      f"e.g. `ssmdoc {command} report.pdf{example}`")


def _exists(arg: str) -> bool:
    return arg == "-" or os.path.lexists(arg)


def split_ask(args: list[str], question: str | None) -> tuple[list[str], str]:
    """(inputs, question) from `ssmdoc ask` arguments; UsageError saying exactly what is wrong."""
    if question is not None:
        if not args:
            raise missing_input("ask", f" --question {_quote(question)}")
        return args, question
    if not args:
        raise UsageError("missing input and question", 'e.g. `ssmdoc ask report.pdf "who may terminate?"`')
    if len(args) == 1:
        only = args[0]
        if _exists(only):
            raise UsageError(f"missing question: {only!r} is the input; the question goes after it",
                             f'e.g. `ssmdoc ask {only} "where is authentication handled?"`')
        raise missing_input("ask", f" {_quote(only)}")
    *inputs, last = args
    if _exists(last):
        if not _exists(inputs[0]):
            raise UsageError(f"the question goes last: {inputs[0]!r} is not a file or directory",
                             f"e.g. `ssmdoc ask {' '.join(a for a in args if _exists(a))} {_quote(inputs[0])}`")
        raise UsageError(f"the last argument, {last!r}, is an existing path, not a question",
                         "put the question last, quoted, or pass it with --question/-q (which also takes a path)")
    return inputs, last


def _quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'
