"""audit: group metrics by hand, a bootstrap over persons, suppression, refusals, FDR."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import turnover_risk as tr
from turnover_risk.governance import age_band
from turnover_risk.governance._audit import benjamini_hochberg
from turnover_risk.panel import PanelSpec, attach_spec


class ColumnModel:
    """A 'model' whose risk is the panel's ``risk`` column (known numbers to check against)."""

    def predict_proba(self, X):
        p = X["risk"].to_numpy(dtype=float)
        return np.column_stack([1 - p, p])


def _panel(n_persons=90, months=6, seed=0, groups=("a", "b", "c")):
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(n_persons), months)
    risk = rng.uniform(0.02, 0.6, n_persons)[pid] * rng.uniform(0.8, 1.2, len(pid))
    df = pd.DataFrame(
        {
            "employee_id": [f"P{i:03d}" for i in pid],
            "unit_id": [f"U{i % 4}" for i in pid],
            "period": np.tile(pd.date_range("2023-01-01", periods=months, freq="MS"), n_persons),
            "left_within_horizon": (rng.random(len(pid)) < risk).astype(float),
            "risk": risk,
            "team": np.asarray(groups, dtype=object)[pid % len(groups)],
            "age": np.repeat(rng.integers(22, 66, n_persons), months).astype(float),
        }
    )
    spec = PanelSpec(feature_cols=("risk",), group_cols=("unit_id",), horizon=6, survival_cols=())
    return attach_spec(df, spec)


def test_group_metrics_by_hand():
    panel = _panel()
    res = tr.audit(ColumnModel(), panel, by="team", threshold=0.3, n_boot=50)
    row = res.table.set_index("group").loc["b"]
    g = panel[panel["team"] == "b"]
    y, p = g["left_within_horizon"].to_numpy(), g["risk"].to_numpy()
    f = p >= 0.3
    assert row["n_persons"] == 30 and row["n_rows"] == 180
    assert row["observed_rate"] == pytest.approx(y.mean())
    assert row["mean_risk"] == pytest.approx(p.mean())
    assert row["oe"] == pytest.approx(y.sum() / p.sum())
    assert row["auc"] == pytest.approx(roc_auc_score(y, p))
    assert row["flagged_share"] == pytest.approx(f.mean())
    assert row["tpr"] == pytest.approx(f[y == 1].mean())
    assert row["fpr"] == pytest.approx(f[y == 0].mean())
    rest = panel[panel["team"] != "b"]
    d = res.differences.set_index(["group", "metric"])
    assert d.loc[("b", "oe"), "rest"] == pytest.approx(
        rest["left_within_horizon"].sum() / rest["risk"].sum()
    )
    assert row["oe_low"] < row["oe"] < row["oe_high"]


def test_the_bootstrap_draws_persons_not_rows():
    """Each person's months repeated 4 times: a row bootstrap would halve the intervals; over
    persons they are the same (same seed, same persons drawn)."""
    a = _panel(months=3)
    b = attach_spec(pd.concat([a] * 4, ignore_index=True), tr.panel_spec(a))
    ta = tr.audit(ColumnModel(), a, by="team", threshold=0.3, n_boot=100).table
    tb = tr.audit(ColumnModel(), b, by="team", threshold=0.3, n_boot=100).table
    cols = [c for c in ta.columns if c.endswith(("_low", "_high"))]
    np.testing.assert_allclose(ta[cols].to_numpy(float), tb[cols].to_numpy(float), rtol=1e-9)


def test_small_groups_are_suppressed_and_left_out_of_the_rest():
    panel = _panel(n_persons=63, groups=("a", "b", "c"))
    keep = (panel["team"] != "c") | panel["employee_id"].isin(["P002", "P005"])  # c: 2 persons
    panel = attach_spec(panel[keep].reset_index(drop=True), tr.panel_spec(panel))
    res = tr.audit(ColumnModel(), panel, by="team", threshold=0.3, n_boot=50, min_group_size=5)
    t = res.table.set_index("group")
    assert t.loc["c", "suppressed"] and pd.isna(t.loc["c", "n_persons"])
    assert t.loc["c", ["n_rows", "oe", "auc", "oe_diff"]].isna().all()
    assert not t.loc[["a", "b"], "suppressed"].any()
    d = res.differences.set_index(["group", "metric"])
    assert d.loc[("a", "oe"), "rest"] == pytest.approx(t.loc["b", "oe"])  # c is not in a's rest
    assert "c" not in set(res.differences["group"])
    # two shown groups: one test, counted once, the same q on both rows
    assert d.loc[("a", "auc"), "q_value"] == d.loc[("b", "auc"), "q_value"]


def test_identifiers_are_refused():
    panel = _panel()
    for by in ("employee_id", ("team", "employee_id"), "person_id"):
        with pytest.raises(ValueError, match="identifier"):
            tr.audit(ColumnModel(), panel, by=by, n_boot=20)


def test_age_band_from_birth_year_in_the_register_or_the_panel_age():
    panel = _panel()
    reg_emp = (
        panel.groupby("employee_id", as_index=False)
        .first()
        .assign(
            birth_year=lambda d: 2023 - d["age"].astype(int), start_date=pd.Timestamp("2020-01-01")
        )
    )
    no_age = attach_spec(panel.drop(columns="age"), tr.panel_spec(panel))
    a = tr.audit(ColumnModel(), no_age, by="age_band", register=reg_emp, n_boot=20).table
    b = tr.audit(ColumnModel(), panel, by="age_band", n_boot=20).table
    pd.testing.assert_frame_equal(a[["group", "n_rows", "oe"]], b[["group", "n_rows", "oe"]])
    assert a["group"].tolist() == [
        g for g in ["<30", "30-39", "40-49", "50-59", "60+"] if g in set(a["group"])
    ]
    with pytest.raises(ValueError, match="register="):
        tr.audit(ColumnModel(), no_age, by="gender", n_boot=20)
    assert age_band(pd.Series([29.9, 30, 49, 50, 61])).tolist() == [
        "<30",
        "30-39",
        "40-49",
        "50-59",
        "60+",
    ]


def test_benjamini_hochberg_matches_the_definition():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205])
    m = len(p)
    expected = np.minimum.accumulate((p * m / np.arange(1, m + 1))[::-1])[::-1]
    np.testing.assert_allclose(benjamini_hochberg(p), np.minimum(expected, 1))


def test_a_real_model_on_the_sample_and_the_plot(fitted_sample):
    reg, panel, models = fitted_sample
    res = tr.audit(models["logistic"], panel, register=reg, n_boot=40, random_state=1)
    assert set(res.table["by"]) == {"gender", "age_band"}
    assert res.table["n_persons"].dropna().le(panel["employee_id"].nunique()).all()
    g = res.table[res.table["by"] == "gender"]
    assert g["n_rows"].sum() == panel["left_within_horizon"].notna().sum()
    flagged = (g["flagged_share"] * g["n_rows"]).sum() / g["n_rows"].sum()
    assert flagged == pytest.approx(0.10, abs=0.002)  # the default threshold flags the top 10 %
    axes = res.plot()
    assert len(axes) == 4
    plt.close("all")


def test_cluster_weights_draw_whole_units():
    from turnover_risk.governance._bootstrap import person_weights

    clusters = np.array([0, 0, 1, 2, 2, 2])
    w = person_weights(6, 200, np.random.default_rng(0), clusters=clusters)
    assert (w[:, 0] == w[:, 1]).all() and (w[:, 3] == w[:, 5]).all()
    assert (w[:, [0, 2, 3]].sum(axis=1) == 3).all()  # three units drawn per replicate
    w = person_weights(6, 200, np.random.default_rng(0))
    assert (w.sum(axis=1) == 6).all() and (w[:, 0] != w[:, 1]).any()


def test_cluster_option():
    panel = _panel()
    unit = tr.audit(ColumnModel(), panel, by="team", threshold=0.3, n_boot=50, cluster="unit_id")
    person = tr.audit(ColumnModel(), panel, by="team", threshold=0.3, n_boot=50, cluster="person")
    assert unit.settings["cluster"] == "unit_id" and person.settings["cluster"] == "person"
    auto = tr.audit(ColumnModel(), panel, by="team", threshold=0.3, n_boot=50)
    assert auto.settings["cluster"] == "person"  # 4 units are too few to draw
    many = attach_spec(panel.assign(unit_id=panel["employee_id"].str[-2:]), tr.panel_spec(panel))
    assert tr.audit(ColumnModel(), many, by="team", n_boot=20).settings["cluster"] == "unit_id"
    cols = ["oe", "auc", "tpr"]
    pd.testing.assert_frame_equal(unit.table[cols], person.table[cols])  # same point estimates
    assert not np.allclose(unit.table["oe_low"], person.table["oe_low"])
    with pytest.raises(ValueError, match="cluster"):
        tr.audit(ColumnModel(), panel, by="team", n_boot=20, cluster="nope")


def _metricframe_by_group(labelled, attrs, cols, p, threshold):
    """fairlearn's MetricFrame with the audit's metric functions: the reference the audit's
    point estimates (computed per group without it) must equal exactly."""
    fl = pytest.importorskip("fairlearn.metrics")
    from turnover_risk.governance._audit import _labels
    from turnover_risk.governance._bootstrap import metric_functions

    lab = _labels(attrs, cols)
    mf = fl.MetricFrame(
        metrics=metric_functions(threshold),
        y_true=labelled["left_within_horizon"].to_numpy(dtype=float),
        y_pred=p,
        sensitive_features=pd.Series(lab, name=" x ".join(cols)),
    )
    return mf.by_group


def _assert_same_points(res, by_group, name):
    from turnover_risk.governance._bootstrap import METRICS

    t = res.table[(res.table["by"] == name) & ~res.table["suppressed"].astype(bool)]
    assert len(t) >= 2
    got = t.set_index("group")[list(METRICS)].astype(float)
    want = by_group.loc[got.index, list(METRICS)].astype(float)
    # identical, not approximately equal: the same functions on the same rows in the same order
    assert np.array_equal(got.to_numpy(), want.to_numpy(), equal_nan=True)
    assert set(by_group.index) == set(res.table.loc[res.table["by"] == name, "group"])


@pytest.mark.parametrize("by", [("team",), ("team", "band")])
def test_point_estimates_equal_fairlearn_metricframe(by):
    panel = _panel(n_persons=150, groups=("a", "b", "c", "d"))
    panel.loc[panel["employee_id"].isin(["P000", "P004", "P008"]), "team"] = None  # a missing group
    panel["band"] = np.where(panel["age"] >= 40, "40+", "<40")
    res = tr.audit(ColumnModel(), panel, by=[by], n_boot=20)
    p = panel["risk"].to_numpy(dtype=float)
    _assert_same_points(
        res, _metricframe_by_group(panel, panel, by, p, res.threshold), " x ".join(by)
    )


def test_point_estimates_equal_fairlearn_on_the_sample(fitted_sample):
    from turnover_risk.governance._audit import _attributes
    from turnover_risk.panel import panel_spec

    reg, panel, models = fitted_sample
    model = models["logistic"]
    res = tr.audit(model, panel, register=reg, n_boot=20)
    labelled = panel[panel["left_within_horizon"].notna()]
    attrs = _attributes(labelled, panel_spec(panel), {"gender", "age_band"}, reg)
    p = model.predict_proba(labelled)[:, 1]
    for cols in (("gender",), ("age_band",)):
        by_group = _metricframe_by_group(labelled, attrs, cols, p, res.threshold)
        _assert_same_points(res, by_group, cols[0])
