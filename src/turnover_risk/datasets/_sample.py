"""The shipped sample register (Parquet inside the package, CSV in ``data/sample/``)."""

from __future__ import annotations

from importlib import resources

import pandas as pd

from turnover_risk.data._schema import TABLE_NAMES, Register
from turnover_risk.datasets._make import simulation_metadata
from turnover_risk.datasets._simulator import conform

__all__ = ["SAMPLE_ARGS", "load_sample"]

SAMPLE_ARGS: dict[str, int] = {"n_units": 40, "years": 6, "start_year": 2019, "random_state": 8}
"""Arguments of :func:`make_register` that produce the shipped sample (default knobs)."""


def load_sample() -> Register:
    """Load the shipped sample register: 40 units, 2019-2024, about 750 staff.

    The sample is ``make_register(**SAMPLE_ARGS)`` with default knobs
    (``n_units=40, years=6, start_year=2019, random_state=8``), stored as Parquet inside the
    package and read with :mod:`importlib.resources`; the same tables are in ``data/sample/``
    of the source tree as CSV. ``scripts/regenerate_sample.py`` rewrites both.

    Returns
    -------
    Register
        All six tables, with the dtypes of the data contract. Every call returns new
        DataFrames, so changing them does not change the next call's result.

    Examples
    --------
    >>> import turnover_risk as tr
    >>> reg = tr.load_sample()
    >>> reg.table_names
    ('employment', 'units', 'absences', 'caseload', 'supervision', 'surveys')
    >>> reg.units["unit_id"].iloc[0]
    'U01'
    """
    folder = resources.files("turnover_risk.datasets") / "data"
    tables = {}
    for name in TABLE_NAMES:
        with resources.as_file(folder / f"{name}.parquet") as path:
            if not path.exists():
                raise FileNotFoundError(
                    f"the sample table {name}.parquet is missing from the installed package "
                    f"({path}); reinstall turnover-risk or run scripts/regenerate_sample.py"
                )
            tables[name] = conform(name, pd.read_parquet(path, engine="pyarrow"))
    return Register(**tables, metadata=simulation_metadata(**SAMPLE_ARGS))
