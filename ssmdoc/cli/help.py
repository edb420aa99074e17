"""How `ssmdoc --help` and each command's help look: the conventions of the trade, in one place.

- the three uses first (summarize, ask, watch), then the rest in a fixed order (`COMMAND_ORDER`);
- boolean flags shown as flags (`--json`, not `--json <bool>`), arguments named as in the usage line
  (`INPUT...`, `QUESTION`) without a type column;
- the usage line writes arguments as `INPUT...` / `[INPUT]...` (click's convention), not `{INPUT}...`.

`SsmdocCommand` is the click command class of every ssmdoc command; `ssmdoc.cli` assigns it to each
registered command, so a command module needs nothing special.
"""

from __future__ import annotations

import re

from typer.core import TyperCommand, TyperGroup

# The three uses first, then reading/inspecting, then the tools; anything not listed comes after, in
# registration order.
COMMAND_ORDER = ("summarize", "ask", "watch", "demo", "read", "inspect", "state", "models", "config", "eval",
                 "batch", "bench", "version")


def ordered(names: list[str]) -> list[str]:
    rank = {name: i for i, name in enumerate(COMMAND_ORDER)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), names.index(n)))


def _no_type(ctx) -> None:  # help shows no type column for flags and arguments
    return None


def _repeatable(original):
    def display(ctx):  # "<list[str]>" -> "<str>, repeatable": the option is given once per value
        text = original(ctx)
        match = re.fullmatch(r"<list\[(.+)\]>", text or "")
        return f"<{match.group(1)}>, repeatable" if match else text

    return display


def _plain_params(params) -> None:
    for param in params:
        if "display_type_rich" in vars(param):
            continue  # done already
        if param.param_type_name == "argument" or getattr(param, "is_flag", False):
            param.display_type_rich = _no_type  # instance attribute: this parameter only
        elif getattr(param, "multiple", False) and hasattr(param, "display_type_rich"):
            param.display_type_rich = _repeatable(param.display_type_rich)


def _usage_name(param) -> str:
    if param.metavar:  # written as the command wants it shown ("INPUT...", "INPUT... QUESTION", "[FILE]")
        return param.metavar
    name = param.name.upper() + ("..." if param.nargs != 1 else "")
    return name if param.required else f"[{name}]"


class SsmdocCommand(TyperCommand):
    def get_params(self, ctx):
        params = super().get_params(ctx)  # includes --help, made on demand
        _plain_params(params)
        return params

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(_usage_name(param))
        return pieces


class SsmdocSubGroup(TyperGroup):
    """A group below the root (`ssmdoc state`): its commands keep the order they were defined in."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        _plain_params(params)
        return params


def use_ssmdoc_classes(typer_app) -> None:
    """Give every command registered on `typer_app` (and its sub-apps) the ssmdoc command class."""
    for info in typer_app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = SsmdocCommand
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            if group.typer_instance.info.cls in (None, TyperGroup) or not isinstance(group.typer_instance.info.cls, type):
                group.typer_instance.info.cls = SsmdocSubGroup
            use_ssmdoc_classes(group.typer_instance)
