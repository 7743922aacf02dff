"""Rates on Dask per partition of employees (engines/_split_rates.py) on a LocalCluster: the
pandas path's table from Dask tables that are not partitioned by employee."""

from __future__ import annotations

import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

import turnover_risk as tr  # noqa: E402
from turnover_risk.datasets import make_register  # noqa: E402
from turnover_risk.engines import _dask as trd  # noqa: E402
from turnover_risk.engines import _rates  # noqa: E402


@pytest.fixture(scope="module")
def client(dask_cluster):
    return dask_cluster[1]


@pytest.fixture(scope="module")
def reg():
    return make_register(n_units=10, years=4, random_state=3)


def shuffled(frame: pd.DataFrame, n: int, seed: int = 0):
    """A Dask frame of ``n`` partitions whose rows are in random order: a person's spells
    sit in several partitions."""
    rows = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return dd.from_pandas(rows, npartitions=n)


@pytest.fixture
def no_gather(monkeypatch):
    """Fail if the call gathers the spell tables (the per-partition path must not)."""

    def refuse(*args, **kwargs):
        raise AssertionError("gathered the register")

    monkeypatch.setattr(_rates, "_gather_register", refuse)


OPTIONS = [
    {"by": "unit_id"},
    {"definition": "exit_share", "by": ["municipality", "service"], "margins": True,
     "weight": "fte"},
    {"definition": "separation", "period": "quarter", "by": "service",
     "exclude_reasons": ("retirement",)},
    {"definition": "separation", "annual": "sum_of_months", "by": "municipality",
     "margins": True},
    {"definition": "hire", "by": ["municipality", "unit_id"], "margins": True,
     "min_group_size": 15},
]  # fmt: skip


@pytest.mark.parametrize("options", OPTIONS, ids=range(len(OPTIONS)))
def test_turnover_per_partition_equals_pandas(reg, client, no_gather, options, same_table):
    expected = tr.turnover_rate(reg, **options)
    tables = {"employment": shuffled(reg.employment, 5), "units": reg.units,
              "metadata": reg.metadata}  # fmt: skip
    got = trd.turnover_rate(tables, scheduler=client, **options)
    same_table(got, expected)


@pytest.mark.parametrize("n_partitions", [1, 3, 8])
def test_any_partitioning_gives_the_pandas_table(reg, client, no_gather, n_partitions, same_table):
    options = {"definition": "exit_share", "by": "unit_id", "margins": True,
               "min_group_size": 12, "weight": "fte"}  # fmt: skip
    expected = tr.turnover_rate(reg, **options)
    assert expected["suppressed"].any()
    tables = {"employment": shuffled(reg.employment, n_partitions, seed=n_partitions),
              "units": dd.from_pandas(reg.units, npartitions=2), "metadata": reg.metadata}  # fmt: skip
    same_table(trd.turnover_rate(tables, scheduler=client, **options), expected)


def test_a_pandas_register_on_the_dask_engine(reg, client, no_gather, same_table):
    options = {"definition": "separation", "by": "role", "period": "month"}
    expected = tr.turnover_rate(reg, **options)
    same_table(trd.turnover_rate(reg, scheduler=client, **options), expected)


def test_window_from_the_data_warns_once_as_pandas(reg, client, no_gather, same_table):
    tables = {"employment": shuffled(reg.employment, 4), "units": reg.units,
              "absences": dd.from_pandas(reg.absences, npartitions=2)}  # fmt: skip
    bare = tr.Register(employment=reg.employment, units=reg.units, absences=reg.absences)
    with pytest.warns(tr.DataQualityWarning, match="left-truncated") as seen:
        expected = tr.turnover_rate(bare, by="service")
    with pytest.warns(tr.DataQualityWarning, match="left-truncated") as seen_dask:
        got = trd.turnover_rate(tables, scheduler=client, by="service")
    assert len(seen_dask) == len(seen) == 1
    same_table(got, expected)


def test_bufdir_and_count_frames_gather(reg, client, monkeypatch, same_table):
    calls = []
    gather = _rates._gather_register
    monkeypatch.setattr(_rates, "_gather_register", lambda *a: calls.append(1) or gather(*a))
    options = {"definition": "bufdir", "by": "municipality", "margins": True}
    tables = {"employment": shuffled(reg.employment, 3), "units": reg.units,
              "metadata": reg.metadata}  # fmt: skip
    same_table(
        trd.turnover_rate(tables, scheduler=client, **options), tr.turnover_rate(reg, **options)
    )
    assert calls == [1]
    counts = pd.DataFrame({"unit_id": ["u1", "u2"], "hires": [3, 1], "separations": [2, 4],
                           "headcount_start": [10, 12], "headcount_end": [11, 9]})  # fmt: skip
    got = trd.turnover_rate(dd.from_pandas(counts, npartitions=1), scheduler=client,
                            definition="separation")  # fmt: skip
    same_table(got, tr.turnover_rate(counts, definition="separation"))
    assert calls == [1, 1]


def test_bad_input_errors_come_from_the_workers_unchanged(reg, client):
    emp = reg.employment.assign(fte=reg.employment["fte"].where(reg.employment.index != 5, 2.0))
    with pytest.raises(ValueError, match="0 < fte <= 1"):
        trd.turnover_rate({"employment": shuffled(emp, 3), "units": reg.units,
                           "metadata": reg.metadata}, scheduler=client)  # fmt: skip
    with pytest.raises(ValueError, match="by=\\['nope'\\]"):
        trd.turnover_rate({"employment": shuffled(reg.employment, 3)}, scheduler=client,
                          by="nope", start="2019-01-01", end="2022-12-31")  # fmt: skip


SICK_OPTIONS = [
    {"by": "unit_id"},
    {"certification": "split", "by": ["municipality", "unit_id"], "margins": True},
    {"by": "service", "period": "quarter", "min_group_size": 10, "margins": True},
]


@pytest.mark.parametrize("options", SICK_OPTIONS, ids=range(len(SICK_OPTIONS)))
def test_sick_leave_per_partition_equals_pandas(reg, client, no_gather, options, same_table):
    expected = tr.sick_leave_rate(reg, **options)
    assert expected["suppressed"].any()  # the privacy layer's further passes run too
    tables = {"employment": shuffled(reg.employment, 4), "units": reg.units,
              "absences": shuffled(reg.absences, 3, seed=1), "metadata": reg.metadata}  # fmt: skip
    same_table(trd.sick_leave_rate(tables, scheduler=client, **options), expected)


def test_sick_leave_window_from_the_data_and_a_pandas_register(reg, client, no_gather, same_table):
    bare = tr.Register(employment=reg.employment, units=reg.units, absences=reg.absences)
    with pytest.warns(tr.DataQualityWarning, match="left-truncated"):
        expected = tr.sick_leave_rate(bare, by="service")
    with pytest.warns(tr.DataQualityWarning, match="left-truncated"):
        got = trd.sick_leave_rate(bare, scheduler=client, by="service")
    same_table(got, expected)


def test_sick_leave_without_absences_fails_as_pandas(reg, client):
    with pytest.raises(ValueError, match="absences table, which is missing"):
        trd.sick_leave_rate({"employment": shuffled(reg.employment, 2)}, scheduler=client)
