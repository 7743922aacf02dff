"""The Dask engine (engines/): identical results to the pandas path on a LocalCluster."""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import turnover_risk as tr  # noqa: E402
from turnover_risk.engines import _dask as trd  # noqa: E402
from turnover_risk.scoring import Scorer  # noqa: E402


def _assert_same(got: pd.DataFrame, expected: pd.DataFrame, rtol: float = 0.0) -> None:
    """Exactly equal (floats to ``rtol``), but for the storage of string columns: under
    pandas 2, whose "string" is python-backed, Dask stores the strings of the frames it builds
    with pyarrow (its ``dataframe.convert-string`` option); under pandas 3 both are
    pyarrow-backed."""
    strings = {
        c: got[c].dtype
        for c in expected.columns
        if c in got.columns
        and isinstance(got[c].dtype, pd.StringDtype)
        and isinstance(expected[c].dtype, pd.StringDtype)
    }
    exact = {"check_exact": True} if rtol == 0 else {"check_exact": False, "rtol": rtol, "atol": 0}
    pd.testing.assert_frame_equal(got, expected.astype(strings), **exact)


@pytest.fixture(scope="module")
def client(dask_cluster):
    """Two worker processes, one thread each (started once for this module)."""
    return dask_cluster[1]


@pytest.fixture(scope="module")
def sample(fitted_sample):
    return fitted_sample


# --------------------------------------------------------------------------------------------
# panel
# --------------------------------------------------------------------------------------------


def test_dask_panel_equals_pandas_panel(sample, client):
    reg, panel, _ = sample
    ddf = tr.build_panel(reg, engine="dask")
    assert trd.is_dask_collection(ddf)
    small = trd.build_panel(reg, employees_per_partition=150)
    assert small.npartitions == -(-reg.employment["employee_id"].nunique() // 150)
    got = trd.compute_panel(small, scheduler=client)
    pd.testing.assert_frame_equal(got, panel, check_exact=True)
    assert tr.panel_spec(got) == tr.panel_spec(panel)


def test_partitions_hold_whole_employees(sample, client):
    reg, panel, _ = sample
    ddf = trd.build_panel(reg, employees_per_partition=100)
    ids = ddf.map_partitions(
        lambda d: pd.DataFrame({"employee_id": d["employee_id"].unique()}),
        meta={"employee_id": "str"},
    ).compute(scheduler=client)["employee_id"]
    assert ids.is_unique  # no person appears in two partitions
    assert len(ids) == panel["employee_id"].nunique()


# --------------------------------------------------------------------------------------------
# rates (exact)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"by": "unit_id"},
        {"by": "municipality", "period": "quarter", "definition": "separation"},
        {"definition": "bufdir", "margins": True, "by": "municipality"},
    ],
)
def test_turnover_rate_on_dask_is_identical(sample, client, kwargs):
    reg, _, _ = sample
    expected = tr.turnover_rate(reg, **kwargs)
    pd.testing.assert_frame_equal(
        tr.turnover_rate(reg, engine="dask", **kwargs), expected, check_exact=True
    )
    tables = {
        "employment": dd.from_pandas(reg.employment, npartitions=3),
        "units": reg.units,
        "metadata": reg.metadata,
    }
    got = trd.turnover_rate(tables, scheduler=client, **kwargs)  # Dask tables passed in
    _assert_same(got, expected)


def test_turnover_rate_of_a_dask_employment_frame(sample, client):
    reg, _, _ = sample
    ddf = dd.from_pandas(reg.employment, npartitions=3)
    assert trd.uses_dask("pandas", ddf)
    expected = tr.turnover_rate(reg.employment, by="unit_id", scope="unit")
    got = tr.turnover_rate(ddf, by="unit_id", scope="unit")  # engine follows the input
    _assert_same(got, expected)


@pytest.mark.parametrize("kwargs", [{"by": "unit_id"}, {"certification": "split"}])
def test_sick_leave_rate_on_dask_is_identical(sample, client, kwargs):
    reg, _, _ = sample
    tables = {
        "employment": dd.from_pandas(reg.employment, npartitions=2),
        "units": reg.units,
        "absences": dd.from_pandas(reg.absences, npartitions=2),
        "metadata": reg.metadata,
    }
    # per partition: day sums add the same numbers in another order (equal to 1e-12)
    expected = tr.sick_leave_rate(reg, **kwargs)
    got = trd.sick_leave_rate(tables, scheduler=client, **kwargs)
    _assert_same(got, expected, rtol=1e-12)
    _assert_same(tr.sick_leave_rate(tables, **kwargs), expected, rtol=1e-12)
    _assert_same(tr.sick_leave_rate(reg, engine="dask", **kwargs), expected, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_dask_scoring_of_a_register_equals_pandas(sample, client, tmp_path, kind):
    reg, panel, models = sample
    model = models[kind]
    ref = tr.score_dataset(model, panel, tmp_path / "pandas.parquet", progress=False).table
    res = tr.score_dataset(
        model,
        reg,
        tmp_path / "dask.parquet",
        engine="dask",
        scheduler=client,
        batch_rows=10_000,
        progress=False,
    )
    assert res.engine == "dask" and res.info["partitions"] > 1 and res.info["workers"] == 2
    got = res.table
    exact = ["unit_id", "period", "n_persons", "suppressed"]
    pd.testing.assert_frame_equal(got[exact], ref[exact], check_exact=True)
    np.testing.assert_allclose(got["expected_leavers"], ref["expected_leavers"], rtol=0, atol=1e-9)
    assert res.rows_read == res.rows_scored == len(panel)


def test_dask_row_level_from_a_dask_panel_equals_predict_proba(sample, client, tmp_path):
    reg, panel, models = sample
    ddf = trd.build_panel(reg, employees_per_partition=200)
    out = tmp_path / "rows.parquet"
    res = tr.score_dataset(
        models["logistic"], ddf, out, row_level=True, scheduler=client, progress=False
    )
    assert out.is_dir() and len(list(out.glob("part-*.parquet"))) == ddf.npartitions
    got = pd.read_parquet(out).sort_values(["employee_id", "period"]).reset_index(drop=True)
    assert res.rows_scored == len(got) == len(panel)
    np.testing.assert_allclose(
        got["risk"], models["logistic"].predict_proba(panel)[:, 1], rtol=0, atol=1e-9
    )
    assert [p.name for p in tmp_path.iterdir()] == ["rows.parquet"]  # no temporary folder left


def test_dask_scoring_reports_bad_rows_with_file_and_row(sample, client, tmp_path):
    _, panel, models = sample
    bad = panel.copy()
    row = len(panel) - 3001
    bad.loc[row, "fte"] = -np.inf
    path = tmp_path / "panel.parquet"
    bad.to_parquet(path, index=False, row_group_size=2500)
    with pytest.warns(tr.TurnoverRiskWarning, match=f"1 of {len(panel)} rows could not be scored"):
        res = tr.score_dataset(
            models["logistic"],
            path,
            tmp_path / "g.parquet",
            engine="dask",
            scheduler=client,
            batch_rows=5000,
            progress=False,
        )
    assert res.rows_read == len(panel) == res.rows_scored + res.rows_rejected
    assert res.rejected[["file", "row", "column"]].values.tolist() == [
        ["panel.parquet", row, "fte"]
    ]
    # the pandas path on the same file gives the same table (hidden groups included)
    with pytest.warns(tr.TurnoverRiskWarning, match="1 of"):
        ref = tr.score_dataset(
            models["logistic"], path, tmp_path / "ref.parquet", batch_rows=5000, progress=False
        )
    pd.testing.assert_frame_equal(
        res.table[["unit_id", "period", "n_persons", "suppressed"]],
        ref.table[["unit_id", "period", "n_persons", "suppressed"]],
    )
    assert res.table["n_persons"].sum() < len(panel) - 1  # hidden groups show no count


def test_dask_run_interrupted_leaves_no_output(sample, tmp_path, monkeypatch):
    """Local threaded scheduler (no client), so the patched scorer is the one that runs."""
    reg, _, models = sample
    real = Scorer.__call__
    calls = {"n": 0}

    def flaky(self, frame):
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("worker lost mid-way")
        return real(self, frame)

    monkeypatch.setattr(Scorer, "__call__", flaky)
    with pytest.raises(RuntimeError, match="worker lost mid-way"):
        trd.score_dataset(
            models["logistic"],
            reg,
            tmp_path / "rows.parquet",
            row_level=True,
            batch_rows=2000,
            progress=False,
        )
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# flag_groups
# --------------------------------------------------------------------------------------------


def test_flag_groups_on_a_dask_panel_is_identical(sample, client):
    reg, panel, models = sample
    ddf = trd.build_panel(reg, employees_per_partition=300)
    kw = {"mode": "retrospective", "random_state": 0, "n_drivers": 1}
    expected = tr.flag_groups(models["logistic"], panel, **kw)
    got = trd.flag_groups(models["logistic"], ddf, scheduler=client, **kw)
    pd.testing.assert_frame_equal(got.table, expected.table, check_exact=False, rtol=1e-9)
    kw = {"mode": "prospective", "random_state": 0, "n_drivers": 0, "n_boot": 0}
    expected = tr.flag_groups(models["logistic"], panel, **kw)
    got = trd.flag_groups(models["logistic"], ddf, scheduler=client, **kw)
    pd.testing.assert_frame_equal(got.table, expected.table, check_exact=False, rtol=1e-9)


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


def test_scheduler_that_does_not_answer_fails_within_seconds(sample, tmp_path):
    _, panel, models = sample
    t0 = time.perf_counter()
    with pytest.raises(
        ConnectionError,
        match=r"no Dask scheduler answered at "
        r"'tcp://127\.0\.0\.1:9' within 2 s",
    ):
        tr.score_dataset(
            models["logistic"],
            panel,
            tmp_path / "g.parquet",
            engine="dask",
            scheduler="tcp://127.0.0.1:9",
            connect_timeout=2,
        )
    assert time.perf_counter() - t0 < 15
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_refused(sample, client, tmp_path):
    _, panel, models = sample
    out = tmp_path / "g.parquet"
    out.write_bytes(b"old")
    with pytest.raises(FileExistsError, match="already exists"):
        tr.score_dataset(models["logistic"], panel, out, engine="dask", scheduler=client)
    assert out.read_bytes() == b"old"


def test_bad_engine_and_scheduler_types(sample):
    reg, _, _ = sample
    with pytest.raises(ValueError, match=r"engine='ray' is not known; choose one of: 'pandas'"):
        tr.build_panel(reg, engine="ray")
    with pytest.raises(ValueError, match="must be a positive integer"):
        trd.build_panel(reg, employees_per_partition=0)
    with pytest.raises(TypeError, match="scheduler must be an address string"), trd.connect(8786):
        pass


def test_missing_dask_names_the_extra(sample, monkeypatch):
    reg, _, _ = sample
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)
    with pytest.raises(ImportError, match=r'pip install "turnover-risk\[dask\]"'):
        tr.build_panel(reg, engine="dask")


def test_dask_scoring_of_a_pandas_panel_equals_pandas(sample, client, tmp_path):
    _, panel, models = sample
    ref = tr.score_dataset(
        models["gbm"], panel, tmp_path / "a.csv", by="municipality", progress=False
    ).table
    res = tr.score_dataset(
        models["gbm"],
        panel,
        tmp_path / "b.csv",
        by="municipality",
        engine="dask",
        scheduler=client,
        batch_rows=6000,
        progress=False,
    )
    assert res.info["partitions"] == -(-len(panel) // 6000)
    exact = ["municipality", "period", "n_persons", "suppressed"]
    _assert_same(res.table[exact], ref[exact])
    np.testing.assert_allclose(
        res.table["expected_leavers"], ref["expected_leavers"], rtol=0, atol=1e-9
    )


def test_dask_context_split_by_employees_equals_pandas_with_movers(client):
    """Persons move between units whose other members sit in other partitions: the unit
    features, combined from the partitions on the workers, equal the one-process panel."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "panel" / "test_partitioned_context.py"
    spec = importlib.util.spec_from_file_location("_partitioned_context_tests", path)
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    reg = helpers._moving_register(seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = tr.build_panel(reg, min_group_size=3)
        ddf = trd.build_panel(reg, employees_per_partition=4, min_group_size=3)
    assert ddf.npartitions == -(-reg.employment["employee_id"].nunique() // 4)
    got = trd.compute_panel(ddf, scheduler=client)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert tr.panel_spec(got) == tr.panel_spec(expected)


def test_prospective_flags_pull_only_the_rows_they_read(sample, client, monkeypatch):
    """The latest period's rows and the labelled rows the bootstrap refits train on: the same
    table as the pandas path on the whole panel, without gathering the panel."""
    from turnover_risk.engines import _rates

    reg, panel, models = sample
    ddf = trd.build_panel(reg, employees_per_partition=300)
    kw = {"mode": "prospective", "random_state": 3, "n_drivers": 0, "n_boot": 3}
    expected = tr.flag_groups(models["logistic"], panel, **kw)

    def refuse(*args, **kwargs):
        raise AssertionError("the whole panel was gathered")

    monkeypatch.setattr(_rates, "compute_panel", refuse)
    got = trd.flag_groups(models["logistic"], ddf, scheduler=client, **kw)
    pd.testing.assert_frame_equal(got.table, expected.table, check_exact=False, rtol=1e-9)
    assert got.table["log_ratio_se"].notna().any()  # the refits ran
