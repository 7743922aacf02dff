"""score_dataset with a HazardModel: the risk within a horizon per row and by group, through the
same checks and privacy layer as the classifier."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.privacy import protect_groups
from turnover_risk.scoring import score_dataset

FEATURES = ["tenure_service_months", "newly_qualified", "caseload_3m_mean", "age"]


@pytest.fixture(scope="module")
def fitted():
    reg = tr.load_sample()
    panel = tr.build_panel(reg, freq="M", outcome="any")
    return reg, panel, tr.HazardModel(features=FEATURES).fit(panel, reg)


def _score(*args, **kwargs):
    """score_dataset without the input-range warning (the last, partly observed months were
    not training rows, so a few of their values lie outside the training range)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.DataQualityWarning)
        return score_dataset(*args, progress=False, **kwargs)


def _reference_groups(panel, p, by="unit_id", min_group_size=5):
    frame = panel[[by, "period"]].assign(p=p)
    g = frame.groupby([by, "period"], sort=True).agg(n=("p", "size"), s=("p", "sum"))
    g = g.reset_index()
    rows = panel[["employee_id", by, "municipality", "service", "period"]]
    g["hidden"] = protect_groups(
        g.assign(n_persons=g["n"]),
        by=[by],
        rows=rows,
        fixed=["period"],
        min_group_size=min_group_size,
    )
    return g


@pytest.mark.parametrize("horizon", [None, 6, 24])
def test_row_level_risk_is_predict_risk(fitted, tmp_path, horizon):
    _, panel, m = fitted
    kwargs = {} if horizon is None else {"horizon": horizon}
    res = _score(m, panel, tmp_path / "rows.parquet", row_level=True, batch_rows=4000, **kwargs)
    h = 12 if horizon is None else horizon
    assert (res.info["horizon"], res.info["outcome"]) == (h, "voluntary")
    rows = pd.read_parquet(tmp_path / "rows.parquet")
    expected = m.predict_risk(panel, horizon=h)["risk_voluntary"].to_numpy()
    np.testing.assert_array_equal(rows["risk"].to_numpy(), expected)
    assert rows["employee_id"].tolist() == panel["employee_id"].astype(str).tolist()
    assert res.rows_read == res.rows_scored == len(panel)


def test_group_table_sums_the_risks_and_suppresses_small_groups(fitted, tmp_path):
    _, panel, m = fitted
    res = _score(m, panel, tmp_path / "groups.parquet", batch_rows=5000)
    ref = _reference_groups(panel, m.predict_risk(panel, 12)["risk_voluntary"].to_numpy())
    got = res.table
    assert got["unit_id"].tolist() == ref["unit_id"].tolist()
    assert (got["suppressed"].to_numpy() == ref["hidden"].to_numpy()).all()
    assert ref["hidden"].any() and (~ref["hidden"]).any()
    shown = ~ref["hidden"].to_numpy()
    np.testing.assert_allclose(
        got["expected_leavers"].to_numpy()[shown], ref["s"].to_numpy()[shown], rtol=1e-12
    )
    assert got.loc[~shown, ["n_persons", "expected_leavers", "mean_risk"]].isna().all().all()


def test_parquet_and_register_sources_give_the_same_table(fitted, tmp_path):
    reg, panel, m = fitted
    ref = _score(m, panel, tmp_path / "a.parquet").table
    path = tmp_path / "panel.parquet"
    panel.to_parquet(path, index=False, row_group_size=3000)
    from_file = _score(m, path, tmp_path / "b.parquet", batch_rows=3000)
    assert from_file.info["batches"] > 1
    pd.testing.assert_frame_equal(from_file.table, ref, check_dtype=False)
    from_register = _score(m, reg, tmp_path / "c.parquet").table
    pd.testing.assert_frame_equal(from_register, ref, check_dtype=False)


def test_bad_rows_are_rejected_and_counted_and_inputs_checked(fitted, tmp_path):
    _, panel, m = fitted
    bad = panel.copy()
    bad.loc[bad.index[3], "age"] = np.inf
    bad.loc[bad.index[5], "caseload_3m_mean"] = 1e6
    with pytest.warns(tr.TurnoverRiskWarning) as caught:
        res = score_dataset(m, bad, tmp_path / "g.parquet", progress=False)
    assert res.rows_read == res.rows_scored + res.rows_rejected == len(panel)
    assert res.rows_rejected == 1
    assert res.rejected.iloc[0][["row", "column"]].tolist() == [3, "age"]
    problems = res.input_problems
    assert 5 in problems.loc[problems["column"] == "caseload_3m_mean", "row"].tolist()
    assert any("never saw" in str(w.message) for w in caught)
    assert any("could not be scored" in str(w.message) for w in caught)


def test_bad_arguments(fitted, tmp_path):
    _, panel, m = fitted
    with pytest.raises(ValueError, match="horizon="):
        score_dataset(m, panel, tmp_path / "g.parquet", horizon=0, progress=False)
    with pytest.raises(ValueError, match="not fitted"):
        score_dataset(tr.HazardModel(), panel, tmp_path / "g.parquet", progress=False)
    clf = tr.TurnoverRiskModel(kind="logistic", random_state=0)
    clf.horizon_ = 12  # stands in for a fitted classifier: refused before it scores
    with pytest.raises(ValueError, match="applies to a HazardModel"):
        score_dataset(clf, panel, tmp_path / "g.parquet", horizon=6, progress=False)
    assert not any(tmp_path.iterdir())


def test_cli_score_takes_a_horizon_for_a_hazard_model(fitted, tmp_path):
    """`turnover-risk score --horizon 6` scores a saved hazard model at 6 months, as
    score_dataset does; a classifier refuses the flag (exit 2, bad input)."""
    from turnover_risk.cli import main

    reg, panel, m = fitted
    model = m.save(tmp_path / "hazard.skops")
    panel_path = tmp_path / "panel.parquet"
    panel.to_parquet(panel_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.DataQualityWarning)
        code = main(["--quiet", "score", str(model), str(panel_path), "--row-level",
                     "--horizon", "6", "--out", str(tmp_path / "rows.parquet")])  # fmt: skip
    assert code == 0
    rows = pd.read_parquet(tmp_path / "rows.parquet")
    expected = m.predict_risk(panel, horizon=6)["risk_voluntary"].to_numpy()
    np.testing.assert_array_equal(rows["risk"].to_numpy(), expected)
    classifier = tr.TurnoverRiskModel(kind="logistic", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yearly = tr.build_panel(reg)
        path = classifier.fit(yearly).save(tmp_path / "clf.skops")
        yearly.to_parquet(tmp_path / "yearly.parquet")
        code = main(["--quiet", "score", str(path), str(tmp_path / "yearly.parquet"),
                     "--horizon", "6", "--out", str(tmp_path / "groups.csv")])  # fmt: skip
    assert code == 2
    assert not (tmp_path / "groups.csv").exists()
