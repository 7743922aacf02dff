"""Scoring-time checks on the Dask engine (issue 20): the same drift table, problem rows and
warning as the pandas path, merged from the partitions' counts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import turnover_risk as tr  # noqa: E402
from turnover_risk._warnings import DataQualityWarning  # noqa: E402
from turnover_risk.cli import main  # noqa: E402
from turnover_risk.governance._checks import InputChecks, drift_path  # noqa: E402
from turnover_risk.panel import attach_spec, panel_spec  # noqa: E402


@pytest.fixture(scope="module")
def cluster(dask_cluster):
    """Two worker processes, one thread each: the checks travel between processes."""
    return dask_cluster


@pytest.fixture(scope="module")
def bad_panel(fitted_sample):
    _, panel, _ = fitted_sample
    bad = panel.copy()
    bad["caseload_3m_mean"] = bad["caseload_3m_mean"].where(bad.index % 100 != 7, 2000.0)
    bad["fte"] = bad["fte"] * 0.8  # a shift the drift table sees in fte only
    return attach_spec(bad, panel_spec(panel))


def _score(model, source, out, **kw):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = tr.score_dataset(model, source, out, progress=False, **kw)
    lines = [str(w.message) for w in rec if issubclass(w.category, DataQualityWarning)]
    return res, lines


def test_dask_and_pandas_give_the_same_drift_table_and_problem_rows(
    fitted_sample, bad_panel, cluster, tmp_path
):
    _, _, models = fitted_sample
    model = models["logistic"]
    ref, ref_lines = _score(model, bad_panel, tmp_path / "pandas.parquet", batch_rows=7000)
    res, lines = _score(
        model,
        bad_panel,
        tmp_path / "dask.parquet",
        engine="dask",
        scheduler=cluster[1],
        batch_rows=7000,
    )
    assert res.engine == "dask" and res.info["partitions"] == -(-len(bad_panel) // 7000) > 2
    pd.testing.assert_frame_equal(res.drift.table, ref.drift.table, check_exact=True)
    # the same problem rows (Dask names them by partition and row in it, as its rejects)
    cols = ["column", "value", "problem"]
    got, want = res.input_problems, ref.input_problems
    assert sorted(map(tuple, got[cols].values)) == sorted(map(tuple, want[cols].values))
    assert set(got["file"]) == {f"<partition {i}>" for i in range(res.info["partitions"])}
    assert lines == ref_lines and len(lines) == 1  # one warning line, the same counts
    assert "caseload_3m_mean" in lines[0]
    t = res.drift.table.set_index("feature")
    assert t.loc["fte", "drift"] and t.loc["caseload_3m_mean", "out_of_range"] >= len(
        range(7, len(bad_panel), 100)
    )
    assert (t["n_persons"] == bad_panel["employee_id"].nunique()).all()  # persons united


def test_dask_scoring_of_a_register_checks_its_inputs(fitted_sample, cluster, tmp_path):
    reg, _, models = fitted_sample
    model = models["gbm"]
    ref, ref_lines = _score(model, reg, tmp_path / "pandas.parquet")
    res, lines = _score(
        model, reg, tmp_path / "dask.parquet", engine="dask", scheduler=cluster[1], batch_rows=8000
    )
    assert res.info["partitions"] > 1 and lines == ref_lines
    pd.testing.assert_frame_equal(res.drift.table, ref.drift.table, check_exact=True)
    cols = ["column", "value", "problem"]
    got, want = res.input_problems, ref.input_problems
    assert sorted(map(tuple, got[cols].values)) == sorted(map(tuple, want[cols].values))


def test_merging_partition_checks_equals_one_pass(fitted_sample, bad_panel):
    _, _, models = fitted_sample
    model = models["logistic"]
    one = InputChecks(model, "employee_id")
    parts = []
    for start in range(0, len(bad_panel), 5000):
        chunk = bad_panel.iloc[start : start + 5000]
        one.add(chunk, "f", start)
        part = InputChecks(model, "employee_id")
        part.add(chunk, "f", start)
        parts.append(part)
    merged = InputChecks.merged(parts[::-1][::-1])
    assert merged is not parts[0] and parts[0].n_rows == 5000  # the parts are left as they were
    assert merged.n_rows == one.n_rows == len(bad_panel) and merged.persons == one.persons
    assert merged.problems == one.problems
    for c in one.counts:
        np.testing.assert_array_equal(merged.counts[c], one.counts[c])
        assert merged.out_of_range[c] == one.out_of_range[c]


def test_cli_dask_writes_drift_csv_and_fails_on_drift(fitted_sample, bad_panel, cluster, tmp_path):
    _, _, models = fitted_sample
    path = models["logistic"].save(tmp_path / "model.skops")
    bad_panel.to_parquet(tmp_path / "bad.parquet", row_group_size=4000)
    out = tmp_path / "risk.parquet"
    args = ["score", str(path), str(tmp_path / "bad.parquet"), "--out", str(out)]
    args += ["--engine", "dask", "--scheduler", cluster[0].scheduler_address, "--fail-on-drift"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(args) == 4
    table = pd.read_csv(drift_path(out)).set_index("feature")
    assert table.loc["fte", "drift"] and not table.loc["role", "drift"]
