"""Scoring a register on pinned blocks of employees (engines/_blocks.py): same as pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

import turnover_risk as tr
from turnover_risk.engines import _blocks


@pytest.fixture(scope="module")
def client(dask_cluster):
    return dask_cluster[1]


@pytest.mark.parametrize(
    ("n", "workers", "most"),
    [(0, 2, 10), (1, 2, 10), (7, 2, 10), (20, 2, 10), (21, 2, 10), (104_148, 2, 20_000),
     (5, 3, 1), (100, 1, 1000)],
)  # fmt: skip
def test_blocks_cover_every_employee_once_in_a_multiple_of_the_workers(n, workers, most):
    blocks = _blocks.blocks_of(n, workers, most)
    codes = np.concatenate([np.arange(lo, hi) for lo, hi in blocks]) if blocks else []
    np.testing.assert_array_equal(codes, np.arange(n))
    assert all(hi - lo <= most for lo, hi in blocks)
    target = workers * -(-n // (workers * most))  # a multiple of the workers
    if n and n % target == 0:  # equal blocks possible: every worker gets the same number
        assert len(blocks) == target
    sizes = [hi - lo for lo, hi in blocks]
    assert not sizes or max(sizes[:-1] or sizes) == sizes[0]  # equal but the last


def test_104148_employees_on_2_workers_make_6_blocks():
    blocks = _blocks.blocks_of(104_148, 2)
    assert len(blocks) == 6 and blocks[0] == (0, 17_358) and blocks[-1][1] == 104_148


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of at most 150 employees: several per worker, units spread over blocks."""
    monkeypatch.setattr(_blocks, "BLOCK_EMPLOYEES", 150)


def test_many_blocks_per_worker_give_the_pandas_group_table(
    fitted_sample, client, tmp_path, small_blocks
):
    reg, _, models = fitted_sample
    model = models["logistic"]
    with pytest.warns(tr.DataQualityWarning):
        ref = tr.score_dataset(model, reg, tmp_path / "pandas.parquet", progress=False)
    n_emp = reg.employment["employee_id"].nunique()
    with pytest.warns(tr.DataQualityWarning):
        res = tr.score_dataset(
            model,
            reg,
            tmp_path / "dask.parquet",
            engine="dask",
            scheduler=client,
            batch_rows=3_000,
            progress=False,
        )
    assert res.info["blocks"] == 2 * -(-n_emp // 300) > 2  # a multiple of the 2 workers
    assert res.info["partitions"] > res.info["blocks"]  # blocks scored in sub-batches
    got, want = res.table, ref.table
    exact = ["unit_id", "period", "n_persons", "suppressed"]
    pd.testing.assert_frame_equal(got[exact], want[exact], check_exact=True)
    np.testing.assert_allclose(got["expected_leavers"], want["expected_leavers"], atol=1e-9)
    pd.testing.assert_index_equal(got.columns, want.columns)
    # published on the workers, a slice of periods each: suppression crosses no period
    assert "seconds_publish_slices" in res.info and got["period"].nunique() > 2
    assert 0 < got["suppressed"].sum() < len(got)
    assert res.rows_read == res.rows_scored == ref.rows_read
    pd.testing.assert_frame_equal(res.drift.table, ref.drift.table)
    # the person tables' rows written for the workers are gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dask.parquet", "pandas.parquet"]


def test_row_level_register_on_blocks_equals_pandas(fitted_sample, client, tmp_path, small_blocks):
    reg, _, models = fitted_sample
    model = models["logistic"]
    with pytest.warns(tr.DataQualityWarning):
        tr.score_dataset(model, reg, tmp_path / "ref.parquet", row_level=True, progress=False)
    out = tmp_path / "rows.parquet"
    with pytest.warns(tr.DataQualityWarning):
        res = tr.score_dataset(
            model, reg, out, row_level=True, engine="dask", scheduler=client, progress=False
        )
    keys = ["employee_id", "period"]
    want = pd.read_parquet(tmp_path / "ref.parquet").sort_values(keys, ignore_index=True)
    got = pd.read_parquet(out).sort_values(keys, ignore_index=True)
    assert res.rows_scored == len(got) == len(want)
    # one part file per sub-batch, named block then batch, so a sorted listing is in order
    names = sorted(p.name for p in out.glob("part-*.parquet"))
    assert len(names) == res.info["partitions"] and names[0] == "part-00000-00000.parquet"
    pd.testing.assert_frame_equal(got[keys], want[keys].astype(got[keys].dtypes))
    np.testing.assert_allclose(got["risk"], want["risk"], rtol=0, atol=1e-9)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ref.parquet", "rows.parquet"]


def test_a_failing_worker_leaves_no_output_and_no_row_files(fitted_sample, client, tmp_path):
    """The error reaches the caller; the output and the person tables' Arrow files are gone."""

    def patch():  # runs in each worker process
        from turnover_risk.scoring import Scorer

        Scorer._real_call = Scorer.__call__

        def fail(self, frame):
            raise RuntimeError("worker lost mid-way")

        Scorer.__call__ = fail

    def unpatch():
        from turnover_risk.scoring import Scorer

        Scorer.__call__ = Scorer._real_call
        del Scorer._real_call

    reg, _, models = fitted_sample
    client.run(patch)
    try:
        with pytest.raises(RuntimeError, match="worker lost mid-way"):
            tr.score_dataset(
                models["logistic"],
                reg,
                tmp_path / "groups.parquet",
                engine="dask",
                scheduler=client,
                progress=False,
            )
    finally:
        client.run(unpatch)
    assert list(tmp_path.iterdir()) == []
