"""Settings that apply to every run: a config file and `SSMDOC_*` environment variables.

Precedence, highest first: a flag on the command line, then the environment variable, then the config file,
then the built-in default. Click implements the first three levels itself (command line > envvar >
`default_map`); this module supplies the `default_map` from the file and explains, for `ssmdoc config`,
where each value comes from.

The file is TOML, at `$XDG_CONFIG_HOME/ssmdoc/config.toml` (`~/.config/ssmdoc/config.toml` when
XDG_CONFIG_HOME is unset), or wherever `SSMDOC_CONFIG` points:

    model = "ibm-granite/granite-4.0-h-1b"
    device = "cpu"
    dtype = "bfloat16"
    threads = 4
    chunk_tokens = 4096

A key applies to every command whose option reads the same environment variable (the setting `model`
applies where `SSMDOC_MODEL` does), so the file can never reach an option the environment could not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssmdoc.errors import UsageError


@dataclass(frozen=True)
class Setting:
    key: str  # in the config file; also the option's parameter name
    type: type
    default: Any
    help: str

    @property
    def env(self) -> str:
        return "SSMDOC_" + self.key.upper()

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


SETTINGS = (
    Setting("model", str, "ai21labs/AI21-Jamba2-3B", "checkpoint directory or Hugging Face repo id"),
    Setting("device", str, "auto", "auto, cpu or cuda"),
    Setting("dtype", str, "auto", "auto (the checkpoint's), float32, bfloat16 or float16"),
    Setting("threads", int, 0, "torch CPU threads; 0: torch's default (one per core)"),
    Setting("chunk_tokens", int, 2048, "tokens fed to the model per step"),
    Setting("strategy", str, "auto", "auto, stream or map-reduce"),
    Setting("max_new_tokens", int, 512, "longest answer, in tokens (watch: 256)"),
    Setting("temperature", float, None, "0 is greedy; unset: the checkpoint's generation_config.json"),
    Setting("top_p", float, None, "nucleus sampling threshold; unset: the checkpoint's"),
    Setting("progress", str, "auto", "auto, bar, lines or none"),
    Setting("progress_interval", float, 10.0, "seconds between plain progress lines off a terminal"),
)
BY_KEY = {s.key: s for s in SETTINGS}
BY_ENV = {s.env: s for s in SETTINGS}


def config_path() -> Path:
    explicit = os.environ.get("SSMDOC_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "ssmdoc" / "config.toml"


def _check(path: Path, key: str, value: Any) -> Any:
    setting = BY_KEY.get(key)
    if setting is None:
        raise UsageError(f"config file {path}: unknown setting {key!r}",
                         f"known settings: {', '.join(BY_KEY)} (see `ssmdoc config`)")
    if setting.type is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, setting.type) or isinstance(value, bool):
        example = {int: "4", float: "0.5", str: '"cpu"'}[setting.type] if setting.default is None else (
            f'"{setting.default}"' if isinstance(setting.default, str) else repr(setting.default))
        raise UsageError(f"config file {path}: {key} must be a {setting.type.__name__}, not {value!r}",
                         f"e.g. {key} = {example}")
    return value


def load_file(path: Path | None = None) -> dict[str, Any]:
    """The config file's settings ({} when there is none); UsageError for a file that is not valid."""
    import tomllib

    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config file {path}: {exc}", "fix or remove it") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}", "fix or remove it") from exc
    return {key: _check(path, key, value) for key, value in raw.items()}


def default_map(group) -> dict[str, Any]:
    """click's `default_map` for the root group: for each command, the file's values of the options that
    read the same environment variable (so flags and the environment still win)."""
    values = load_file()
    if not values:
        return {}
    by_env = {BY_KEY[k].env: v for k, v in values.items()}

    def for_command(command) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for param in getattr(command, "params", ()):
            env = getattr(param, "envvar", None)
            if isinstance(env, str) and env in by_env:
                out[param.name] = by_env[env]
        for name, sub in (getattr(command, "commands", None) or {}).items():
            nested = for_command(sub)
            if nested:
                out[name] = nested
        return out

    return {name: m for name, cmd in group.commands.items() if (m := for_command(cmd))}


@dataclass
class Resolved:
    key: str
    value: Any
    source: str  # "flag", "env SSMDOC_X", "file <path>", "default"


def resolve_all(flags: dict[str, Any] | None = None) -> list[Resolved]:
    """Each setting's value and where it came from, highest precedence first: flag > env > file > default."""
    flags = flags or {}
    path = config_path()
    file_values = load_file(path)
    out = []
    for s in SETTINGS:
        if flags.get(s.key) is not None:
            out.append(Resolved(s.key, flags[s.key], "flag"))
        elif os.environ.get(s.env) not in (None, ""):
            raw = os.environ[s.env]
            try:
                value = s.type(raw)
            except ValueError as exc:
                raise UsageError(f"{s.env}={raw!r} is not a {s.type.__name__}") from exc
            out.append(Resolved(s.key, value, f"env {s.env}"))
        elif s.key in file_values:
            out.append(Resolved(s.key, file_values[s.key], f"file {path}"))
        else:
            out.append(Resolved(s.key, s.default, "default"))
    return out
