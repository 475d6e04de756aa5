"""The variables a module reads, for checking ``run --set Module.VAR=value``: the env names of its settings
model's fields (``modules/<folder>/<package>/settings.py``, each a :class:`edgekit.settings.ModuleSettings`),
the variables its ``env`` in the manifest declares, and the few every module reads besides (``LOG_LEVEL``,
``TMPDIR``). A name that is none of these is refused with the nearest known one."""

from __future__ import annotations

import difflib
import functools
import importlib
import sys
from collections.abc import Mapping

from localedge import ROOT
from localedge.deploy.manifest import ModuleSpec

COMMON = frozenset({"LOG_LEVEL", "TMPDIR"})  # edgekit.runtime's log level; the temp folder (the runner sets one)


@functools.cache
def settings_variables(folder: str) -> frozenset[str] | None:
    """The env names of the settings model(s) of ``modules/<folder>``; None when it has none (not this solution's)."""
    from edgekit.settings import ModuleSettings  # noqa: PLC0415 - only when a --set is checked

    root = ROOT / "modules" / folder
    files = sorted(root.glob("*/settings.py")) if folder else []
    if not files:
        return None
    names: set[str] = set()
    sys.path.insert(0, str(root))  # the module's packages, as its main.py finds them
    try:
        for file in files:
            loaded = importlib.import_module(f"{file.parent.name}.settings")
            for value in vars(loaded).values():
                if isinstance(value, type) and issubclass(value, ModuleSettings) and value is not ModuleSettings:
                    names.update(value.env_name(field) for field in value.model_fields)
    finally:
        sys.path.remove(str(root))
    return frozenset(names)


def known_variables(spec: ModuleSpec) -> frozenset[str] | None:
    """What ``spec``'s module reads (see the module doc); None when it is not a module of this solution."""
    names = settings_variables(spec.folder or "")
    return None if names is None else names | COMMON | frozenset(spec.env)


def unknown_set(module: str, var: str, modules: Mapping[str, ModuleSpec]) -> str | None:
    """Why ``--set module.var`` is refused (one line), or None when the module reads ``var``."""
    known = known_variables(modules[module])
    if known is None or var in known:
        return None
    nearest = difflib.get_close_matches(var.upper(), sorted(known), n=1, cutoff=0.6)
    hint = f"did you mean {nearest[0]}?" if nearest else f"it reads {', '.join(sorted(known))}"
    return f"{module} has no setting {var}: {hint} (docs/settings.md lists them)"
