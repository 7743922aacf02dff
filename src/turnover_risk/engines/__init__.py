"""Execution engines: the same public functions on Dask (``engine="dask"``) for data beyond one
process or machine. Install with ``pip install "turnover-risk[dask]"``.

Importing this package registers the Dask engine with the hook in ``turnover_risk._engine``;
Dask itself is imported only when a call runs on it.
"""

from turnover_risk import _engine
from turnover_risk.engines._dask import compute_panel, connect

__all__ = ["compute_panel", "connect"]


def _load_dask():
    from turnover_risk.engines import _dask

    return _dask


_engine.register("dask", _load_dask)
