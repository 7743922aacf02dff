"""Bootstrap refits kept with a gbm (``groups/_refit_store.py``): used only when they are the
refits a prospective flag would make, and then the flags are the same, bit for bit."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.groups import _refit_store, _refit_worker, flag_groups
from turnover_risk.groups._refit_store import ATTRIBUTE, store_refits


def _flags(model, panel, n_boot=6, random_state=3):
    return flag_groups(model, panel, n_boot=n_boot, n_drivers=0, random_state=random_state)


def _no_refits(monkeypatch):
    """Make any refit fail the test: the kept refits must answer."""

    def refused(*args, **kwargs):
        raise AssertionError("a refit was made although the kept refits apply")

    monkeypatch.setattr(_refit_worker, "fit_predict", refused)
    monkeypatch.setattr(_refit_worker, "shared_refits", refused)


def _count_refits(monkeypatch) -> list:
    calls = []
    fit_predict = _refit_worker.fit_predict

    def counted(*args):
        calls.append(1)
        return fit_predict(*args)

    monkeypatch.setattr(_refit_worker, "fit_predict", counted)
    return calls


@pytest.fixture(scope="module")
def gbm_and_panel(fitted_sample):
    """A copy of the shared sample gbm (its features have missing values) and the panel."""
    _, panel, models = fitted_sample
    return copy.deepcopy(models["gbm"]), panel


def test_kept_refits_give_the_same_flags_bit_for_bit(gbm_and_panel, monkeypatch):
    model, panel = gbm_and_panel
    model = copy.deepcopy(model)
    refitted = _flags(model, panel)
    assert store_refits(model, panel, n_boot=6, random_state=3) == 6
    _no_refits(monkeypatch)
    kept = _flags(model, panel)
    assert kept.info["refits"] == refitted.info["refits"] == 6
    pd.testing.assert_frame_equal(kept.table, refitted.table, check_exact=True)


def test_other_draws_or_another_panel_are_refitted(gbm_and_panel, monkeypatch):
    model, panel = gbm_and_panel
    plain = copy.deepcopy(model)
    model = copy.deepcopy(model)
    store_refits(model, panel, n_boot=6, random_state=3)
    calls = _count_refits(monkeypatch)
    for kwargs in ({"random_state": 4}, {"n_boot": 5}):  # other draws
        got = _flags(model, panel, **kwargs)
        assert len(calls) >= 5
        want = _flags(plain, panel, **kwargs)
        pd.testing.assert_frame_equal(got.table, want.table, check_exact=True)
        calls.clear()
    # another panel (a unit fewer): other training rows, so other refits
    fewer = panel[panel["unit_id"] != panel["unit_id"].iloc[0]]
    got = _flags(model, fewer)
    assert len(calls) >= 5
    pd.testing.assert_frame_equal(got.table, _flags(plain, fewer).table, check_exact=True)


def test_refits_kept_by_another_scikit_learn_are_refitted(gbm_and_panel, monkeypatch):
    # a model file from another scikit-learn loads (with a warning); its kept refits are not
    # the refits this scikit-learn would grow, so they are not used
    import sklearn

    model, panel = gbm_and_panel
    model = copy.deepcopy(model)
    store_refits(model, panel, n_boot=6, random_state=3)
    calls = _count_refits(monkeypatch)
    monkeypatch.setattr(sklearn, "__version__", sklearn.__version__ + ".post1")
    _flags(model, panel)
    assert len(calls) >= 5


def test_kept_refits_survive_the_model_file(gbm_and_panel, tmp_path, monkeypatch):
    import zipfile

    model, panel = gbm_and_panel
    model = copy.deepcopy(model)
    refitted = _flags(model, panel)
    store_refits(model, panel, n_boot=6, random_state=3)
    path = model.save(tmp_path / "m.skops")
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("turnover_risk/manifest.json"))
    assert manifest["stored_refits"] == {"n_boot": 6, "random_state": 3, "refits": 6}
    loaded = tr.load_model(path)
    _no_refits(monkeypatch)
    pd.testing.assert_frame_equal(_flags(loaded, panel).table, refitted.table, check_exact=True)


def _tampered(store: dict, how: str) -> dict:
    store = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in store.items()}
    inner = np.flatnonzero(~store["is_leaf"])
    if how == "child-before-parent":  # a walk that could loop
        store["left"][inner[3]] = inner[3] - 1
    elif how == "feature-out-of-range":
        store["feature"][inner[0]] = 10_000
    elif how == "wrong-dtype":
        store["value"] = store["value"].astype(np.float32)
    elif how == "short-array":
        store["threshold"] = store["threshold"][:-1]
    elif how == "not-a-dict":
        return ["no"]
    return store


@pytest.mark.parametrize(
    "how",
    ["child-before-parent", "feature-out-of-range", "wrong-dtype", "short-array", "not-a-dict"],
)
def test_malformed_kept_refits_are_refitted_not_used(gbm_and_panel, monkeypatch, how):
    model, panel = gbm_and_panel
    model = copy.deepcopy(model)
    refitted = _flags(model, panel)
    store_refits(model, panel, n_boot=6, random_state=3)
    setattr(model, ATTRIBUTE, _tampered(getattr(model, ATTRIBUTE), how))
    calls = _count_refits(monkeypatch)
    got = _flags(model, panel)
    assert len(calls) == 6
    pd.testing.assert_frame_equal(got.table, refitted.table, check_exact=True)


def test_the_kept_trees_predict_as_the_classifier(gbm_and_panel):
    # missing values in both directions, values on the thresholds and far outside the bins
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 5))
    X[rng.random(X.shape) < 0.15] = np.nan
    y = ((np.nan_to_num(X[:, 0]) + rng.normal(size=3000)) > 0.5).astype(int)
    fitted = [
        HistGradientBoostingClassifier(max_iter=25, max_leaf_nodes=7, random_state=s).fit(
            X[s::2], y[s::2]
        )
        for s in (0, 1)
    ]
    store = _refit_store._pack(fitted)
    checked = _refit_store._checked({**store, "version": 1}, X.shape[1])
    assert checked is not None
    thresholds = checked["threshold"][~checked["is_leaf"]]
    Z = np.vstack(
        [X, np.tile(thresholds[:5, None], (1, 5)), np.full((2, 5), 1e9), -1e9 * np.ones((2, 5))]
    )
    Z[-1, 2] = np.nan
    for raw, clf in zip(_refit_store._predict_raw(checked, Z), fitted, strict=True):
        np.testing.assert_array_equal(raw, clf.decision_function(Z))


def test_refitting_drops_kept_refits_and_other_models_keep_none(fitted_sample, gbm_and_panel):
    model, panel = gbm_and_panel
    model = copy.deepcopy(model)
    store_refits(model, panel, n_boot=4, random_state=0)
    assert getattr(model, ATTRIBUTE)["n_boot"] == 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(panel)
    assert not hasattr(model, ATTRIBUTE)
    logistic = copy.deepcopy(fitted_sample[2]["logistic"])
    assert store_refits(logistic, panel, n_boot=4) == 0 and not hasattr(logistic, ATTRIBUTE)
    assert store_refits(model, panel, n_boot=0) == 0 and not hasattr(model, ATTRIBUTE)
