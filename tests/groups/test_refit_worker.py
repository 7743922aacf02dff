"""The bootstrap refits shared with a worker process (``groups/_refit_worker.py``): the same
numbers as the refits in this process, whichever process refits a draw, and a worker that
fails or cannot take a classifier leaves the refits to this process."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from turnover_risk.groups import _refit_worker, flag_groups


def _model(panel, kind):
    from turnover_risk.models import TurnoverRiskModel

    extra = {"max_iter": 20, "min_samples_leaf": 20} if kind == "gbm" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TurnoverRiskModel(kind=kind, random_state=0, min_feature_groups=1, **extra).fit(
            panel
        )


def _design(seed=0, n=400):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (rng.random(n) < 1 / (1 + np.exp(-X[:, 0]))).astype(np.int64)
    return X, y


@pytest.fixture
def worker(monkeypatch):
    monkeypatch.setattr(_refit_worker, "WHEN", "always")
    with _refit_worker.refit_process() as started:
        assert started
        yield _refit_worker._WORKER


@pytest.mark.parametrize(
    "estimator",
    [
        LogisticRegression(C=0.5, max_iter=500, random_state=0),
        HistGradientBoostingClassifier(max_iter=15, min_samples_leaf=20, random_state=0),
    ],
    ids=["logistic", "gbm"],
)
def test_a_refit_in_the_worker_equals_a_refit_here_bit_for_bit(worker, estimator):
    X, y = _design()
    head = worker.request(estimator)
    assert head == {"cls": type(estimator).__name__, "params": estimator.get_params(deep=False)}
    there = worker.fit_predict(head, X, y, X[:50])
    here = _refit_worker.fit_predict(estimator, X, y, X[:50])
    assert np.array_equal(there, here)
    assert worker.done == 1


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_flags_with_the_worker_equal_flags_without(make_panel, worker, kind):
    panel = make_panel(n_persons=90, n_periods=14, horizon=3, seed=4)
    model = _model(panel, kind)
    X, y = _design()
    worker.fit_predict(worker.request(LogisticRegression()), X, y, X)  # wait for its imports
    shared = flag_groups(model, panel, n_boot=8, n_drivers=0, random_state=5)
    assert worker.done > 1  # the worker refitted some of the draws
    with _refit_worker_off():
        alone = flag_groups(model, panel, n_boot=8, n_drivers=0, random_state=5)
    pd.testing.assert_frame_equal(shared.table, alone.table, check_exact=True)
    assert shared.info == alone.info


class _refit_worker_off:
    """No worker while the block runs (the outer one is put back after)."""

    def __enter__(self):
        self.saved, _refit_worker._WORKER = _refit_worker._WORKER, None

    def __exit__(self, *exc):
        _refit_worker._WORKER = self.saved


def test_a_dead_worker_leaves_the_refits_here(make_panel, worker):
    panel = make_panel(n_persons=90, n_periods=14, horizon=3, seed=4)
    model = _model(panel, "logistic")
    with _refit_worker_off():
        alone = flag_groups(model, panel, n_boot=6, n_drivers=0, random_state=1)
    worker.proc.kill()
    worker.proc.wait()
    assert (
        _refit_worker.shared_refits(lambda i: (LogisticRegression(), *_design()), None, 3) is None
    )
    shared = flag_groups(model, panel, n_boot=6, n_drivers=0, random_state=1)
    pd.testing.assert_frame_equal(shared.table, alone.table, check_exact=True)


def test_a_worker_failing_mid_way_leaves_its_draws_here(worker, monkeypatch):
    X, y = _design()
    calls = []

    def fail(*args):
        calls.append(1)
        raise EOFError("the refit worker's pipe closed")

    monkeypatch.setattr(worker, "fit_predict", fail)
    draws = [np.arange(0, 300), np.arange(100, 400), np.arange(50, 350), np.arange(0, 400, 2)]

    def make(i):
        return LogisticRegression(random_state=0), X[draws[i]], y[draws[i]]

    got = _refit_worker.shared_refits(make, X[:20], len(draws))
    want = [_refit_worker.fit_predict(*make(i), X[:20]) for i in range(len(draws))]
    assert len(calls) <= 1
    assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))


def test_only_allow_listed_classifiers_with_plain_parameters_go_to_the_worker():
    assert _refit_worker._Worker.request(RandomForestClassifier()) is None
    # JSON turns the keys of a class_weight dict into strings: not the same parameters
    assert _refit_worker._Worker.request(LogisticRegression(class_weight={0: 1, 1: 2})) is None
    assert _refit_worker._Worker.request(LogisticRegression(C=2.0))["cls"] == "LogisticRegression"


def test_no_worker_unless_asked_and_wanted(monkeypatch):
    monkeypatch.setattr(_refit_worker, "WHEN", "always")
    with _refit_worker.refit_process(start=False) as started:
        assert not started and _refit_worker._WORKER is None
    monkeypatch.setattr(_refit_worker, "WHEN", "never")
    with _refit_worker.refit_process() as started:
        assert not started and _refit_worker._WORKER is None
