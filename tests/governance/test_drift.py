"""check_drift: PSI, person-clustered tests, unseen and out-of-range values, 0.1.0 models."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.governance._drift import _rank_z, holm, psi
from turnover_risk.panel import attach_spec, panel_spec

DATA = Path(__file__).parents[1] / "models" / "data"


@pytest.fixture(scope="module")
def fitted(make_panel):
    panel = make_panel(n_persons=300, seed=1)
    model = tr.TurnoverRiskModel(random_state=0).fit(panel)
    return model, panel


def _with(panel, **changes):
    out = panel.copy()
    for c, v in changes.items():
        out[c] = v(out) if callable(v) else v
    return attach_spec(out, panel_spec(panel))


def test_the_training_panel_has_no_drift(fitted):
    model, panel = fitted
    # the rows the model was fitted on: the 18 periods before the last horizon (6)
    trained = panel[panel["period"] < np.sort(panel["period"].unique())[18]]
    assert len(trained) == model.n_train_rows_
    assert (tr.check_drift(model, trained).table["psi"] < 1e-9).all()
    res = tr.check_drift(model, panel)  # with the censored rows: a little different, no drift
    assert not res.any_drift and res.drifted == []
    assert res.table["n_persons"].eq(300).all()
    assert list(res.table.columns[:4]) == ["feature", "kind", "psi", "band"]


def test_a_real_shift_is_drift_and_only_there(fitted, make_panel):
    model, _ = fitted
    later = make_panel(n_persons=300, seed=2)
    res = tr.check_drift(model, _with(later, caseload_3m_mean=lambda d: d["caseload_3m_mean"] + 4))
    t = res.table.set_index("feature")
    assert res.drifted == ["caseload_3m_mean"]
    assert t.loc["caseload_3m_mean", "rank_z"] > 5  # shifted upwards
    assert t.loc["caseload_3m_mean", "band"] in ("moderate", "major")
    # an independent sample of the same process is not drift
    assert not tr.check_drift(model, later).any_drift


def test_months_of_the_same_persons_are_not_new_evidence(fitted, make_panel):
    """Repeating every person's rows 5 times leaves PSI and tests unchanged (persons are the
    clusters), where a test on person-months would call the shift 5 times as certain."""
    model, _ = fitted
    later = _with(
        make_panel(n_persons=300, seed=2), caseload_3m_mean=lambda d: d["caseload_3m_mean"] + 0.5
    )
    longer = attach_spec(pd.concat([later] * 5, ignore_index=True), panel_spec(later))
    a = tr.check_drift(model, later).table.set_index("feature")
    b = tr.check_drift(model, longer).table.set_index("feature")
    np.testing.assert_allclose(a["psi"], b["psi"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a["p_value"], b["p_value"], rtol=1e-9, atol=1e-12)
    assert (b["n_rows"] == 5 * a["n_rows"]).all()


def test_unseen_categories_and_out_of_range_values_are_counted(fitted):
    model, panel = fitted
    bad = _with(
        panel,
        role=lambda d: d["role"].where(d.index % 50 != 0, "consultant"),
        caseload_3m_mean=lambda d: d["caseload_3m_mean"].where(d.index % 200 != 0, 2000.0),
    )
    t = tr.check_drift(model, bad).table.set_index("feature")
    n = len(panel)
    assert t.loc["role", "unseen"] == len(range(0, n, 50))
    assert t.loc["caseload_3m_mean", "out_of_range"] == len(range(0, n, 200))
    assert t.loc["role", "drift"]  # 2 % of rows unseen
    assert not t.loc["caseload_3m_mean", "drift"]  # 0.5 %: counted, under 1 %


def test_missing_change_is_reported(fitted):
    model, panel = fitted
    bad = _with(panel, caseload_3m_mean=lambda d: d["caseload_3m_mean"].where(d.index % 2 == 0))
    t = tr.check_drift(model, bad).table.set_index("feature")
    assert t.loc["caseload_3m_mean", "missing_change"] == pytest.approx(0.5, abs=0.01)
    assert t.loc["caseload_3m_mean", "drift"]


def test_a_model_without_profile_says_so(fitted):
    model, panel = fitted
    old = tr.TurnoverRiskModel(random_state=0)
    old.__dict__.update({k: v for k, v in model.__dict__.items() if k != "input_profile_"})
    with pytest.raises(ValueError, match=r"no reference profile.*0\.1\.0.*Refit"):
        tr.check_drift(old, panel)


def test_a_model_saved_by_0_1_0_says_so(fitted):
    import json

    import sklearn

    pickled = json.loads((DATA / "model-0.1.0-logistic.json").read_text())["sklearn_version"]
    if pickled != sklearn.__version__:
        pytest.skip(f"the 0.1.0 file was pickled with scikit-learn {pickled} (not portable)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = tr.load_model(DATA / "model-0.1.0-logistic.joblib", trusted=True)
    with pytest.raises(ValueError, match="no reference profile"):
        tr.check_drift(old, pd.DataFrame())


def test_psi_rank_and_holm_by_hand():
    # PSI of (50, 50) vs (80, 20) with 0.5 added per cell
    p, q = np.array([50.5, 50.5]) / 101, np.array([80.5, 20.5]) / 101
    assert psi(np.array([50, 50]), np.array([80, 20])) == pytest.approx(
        np.sum((q - p) * np.log(q / p))
    )
    # rank test on binned counts = Mann-Whitney with ties on the expanded data
    from scipy.stats import mannwhitneyu

    ref, cur = np.array([10, 20, 5]), np.array([4, 10, 15])
    x = np.repeat([0, 1, 2], ref)
    y = np.repeat([0, 1, 2], cur)
    z, pv = _rank_z(ref, cur)
    assert z > 0 and pv == pytest.approx(
        mannwhitneyu(y, x, use_continuity=False, method="asymptotic").pvalue, rel=1e-9
    )
    assert holm(np.array([0.01, np.nan, 0.04, 0.03])).round(3).tolist()[::2] == [0.03, 0.06]


def test_plot(fitted, make_panel):
    model, _ = fitted
    later = _with(
        make_panel(n_persons=300, seed=2), caseload_3m_mean=lambda d: d["caseload_3m_mean"] + 4
    )
    ax = tr.check_drift(model, later).plot()
    assert "caseload_3m_mean" in [t.get_text() for t in ax.get_yticklabels()]
    plt.close("all")
