"""Scoring a register on pinned blocks of employees (engines/_blocks.py): same as pandas."""

from __future__ import annotations

import warnings

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


@pytest.mark.parametrize("n_blocks", [1, 2, 3, 6])
def test_weighted_blocks_cover_every_employee_once_with_equal_work(n_blocks):
    rng = np.random.default_rng(1)
    weights = np.concatenate([rng.uniform(5, 10, 300), rng.uniform(0.5, 1, 700)])  # heavy first
    blocks = _blocks.blocks_of(1000, n_blocks, max_block=1000, weights=weights)
    assert len(blocks) == n_blocks
    codes = np.concatenate([np.arange(lo, hi) for lo, hi in blocks])
    np.testing.assert_array_equal(codes, np.arange(1000))
    work = np.array([weights[lo:hi].sum() for lo, hi in blocks])
    assert work.max() - work.min() <= 2 * weights.max()  # equal up to one employee each side
    if n_blocks > 1:  # equal head counts would give the first block far more work
        assert blocks[0][1] - blocks[0][0] < 1000 // n_blocks


@pytest.mark.parametrize(("n", "parts"), [(3, 3), (5, 4), (4, 2)])
def test_weighted_blocks_hold_at_least_one_employee_even_when_one_weighs_everything(n, parts):
    weights = np.zeros(n)
    weights[0] = 1e9
    blocks = _blocks.blocks_of(n, parts, max_block=1, weights=weights)
    assert all(hi > lo for lo, hi in blocks) and blocks[0][0] == 0 and blocks[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:], strict=False))


def test_blocks_are_dealt_to_the_workers_in_a_snake():
    assert _blocks.owners(6, 2) == [0, 1, 1, 0, 0, 1]
    assert _blocks.owners(6, 3) == [0, 1, 2, 2, 1, 0]
    assert _blocks.owners(4, 1) == [0, 0, 0, 0]
    for n_w in (1, 2, 3, 5):  # a multiple of the workers: the same number each
        assert np.bincount(_blocks.owners(4 * n_w, n_w)).tolist() == [4] * n_w


def test_employee_weights_count_each_persons_periods(fitted_sample):
    from turnover_risk import panel as tp

    reg, panel, _ = fitted_sample
    base = tp.prepare_base(reg)
    weights = _blocks.employee_weights(base)
    assert weights.shape == (len(base.employee_ids),) and (weights >= 8).all()
    # the panel rows of each employee are part of their weight: more rows, more weight
    rows = panel.groupby("employee_id", observed=True).size()
    rows = rows.reindex(base.employee_ids.astype(object), fill_value=0).to_numpy()
    assert np.corrcoef(rows, weights)[0, 1] > 0.9


@pytest.mark.parametrize("start", [None, "1994-01-01"])
@pytest.mark.parametrize("cut", ["whole", "halves", "uneven", "one unit each"])
def test_unit_features_finished_by_unit_range_are_those_of_all_units(fitted_sample, cut, start):
    """Each worker finishes a range of units from every block's piece of it: joined, the
    ranges give the unit features of one process bit for bit (``start`` in 1994: the
    first periods reach back before the register's first spell, but not before each unit's,
    so a range must use the first spell of all units)."""
    from turnover_risk import panel as tp

    reg, _, _ = fitted_sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = tp.prepare_base(reg, start=start)
    n, n_units = len(base.employee_ids), len(base.unit_ids)
    bounds = np.array([0, 3, n // 2, n])  # three blocks of employees
    pieces = tp.split_person_rows(base, tp.person_tables(reg), bounds)
    parts = [
        tp.build_person_part(base, tables, lo, hi, codes)
        for (tables, codes), lo, hi in zip(pieces, bounds[:-1], bounds[1:], strict=True)
    ]
    whole = tp.finish_context(base, parts)
    ub = {
        "whole": np.array([0, n_units]),
        "halves": _blocks.unit_ranges(base, 2),
        "uneven": np.array([0, 1, n_units - 1, n_units]),
        "one unit each": np.arange(n_units + 1),
    }[cut]
    cuts = [_blocks._for_units(p, base, ub) for p in parts]
    assert all(c.events == {} for cut_ in cuts for c in cut_)  # no event indexes travel
    ranges = [
        _blocks._finish_units(base, int(ub[j]), int(ub[j + 1]), *[c[j] for c in cuts[::-1]])
        for j in range(len(ub) - 1)
    ]
    joined = _blocks._join_units(*ranges)
    assert sorted(joined) == sorted(whole)
    for name, values in whole.items():
        assert joined[name].shape == values.shape == (n_units, len(base.ext_days))
        assert joined[name].tobytes() == values.tobytes(), name
    # uncut parts give the same range (the cut only saves transfers)
    j = len(ub) // 2
    same = tp.finish_context(base, parts, units=(int(ub[j - 1]), int(ub[j])))
    assert all(same[k].tobytes() == ranges[j - 1][k].tobytes() for k in whole)


def test_unit_ranges_cover_every_unit_once(fitted_sample):
    from turnover_risk import panel as tp

    reg, _, _ = fitted_sample
    base = tp.prepare_base(reg)
    n_units = len(base.unit_ids)
    for n_ranges in (1, 2, 3, n_units, n_units + 5):
        ub = _blocks.unit_ranges(base, n_ranges)
        assert ub[0] == 0 and ub[-1] == n_units and (np.diff(ub) >= 1).all()
        assert len(ub) - 1 == min(n_ranges, n_units)


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
    assert res.info["unit_ranges"] == 2  # each worker finishes the features of half the units
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


def test_cluster_config_names_dask_settings_that_exist():
    """A misspelt key would be ignored by Dask without a word: each must be a known setting."""
    import dask

    from turnover_risk.engines import CLUSTER_CONFIG

    assert CLUSTER_CONFIG["distributed.worker.profile.enabled"] is False
    for key in CLUSTER_CONFIG:
        if ".pre-spawn-environ." in key:  # environment variables of the worker processes
            assert isinstance(dask.config.get(key.rsplit(".", 1)[0]), dict)
        else:
            dask.config.get(key)  # KeyError if Dask has no such setting
