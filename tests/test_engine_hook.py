"""The engine hook (turnover_risk._engine): kernels reach the Dask engine only through it."""

import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk import _engine


def test_unknown_engine_is_refused_with_the_choices():
    with pytest.raises(
        ValueError, match=r"engine='spark' is not known; choose one of: 'pandas', 'dask'"
    ):
        tr.turnover_rate(tr.load_sample(), engine="spark")


def test_registering_an_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="cannot register engine 'spark'"):
        _engine.register("spark", lambda: None)


def test_pandas_data_does_not_use_dask():
    frame = pd.DataFrame({"a": [1]})
    assert not _engine.uses_dask("pandas", frame)
    assert not _engine.uses_dask("pandas", {"employment": frame})
    assert _engine.uses_dask("dask", frame)


def test_dask_tables_in_a_dict_use_dask():
    dd = pytest.importorskip("dask.dataframe")
    frame = dd.from_pandas(pd.DataFrame({"a": [1, 2]}), npartitions=1)
    assert _engine.uses_dask("pandas", {"employment": frame, "units": None})


def test_the_registered_dask_engine_offers_every_delegated_function():
    pytest.importorskip("dask")
    engine = _engine.get_engine("dask")
    for name in ("turnover_rate", "sick_leave_rate", "build_panel", "flag_groups", "score_dataset"):
        assert callable(getattr(engine, name)), name
