"""Module paths of 0.1.0 that moved into subpackages in 0.2, kept importable until 0.3.

0.1.0 kept every module at the top of the package (``turnover_risk.features``,
``turnover_risk.schema``, ...). Code that imported them, and model files pickled by 0.1.0 (which
name ``turnover_risk._spec.PanelSpec``), still work: :func:`install` puts an import hook on
``sys.meta_path`` that answers each old path with a read-only view of the module that now holds
its names, and warns with :class:`~turnover_risk.TurnoverRiskDeprecationWarning` naming the new
path. Nothing is imported until an old path is asked for.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings

from turnover_risk._warnings import TurnoverRiskDeprecationWarning

__all__ = ["MOVED", "install"]

MOVED: dict[str, tuple[str, ...]] = {
    "turnover_risk.schema": ("turnover_risk.data._schema",),
    "turnover_risk.io": ("turnover_risk.data._io",),
    "turnover_risk.validation": ("turnover_risk.data._validation",),
    "turnover_risk.calendar": ("turnover_risk.data._calendar",),
    "turnover_risk.features": ("turnover_risk.panel._build", "turnover_risk.panel._registry"),
    "turnover_risk.evaluation": (
        "turnover_risk.models._evaluation",
        "turnover_risk.models._metrics",
    ),
    "turnover_risk.explain": (
        "turnover_risk.models._explain",
        "turnover_risk.groups._group_drivers",
    ),
    "turnover_risk.distributed": ("turnover_risk.engines._dask",),
    "turnover_risk._spec": ("turnover_risk.panel._spec",),
}
"""Old module path -> the modules (searched in order) that now hold its names."""

_PUBLIC_HOME = {
    "turnover_risk.schema": "turnover_risk.data",
    "turnover_risk.io": "turnover_risk.data",
    "turnover_risk.validation": "turnover_risk.data",
    "turnover_risk.calendar": "turnover_risk.data",
    "turnover_risk.features": "turnover_risk.panel",
    "turnover_risk.evaluation": "turnover_risk.models",
    "turnover_risk.explain": "turnover_risk.models (Explanation) or turnover_risk.groups",
    "turnover_risk.distributed": "turnover_risk.engines",
    "turnover_risk._spec": "turnover_risk.panel",
}


class _MovedModule(types.ModuleType):
    """A view of the modules that now hold an old module's names (attribute reads only)."""

    def __init__(self, name: str, targets: tuple[str, ...]) -> None:
        super().__init__(name, f"Moved in 0.2: use {_PUBLIC_HOME[name]}.")
        self.__targets = targets

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        for target in self.__targets:
            module = importlib.import_module(target)
            if hasattr(module, attr):
                return getattr(module, attr)
        raise AttributeError(f"module {self.__name__!r} (moved in 0.2) has no attribute {attr!r}")

    def __dir__(self) -> list[str]:
        names: set[str] = set()
        for target in self.__targets:
            names.update(n for n in dir(importlib.import_module(target)) if not n.startswith("__"))
        return sorted(names)


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        warnings.warn(
            f"{spec.name} moved in turnover_risk 0.2; import from {_PUBLIC_HOME[spec.name]} "
            "(or the top-level turnover_risk) instead. The old path goes away in 0.3.",
            TurnoverRiskDeprecationWarning,
            stacklevel=2,
        )
        return _MovedModule(spec.name, MOVED[spec.name])

    def exec_module(self, module) -> None:
        return None


_FINDER = _MovedFinder()


def install() -> None:
    """Put the hook on ``sys.meta_path`` once (called by ``turnover_risk/__init__.py``)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_FINDER)
