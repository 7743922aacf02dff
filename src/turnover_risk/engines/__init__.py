"""Execution engines: the same public functions on Dask (``engine="dask"``) for data beyond one
process or machine. Install with ``pip install "turnover-risk[dask]"``.

Importing this package registers the Dask engine with the hook in ``turnover_risk._engine``;
the engine's modules (and Dask itself) are imported only when a call runs on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from turnover_risk import _engine, _lazy

if TYPE_CHECKING:
    from turnover_risk.engines._dask import CLUSTER_CONFIG, compute_panel, connect

__all__ = ["CLUSTER_CONFIG", "compute_panel", "connect"]

__getattr__, __dir__ = _lazy.attach(
    __name__, {"turnover_risk.engines._dask": ("CLUSTER_CONFIG", "compute_panel", "connect")}
)


def _load_dask():
    from turnover_risk.engines import _dask

    return _dask


_engine.register("dask", _load_dask)
