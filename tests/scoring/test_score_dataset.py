"""Streaming batch scoring (scoring/): equal to in-memory scoring, atomic output, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import turnover_risk as tr
from turnover_risk.privacy import ABSOLUTE_MIN_GROUP_SIZE, protect_groups
from turnover_risk.scoring import Scorer, ScoringFallbackWarning, compile_scorer, score_dataset


@pytest.fixture(scope="module")
def sample(fitted_sample):
    return fitted_sample


@pytest.fixture(scope="module")
def panel_file(sample, tmp_path_factory):
    _, panel, _ = sample
    path = tmp_path_factory.mktemp("panel") / "panel.parquet"
    panel.to_parquet(path, index=False, row_group_size=2000)
    return path


def reference_groups(panel, p, by="unit_id", min_group_size=5):
    """Group table computed directly with pandas from in-memory predictions."""
    frame = panel[[by, "period"]].assign(p=p)
    g = frame.groupby([by, "period"], sort=True).agg(n=("p", "size"), s=("p", "sum"))
    g = g.reset_index()
    g["small"] = g["n"] < min_group_size
    # the privacy layer's pattern: small groups and their partners (against the municipality and
    # the service the units belong to, per period), computed here from the person rows
    rows = panel[[c for c in ("employee_id", by, "municipality", "service", "period")
                  if c in panel.columns]]  # fmt: skip
    g["hidden"] = protect_groups(
        g.assign(n_persons=g["n"]), by=[by], rows=rows, fixed=["period"],
        min_group_size=min_group_size,
    )  # fmt: skip
    return g


class FixedRisk:
    """A 'model' whose risk is the column x itself: sums can be checked by hand."""

    feature_names_in_ = np.array(["x"])

    def __init__(self):
        self.calls = 0

    def predict_proba(self, X):
        self.calls += 1
        x = X["x"].to_numpy(dtype=float)
        return np.column_stack([1 - x, x])


def hand_panel():
    # unit a: 5 persons in 2024-01 (risks 0.1 .. 0.5, sum 1.5); units b and c: 2 and 3
    # persons (suppressed together: b + c = the total minus a has 5 persons)
    return pd.DataFrame(
        {
            "employee_id": [f"e{i}" for i in range(1, 11)],
            "unit_id": ["a"] * 5 + ["b"] * 2 + ["c"] * 3,
            "period": pd.to_datetime(["2024-01-01"] * 10).astype("datetime64[ns]"),
            "x": [0.1, 0.2, 0.3, 0.4, 0.5, 0.9, 0.9, 0.9, 0.9, 0.9],
        }
    )


# --------------------------------------------------------------------------------------------
# numbers by hand
# --------------------------------------------------------------------------------------------


def test_group_table_by_hand(tmp_path):
    res = score_dataset(FixedRisk(), hand_panel(), tmp_path / "g.csv", progress=False)
    t = res.table.set_index("unit_id")
    assert t.loc["a", "n_persons"] == 5
    assert t.loc["a", "expected_leavers"] == pytest.approx(1.5)
    assert t.loc["a", "mean_risk"] == pytest.approx(0.3)
    assert not t.loc["a", "suppressed"]
    # unit b has 2 persons < 5: its values and its count are blanked
    assert pd.isna(t.loc["b", "n_persons"]) and t.loc["b", "suppressed"]
    assert np.isnan(t.loc["b", "expected_leavers"]) and np.isnan(t.loc["b", "mean_risk"])
    written = pd.read_csv(tmp_path / "g.csv")
    assert written["n_persons"].iloc[0] == 5 and written["n_persons"].iloc[1:].isna().all()


def test_batches_do_not_change_the_hand_numbers(tmp_path):
    model = FixedRisk()
    res = score_dataset(
        model, hand_panel(), tmp_path / "g.parquet", batch_rows=2, min_group_size=3, progress=False
    )
    assert model.calls == 5  # 10 rows in batches of 2
    t = res.table.set_index("unit_id")
    assert t.loc["a", "expected_leavers"] == pytest.approx(1.5)
    assert t.loc["b", "suppressed"]  # 2 < 3
    assert res.rows_read == res.rows_scored == 10


def test_row_level_by_hand(tmp_path):
    res = score_dataset(
        FixedRisk(), hand_panel(), tmp_path / "r.parquet", row_level=True, progress=False
    )
    out = pd.read_parquet(tmp_path / "r.parquet")
    assert res.table is None
    assert out.columns.tolist() == ["employee_id", "unit_id", "period", "risk"]
    np.testing.assert_allclose(out["risk"], hand_panel()["x"])


# --------------------------------------------------------------------------------------------
# compiled scorer and streaming equal the in-memory path
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_compiled_scorer_equals_predict_proba(sample, kind):
    _, panel, models = sample
    scorer = compile_scorer(models[kind])
    assert scorer.kind == "compiled"
    got = scorer(panel)
    np.testing.assert_allclose(got, models[kind].predict_proba(panel)[:, 1], rtol=0, atol=1e-9)


def test_compiled_scorer_handles_calibration_and_unknown_categories(sample):
    _, panel, _ = sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = tr.TurnoverRiskModel(kind="logistic", calibrate="sigmoid", random_state=0)
        model.fit(panel)
    rows = panel.iloc[:500].copy()
    rows["role"] = rows["role"].cat.add_categories(["new_role"])
    rows.loc[rows.index[:10], "role"] = "new_role"
    rows.loc[rows.index[10:20], "role"] = np.nan
    rows.loc[rows.index[20:30], "caseload_last"] = np.nan
    np.testing.assert_allclose(
        compile_scorer(model)(rows), model.predict_proba(rows)[:, 1], rtol=0, atol=1e-9
    )


def test_compiled_scorer_falls_back_when_it_disagrees(sample):
    _, panel, models = sample
    scorer = compile_scorer(models["logistic"])
    scorer.compiled.offset += 0.5  # a broken compiled path must never be used
    with pytest.warns(ScoringFallbackWarning, match="differs from model.predict_proba"):
        got = scorer(panel.iloc[:300])
    assert scorer.kind == "predict_proba"
    np.testing.assert_allclose(got, models["logistic"].predict_proba(panel.iloc[:300])[:, 1])


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_a_model_the_fast_path_cannot_replay_warns_and_scores_with_predict_proba(
    sample, kind, monkeypatch
):
    """As after a scikit-learn upgrade that renames the internals the fast path reads."""
    _, panel, models = sample
    from turnover_risk.scoring import _fastpaths

    def renamed(*args, **kwargs):
        raise AttributeError(
            "'HistGradientBoostingClassifier' object has no attribute '_bin_mapper'"
        )

    monkeypatch.setattr(_fastpaths._BinnedTrees, "build", renamed)
    if kind == "logistic":  # break the logistic replay the same way
        model = models[kind]
        monkeypatch.setattr(model.pipeline_.named_steps["clf"], "coef_", None)
        expected = None
    else:
        expected = models[kind].predict_proba(panel.iloc[:200])[:, 1]
    with pytest.warns(ScoringFallbackWarning, match=f"cannot replay this {kind} model"):
        scorer = compile_scorer(models[kind])
    assert scorer.kind == "predict_proba"
    if expected is not None:
        np.testing.assert_allclose(scorer(panel.iloc[:200]), expected, rtol=0, atol=0)


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_streaming_parquet_equals_in_memory(sample, panel_file, tmp_path, kind):
    _, panel, models = sample
    model = models[kind]
    p = model.predict_proba(panel)[:, 1]
    res = score_dataset(model, panel_file, tmp_path / "g.parquet", batch_rows=3000, progress=False)
    assert res.info["batches"] >= len(panel) // 3000  # streamed, never all rows at once
    ref = reference_groups(panel, p)
    got = res.table
    assert got["unit_id"].tolist() == ref["unit_id"].tolist()
    assert (got["suppressed"].to_numpy() == ref["hidden"].to_numpy()).all()
    assert ref.loc[ref["small"], "hidden"].all()
    shown = ~ref["hidden"].to_numpy()
    assert (got["n_persons"].to_numpy()[shown] == ref["n"].to_numpy()[shown]).all()
    assert got.loc[~shown, "n_persons"].isna().all()
    np.testing.assert_allclose(
        got["expected_leavers"].to_numpy()[shown], ref["s"].to_numpy()[shown], rtol=1e-12, atol=1e-9
    )
    assert pd.read_parquet(tmp_path / "g.parquet").shape == got.shape


def test_row_level_stream_equals_predict_proba(sample, panel_file, tmp_path):
    _, panel, models = sample
    res = score_dataset(
        models["logistic"],
        panel_file,
        tmp_path / "rows.parquet",
        batch_rows=5000,
        row_level=True,
        progress=False,
    )
    out = pd.read_parquet(tmp_path / "rows.parquet")
    assert res.rows_scored == len(out) == len(panel)
    assert out[["employee_id", "period"]].equals(
        panel[["employee_id", "period"]].astype({"employee_id": out["employee_id"].dtype})
    )
    np.testing.assert_allclose(
        out["risk"], models["logistic"].predict_proba(panel)[:, 1], rtol=0, atol=1e-9
    )


def test_register_source_builds_partitions_and_equals_the_panel(sample, tmp_path):
    reg, panel, models = sample
    model = models["logistic"]
    folder = tmp_path / "register"
    tr.write_register(reg, folder)
    a = score_dataset(model, folder, tmp_path / "a.parquet", batch_rows=5000, progress=False)
    b = score_dataset(model, panel, tmp_path / "b.parquet", progress=False)
    assert a.info["batches"] > 1  # several partitions of employees
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=False, rtol=1e-12)


def test_folder_of_files_equals_one_file(sample, tmp_path):
    _, panel, models = sample
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, lo in enumerate(range(0, len(panel), 8000)):
        panel.iloc[lo : lo + 8000].to_parquet(folder / f"part-{i}.parquet", index=False)
    a = score_dataset(models["logistic"], folder, tmp_path / "a.parquet", progress=False)
    b = score_dataset(models["logistic"], panel, tmp_path / "b.parquet", progress=False)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=False, rtol=1e-12)


@settings(max_examples=8, deadline=None)
@given(batch_rows=st.integers(min_value=1, max_value=700))
def test_group_table_does_not_depend_on_batch_size(batch_rows):
    panel = hand_panel().sample(frac=1, random_state=batch_rows % 7)
    panel = pd.concat(
        [panel.assign(period=panel["period"] + pd.offsets.MonthBegin(k)) for k in range(3)],
        ignore_index=True,
    )
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        a = score_dataset(
            FixedRisk(),
            panel,
            Path(tmp) / "a.parquet",
            batch_rows=batch_rows,
            min_group_size=3,
            progress=False,
        )
        b = score_dataset(
            FixedRisk(),
            panel,
            Path(tmp) / "b.parquet",
            batch_rows=10_000,
            min_group_size=3,
            progress=False,
        )
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=False, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# the arrow fast path (Parquet source: no pandas, binned trees, bincount group sums)
# --------------------------------------------------------------------------------------------


def _messy(panel):
    """The panel with missing numbers, missing and unseen roles, and a string (not
    dictionary) role column: everything the fitted imputers and encoder must handle."""
    rows = panel.copy()
    rows["role"] = rows["role"].astype(object)
    idx = rows.index
    rows.loc[idx[::7], "caseload_last"] = np.nan
    rows.loc[idx[::11], "age"] = np.nan
    rows.loc[idx[::5], "cbi_work"] = np.nan
    rows.loc[idx[::13], "role"] = None
    rows.loc[idx[3::17], "role"] = "a role never seen in training"
    rows["role"] = rows["role"].astype("string")
    return rows


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
@pytest.mark.parametrize("threads", ["1", "2"])
def test_arrow_path_equals_predict_proba_with_missing_and_unknown_values(
    sample, tmp_path, monkeypatch, kind, threads
):
    monkeypatch.setenv("TURNOVER_RISK_SCORING_THREADS", threads)
    _, panel, models = sample
    model = models[kind]
    rows = _messy(panel)
    path = tmp_path / "messy.parquet"
    rows.to_parquet(path, index=False, row_group_size=3000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScoringFallbackWarning)  # no silent fallback
        res = score_dataset(
            model, path, tmp_path / "r.parquet", batch_rows=2500, row_level=True, progress=False
        )
    assert res.info["scorer"] == "compiled" and res.info["path"] == "arrow"
    if kind == "gbm":
        assert res.info["threads"] == int(threads)
        assert compile_scorer(model).compiled.trees is not None  # the binned trees, not sklearn
    out = pd.read_parquet(tmp_path / "r.parquet")
    np.testing.assert_allclose(out["risk"], model.predict_proba(rows)[:, 1], rtol=0, atol=1e-9)


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_compiled_scorer_reads_arrow_batches_like_frames(sample, kind):
    import pyarrow as pa

    _, panel, models = sample
    rows = _messy(panel).iloc[:4000]
    scorer = compile_scorer(models[kind])
    batch = pa.RecordBatch.from_pandas(rows[scorer.columns], preserve_index=False)
    from_arrow = scorer.compiled.proba(batch)
    np.testing.assert_array_equal(from_arrow, scorer.compiled.proba(rows[scorer.columns]))
    np.testing.assert_allclose(
        from_arrow, models[kind].predict_proba(rows)[:, 1], rtol=0, atol=1e-9
    )


def test_binned_trees_take_the_raw_branches():
    # one feature split at 2.5 (bin 3) and 7.0 (bin 9): codes must keep every x <= u decision
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    x = rng.integers(0, 12, size=(4000, 1)).astype(float)
    y = ((x[:, 0] > 2.5) & (x[:, 0] <= 7.0)).astype(int)
    clf = HistGradientBoostingClassifier(max_iter=5, max_leaf_nodes=3, random_state=0).fit(x, y)
    from turnover_risk.scoring._fastpaths import _BinnedTrees

    trees = _BinnedTrees.build(clf, 1)
    assert trees is not None and list(trees.thresholds) == [0]
    u = trees.thresholds[0]
    probe = np.array([-1e9, *u, *(u + 1e-9), *(u - 1e-9), 1e9])
    code = trees.code(0, probe)
    for k, t in enumerate(trees.codes[0][1:] - 1):  # t_k: the bin threshold of split k
        np.testing.assert_array_equal(code <= t, probe <= u[k])
    binned = trees.code(0, x[:, 0])[:, None].astype(np.uint8)
    np.testing.assert_array_equal(
        trees.predict(np.ascontiguousarray(binned), 1), clf.decision_function(x)
    )


@pytest.mark.parametrize("batch_rows", [1, 3, 1000])
def test_arrow_group_sums_by_hand_with_a_missing_group(tmp_path, batch_rows):
    import pyarrow as pa

    from turnover_risk.scoring._accumulate import _ArrowGroupAccumulator

    # unit a: risks .1 .2 .3 (sum .6); unit missing: .4 .5 (sum .9); unit b: .9 in two periods
    table = pa.table(
        {
            "unit_id": ["a", None, "a", "b", None, "a", "b"],
            "period": pa.array([1, 1, 1, 1, 1, 1, 2], type=pa.int64()),
        }
    )
    risk = np.array([0.1, 0.4, 0.2, 0.9, 0.5, 0.3, 0.9])
    acc = _ArrowGroupAccumulator(["unit_id", "period"])
    for lo in range(0, 7, batch_rows):
        acc.add(table.slice(lo, batch_rows).to_batches()[0], risk[lo : lo + batch_rows])
    got = acc.table.reset_index().sort_values(["unit_id", "period"], na_position="last")
    assert got["unit_id"].tolist()[:3] == ["a", "b", "b"] and pd.isna(got["unit_id"].iloc[3])
    assert got["period"].tolist() == [1, 1, 2, 1]
    assert got["n_persons"].tolist() == [3, 1, 1, 2]
    np.testing.assert_allclose(got["expected_leavers"], [0.6, 0.9, 0.9, 0.9])


@pytest.mark.parametrize("by", [["municipality"], ["municipality", "service"]])
def test_arrow_group_table_equals_pandas_path(sample, tmp_path, by):
    _, panel, models = sample
    rows = panel.copy()
    rows.loc[rows.index[::50], "municipality"] = None  # a missing group key is a group
    path = tmp_path / "p.parquet"
    rows.to_parquet(path, index=False, row_group_size=4000)
    a = score_dataset(models["logistic"], path, tmp_path / "a.parquet", by=by, progress=False)
    b = score_dataset(models["logistic"], rows, tmp_path / "b.parquet", by=by, progress=False)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=False, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# atomic output
# --------------------------------------------------------------------------------------------


def _interrupt_after(monkeypatch, n_calls: int, exc: type[BaseException]):
    """Make the (n_calls + 1)-th scored batch fail, on the pandas and the arrow path alike."""
    calls = {"n": 0}

    def failing(real):
        def flaky(self, *args):
            calls["n"] += 1
            if calls["n"] > n_calls:
                raise exc("stopped mid-way")
            return real(self, *args)

        return flaky

    monkeypatch.setattr(Scorer, "__call__", failing(Scorer.__call__))
    monkeypatch.setattr(Scorer, "score_batch", failing(Scorer.score_batch))
    return calls


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
@pytest.mark.parametrize("row_level", [False, True])
def test_interrupted_run_leaves_no_output(
    sample, panel_file, tmp_path, monkeypatch, exc, row_level
):
    _, _, models = sample
    calls = _interrupt_after(monkeypatch, 3, exc)
    out = tmp_path / "out.parquet"
    with pytest.raises(exc, match="stopped mid-way"):
        score_dataset(
            models["logistic"],
            panel_file,
            out,
            batch_rows=2000,
            row_level=row_level,
            progress=False,
        )
    assert calls["n"] == 4  # three batches were scored (and written) before the failure
    assert list(tmp_path.iterdir()) == []  # neither the output nor a partial file


def test_interrupted_overwrite_keeps_the_old_file(sample, panel_file, tmp_path, monkeypatch):
    _, _, models = sample
    out = tmp_path / "out.parquet"
    out.write_bytes(b"previous result")
    _interrupt_after(monkeypatch, 2, RuntimeError)
    with pytest.raises(RuntimeError):
        score_dataset(
            models["logistic"],
            panel_file,
            out,
            batch_rows=2000,
            row_level=True,
            overwrite=True,
            progress=False,
        )
    assert out.read_bytes() == b"previous result"
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_existing_output_is_refused_unless_overwrite(sample, tmp_path):
    _, _, _ = sample
    out = tmp_path / "g.parquet"
    out.write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match=r"already exists; pass overwrite=True"):
        score_dataset(FixedRisk(), hand_panel(), out, progress=False)
    assert out.read_bytes() == b"keep me"
    score_dataset(FixedRisk(), hand_panel(), out, overwrite=True, progress=False)
    written = pd.read_parquet(out)["n_persons"]
    assert written.iloc[0] == 5 and written.iloc[1:].isna().all()


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


def test_bad_row_in_the_middle_of_a_large_file(sample, tmp_path):
    _, panel, models = sample
    bad = panel.copy()
    r1, r2 = len(panel) // 2 + 17, len(panel) - 1234  # in the middle of row groups
    bad.loc[r1, "caseload_last"] = np.inf
    bad.loc[r2, "employee_id"] = None
    path = tmp_path / "big.parquet"
    bad.to_parquet(path, index=False, row_group_size=1000)
    with pytest.warns(tr.TurnoverRiskWarning, match=f"2 of {len(panel)} rows could not be scored"):
        res = score_dataset(
            models["logistic"], path, tmp_path / "g.parquet", batch_rows=4096, progress=False
        )
    assert res.rows_read == len(panel) == res.rows_scored + res.rows_rejected
    assert res.rows_rejected == 2
    rej = res.rejected.sort_values("row")
    assert rej["file"].tolist() == ["big.parquet", "big.parquet"]
    assert rej["row"].tolist() == [r1, r2]
    assert rej["column"].tolist() == ["caseload_last", "employee_id"]
    assert rej["problem"].tolist() == ["caseload_last is not finite", "employee_id is missing"]
    # the other rows are scored as usual
    good = panel.drop(index=[r1, r2])
    ref = reference_groups(good, models["logistic"].predict_proba(good)[:, 1])
    assert res.table["n_persons"].sum() == ref.loc[~ref["hidden"], "n"].sum()
    shown = ~ref["hidden"].to_numpy()
    np.testing.assert_allclose(
        res.table["expected_leavers"].to_numpy()[shown], ref["s"].to_numpy()[shown], rtol=1e-12
    )


def test_files_with_different_schemas_are_named(sample, tmp_path):
    _, panel, models = sample
    folder = tmp_path / "parts"
    folder.mkdir()
    panel.iloc[:100].to_parquet(folder / "part-0.parquet", index=False)
    other = panel.iloc[100:200].drop(columns=["fte"])
    other = other.assign(caseload_last=other["caseload_last"].astype("string"))
    other.to_parquet(folder / "part-1.parquet", index=False)
    with pytest.raises(
        ValueError,
        match=r"part-1\.parquet differs from part-0\.parquet: "
        r"missing columns \['fte'\]; different types: caseload_last \(float",
    ):
        score_dataset(models["logistic"], folder, tmp_path / "g.parquet", progress=False)
    assert not (tmp_path / "g.parquet").exists()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_rows": 0}, ValueError, r"batch_rows=0 must be at least 1"),
        ({"batch_rows": 2.5}, TypeError, r"batch_rows must be an integer"),
        ({"engine": "spark"}, ValueError, r"engine='spark' is not known"),
        ({"scheduler": "tcp://127.0.0.1:1"}, ValueError, r"only applies to engine='dask'"),
        ({"min_group_size": ABSOLUTE_MIN_GROUP_SIZE - 1}, ValueError, r"below the library"),
        ({"row_level": True, "out_name": "r.csv"}, ValueError, r"row-level output is written"),
        ({"out_name": "g.txt"}, ValueError, r"as \.parquet or \.csv"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, error, match):
    name = kwargs.pop("out_name", "g.parquet")
    with pytest.raises(error, match=match):
        score_dataset(FixedRisk(), hand_panel(), tmp_path / name, progress=False, **kwargs)


def test_missing_feature_columns_are_listed(sample, tmp_path):
    _, panel, models = sample
    path = tmp_path / "p.parquet"
    panel.drop(columns=["fte", "age"]).to_parquet(path, index=False)
    with pytest.raises(ValueError, match=r"lacks the model's feature columns \['age', 'fte'\]"):
        score_dataset(models["logistic"], path, tmp_path / "g.parquet", progress=False)


def test_missing_source_and_wrong_types(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        score_dataset(FixedRisk(), tmp_path / "nope.parquet", tmp_path / "g.parquet")
    with pytest.raises(TypeError, match="source must be a path"):
        score_dataset(FixedRisk(), 42, tmp_path / "g.parquet")
    with pytest.raises(TypeError, match="has no feature_names_in_"):
        score_dataset(
            object.__new__(type("M", (), {"predict_proba": None})),
            hand_panel(),
            tmp_path / "g.parquet",
        )


# --------------------------------------------------------------------------------------------
# CLI: turnover-risk score
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_model(sample, tmp_path_factory):
    _, _, models = sample
    path = tmp_path_factory.mktemp("model") / "model.skops"
    models["logistic"].save(path)
    return path


def test_cli_score_writes_groups_and_refuses_to_overwrite(
    sample, saved_model, panel_file, tmp_path, capsys
):
    from turnover_risk.cli._main import main

    _, panel, _ = sample
    out = tmp_path / "groups.csv"
    assert (
        main(
            [
                "--quiet",
                "score",
                str(saved_model),
                str(panel_file),
                "--out",
                str(out),
                "--batch-rows",
                "5000",
            ]
        )
        == 0
    )
    assert f"{len(panel):,} of {len(panel):,} rows scored" in capsys.readouterr().out
    written = pd.read_csv(out)
    ref = reference_groups(panel, np.zeros(len(panel)))
    assert written["n_persons"].sum() == ref.loc[~ref["hidden"], "n"].sum()
    before = out.read_bytes()
    assert main(["score", str(saved_model), str(panel_file), "--out", str(out)]) == 3
    assert "already exists; pass overwrite=True (CLI: --overwrite)" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert (
        main(
            [
                "--quiet",
                "score",
                str(saved_model),
                str(panel_file),
                "--out",
                str(out),
                "--overwrite",
                "--by",
                "municipality",
            ]
        )
        == 0
    )
    assert "municipality" in pd.read_csv(out).columns


def test_cli_score_scheduler_that_does_not_answer(saved_model, panel_file, tmp_path, capsys):
    from turnover_risk.cli._main import main

    pytest.importorskip("distributed")
    import time

    t0 = time.perf_counter()
    code = main(
        [
            "score",
            str(saved_model),
            str(panel_file),
            "--out",
            str(tmp_path / "g.csv"),
            "--engine",
            "dask",
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--connect-timeout",
            "1",
        ]
    )
    assert code == 3 and time.perf_counter() - t0 < 15  # the environment: no cluster there
    assert "no Dask scheduler answered at 'tcp://127.0.0.1:9' within 1 s" in (
        capsys.readouterr().err
    )
    assert (
        main(
            [
                "score",
                str(saved_model),
                str(panel_file),
                "--out",
                str(tmp_path / "g.csv"),
                "--scheduler",
                "tcp://127.0.0.1:9",
            ]
        )
        == 2
    )
    assert "--scheduler needs --engine dask" in capsys.readouterr().err


def test_cli_score_takes_the_model_as_an_option_too(saved_model, panel_file, tmp_path, capsys):
    """`turnover-risk score --model model.skops SOURCE` (as `flag` and `report` take it) gives
    the same table as the positional form; a wrong number of paths is bad input."""
    from turnover_risk.cli._main import main

    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["--quiet", "score", str(saved_model), str(panel_file), "--out", str(a)]) == 0
    assert (
        main(["--quiet", "score", "--model", str(saved_model), str(panel_file), "--out", str(b)])
        == 0
    )
    pd.testing.assert_frame_equal(pd.read_csv(a), pd.read_csv(b))
    capsys.readouterr()
    assert main(["score", str(panel_file), "--out", str(tmp_path / "c.csv")]) == 2
    assert "score takes MODEL SOURCE (or --model MODEL SOURCE); got 1 path(s)" in (
        capsys.readouterr().err
    )
    both = ["score", "--model", str(saved_model), str(saved_model), str(panel_file)]
    assert main([*both, "--out", str(tmp_path / "d.csv")]) == 2
    assert "score takes SOURCE with --model; got 2 path(s)" in capsys.readouterr().err
