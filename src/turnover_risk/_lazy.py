"""Lazy public namespaces (PEP 562): a package lists its names, their modules load on first use.

``import turnover_risk`` would otherwise import pandas, SciPy, scikit-learn and the rest of the
stack before a command can print its help. A package's ``__init__.py`` keeps its explicit
``__all__`` and its imports (inside ``if TYPE_CHECKING:``, for type checkers and readers), and
hands the same name -> module map to :func:`attach`, whose ``__getattr__`` imports a module the
first time one of its names is read and caches the name in the package (so later reads are plain
attribute look-ups). ``from turnover_risk import build_panel`` and ``from turnover_risk import *``
work as before. ``tests/test_lazy_imports.py`` checks that the map and the ``TYPE_CHECKING``
imports agree.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["attach"]


def attach(
    package: str,
    exports: Mapping[str, Iterable[str]],
    submodules: Iterable[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` exporting ``exports`` lazily.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to iterable of str
        Module (absolute name) -> the names the package takes from it.
    submodules : iterable of str
        Subpackages imported (and returned) when read as attributes, e.g. ``turnover_risk.rates``.

    Examples
    --------
    >>> getattr_, dir_ = attach("turnover_risk", {"turnover_risk._version": ["__version__"]})
    >>> getattr_("__version__") == __import__("turnover_risk").__version__
    True
    >>> "__version__" in dir_()
    True
    """
    where = {name: module for module, names in exports.items() for name in names}
    subs = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        if name in where:
            value = getattr(importlib.import_module(where[name]), name)
        elif name in subs:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where) | subs)

    return __getattr__, __dir__
