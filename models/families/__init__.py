"""The registry of model families: one module per family in this package, each exporting
`FAMILIES = [Family(...)]` (config parser, weight-name map, float32 parameters, the layout text
`ssmdoc models` prints, recommended checkpoints).

Adding a family is adding one file. Built-in families are the modules of this package (discovered, not
listed); a family file kept elsewhere is added with `register_family_file(path)`, or by naming it in the
environment variable SSMDOC_FAMILY_FILES (paths separated by os.pathsep), read on every lookup.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
from pathlib import Path

from ..errors import ModelError
from ._family import Family, NameRules

__all__ = ["Family", "NameRules", "all_families", "family_for", "register_family", "register_family_file"]

ENV_VAR = "SSMDOC_FAMILY_FILES"
_builtin: list[Family] | None = None
_extra: dict[str, Family] = {}  # registered from elsewhere, by architecture
_files: dict[str, list[Family]] = {}  # family files already imported, by resolved path


def _discover() -> list[Family]:
    global _builtin
    if _builtin is None:
        found = []
        for info in pkgutil.iter_modules(__path__):
            if not info.name.startswith("_"):
                found += importlib.import_module(f"{__name__}.{info.name}").FAMILIES
        _builtin = found
    return _builtin


def register_family(family: Family) -> None:
    """Add (or replace) a family by its architecture name."""
    _extra[family.architecture] = family


def _load_file(path: str | os.PathLike) -> list[Family]:
    key = str(Path(path).expanduser().resolve())
    if key not in _files:
        spec = importlib.util.spec_from_file_location(f"ssmdoc_family_{len(_files)}", key)
        if not Path(key).is_file() or spec is None or spec.loader is None:
            raise ModelError(f"cannot load the model family file {path}: not a Python file",
                             hint=f"check the paths in {ENV_VAR}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _files[key] = list(module.FAMILIES)
    return _files[key]


def register_family_file(path: str | os.PathLike) -> list[Family]:
    """Import a family module from a file outside the package and register its FAMILIES."""
    families = _load_file(path)
    for family in families:
        register_family(family)
    return families


def all_families() -> list[Family]:
    """Every family: built-in ones (by rank), then registered ones, then those of SSMDOC_FAMILY_FILES."""
    by_arch = {f.architecture: f for f in sorted(_discover(), key=lambda f: f.rank)}
    by_arch.update(_extra)
    for path in filter(None, os.environ.get(ENV_VAR, "").split(os.pathsep)):
        by_arch.update((f.architecture, f) for f in _load_file(path))
    return list(by_arch.values())


def family_for(architecture: str = "", model_type: str = "") -> Family | None:
    """The family of a config's architecture (or, when it names none, of its model_type); None if unknown."""
    families = all_families()
    for family in families:
        if architecture and family.architecture == architecture:
            return family
    if not architecture:
        for family in families:
            if family.model_type == model_type:
                return family
    return None
