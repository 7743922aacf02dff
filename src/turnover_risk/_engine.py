"""The engine hook: how a kernel hands a call to an execution engine it does not import.

The kernels (``rates``, ``panel``, ``groups``, ``scoring``) sit below the Dask engine in the
layers and never import it. An engine registers itself here (``turnover_risk.engines`` does so
for ``"dask"`` when the package is imported); a kernel asks :func:`uses_dask` whether a call
runs on Dask and, if so, calls :func:`get_engine` and the engine's function of the same name.
The engine in turn calls only the kernels' public per-partition functions.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["ENGINES", "check_engine", "get_engine", "is_dask_collection", "register", "uses_dask"]

ENGINES: tuple[str, ...] = ("pandas", "dask")
"""The engines a public function accepts (``engine=...``)."""

_LOADERS: dict[str, Callable[[], Any]] = {}


def register(name: str, loader: Callable[[], Any]) -> None:
    """Register an engine: ``loader()`` returns the object whose attributes are its functions
    (it is called on first use, so registering imports nothing heavy)."""
    if name not in ENGINES or name == "pandas":
        raise ValueError(f"cannot register engine {name!r}; known engines: {ENGINES}")
    _LOADERS[name] = loader


def get_engine(name: str) -> Any:
    """The registered engine ``name`` (its functions are attributes).

    Raises
    ------
    ValueError
        If ``name`` is not a known engine or none registered it.
    """
    check_engine(name)
    if name not in _LOADERS:
        raise ValueError(f"engine {name!r} is not registered; import turnover_risk first.")
    return _LOADERS[name]()


def check_engine(engine: object) -> str:
    """Validate an ``engine`` argument."""
    if engine not in ENGINES:
        raise ValueError(
            f"engine={engine!r} is not known; choose one of: {', '.join(map(repr, ENGINES))}."
        )
    return str(engine)


def is_dask_collection(obj: Any) -> bool:
    """Whether ``obj`` is a Dask collection (without importing Dask when it is not loaded)."""
    if sys.modules.get("dask") is None:
        return False
    import dask

    return dask.is_dask_collection(obj)


def uses_dask(engine: object, data: Any = None) -> bool:
    """Whether a call runs on Dask: ``engine="dask"``, or Dask tables in ``data``.

    Raises ``ValueError`` for an unknown engine.

    Examples
    --------
    >>> uses_dask("pandas", data=[1, 2])
    False
    >>> uses_dask("dask")
    True
    """
    if check_engine(engine) == "dask":
        return True
    if isinstance(data, dict):
        return any(is_dask_collection(t) for t in data.values())
    return is_dask_collection(data)
