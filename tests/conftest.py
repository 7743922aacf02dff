"""Shared test settings (a hypothesis profile that keeps the suite under 10 minutes on 2 cores),
the fitted sample, and small synthetic frames that tests of several folders build on."""

import os
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, settings
from scipy.special import expit

from turnover_risk.panel import PanelSpec, attach_spec

matplotlib.use("Agg")

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def fitted_sample():
    """The shipped sample, its default panel, and a logistic and a small gbm model fitted on it
    (shared by the scoring and Dask tests; tests must not change them)."""
    import warnings

    import turnover_risk as tr

    reg = tr.load_sample()
    panel = tr.build_panel(reg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logistic = tr.TurnoverRiskModel(kind="logistic", random_state=0).fit(panel)
        gbm = tr.TurnoverRiskModel(
            kind="gbm", random_state=0, estimator_params={"max_iter": 40}
        ).fit(panel)
    return reg, panel, {"logistic": logistic, "gbm": gbm}


# --------------------------------------------------------------------------------------------
# small synthetic frames (session fixtures that return the builder, so hypothesis tests can use
# them too)
# --------------------------------------------------------------------------------------------


def _make_xy(n=800, seed=0, missing=True):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "caseload": rng.normal(20, 5, n),
            "role": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
            "supervision": rng.poisson(3, n).astype(float),
        }
    )
    lo = -1.5 + 0.2 * (X["caseload"] - 20) + 1.0 * (X["role"] == "b") - 0.3 * X["supervision"]
    y = (rng.random(n) < expit(lo)).astype(int)
    if missing:
        X.loc[rng.random(n) < 0.1, "caseload"] = np.nan
    return X, y


@pytest.fixture(scope="session")
def make_xy():
    """``make_xy(n=800, seed=0, missing=True) -> (X, y)``: caseload, role and supervision with a
    known logistic effect of each (10 % of caseloads missing unless ``missing=False``)."""
    return _make_xy


def _make_panel(n_persons=120, n_periods=24, horizon=6, seed=0, ids=None):
    """A small person-month panel with a spec; stayers censored in the last ``horizon`` periods."""
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(n_persons), n_periods)
    per = np.tile(np.arange(n_periods), n_persons)
    case = rng.normal(20, 4, n_persons)[pid] + rng.normal(0, 2, len(pid))
    nq = (rng.random(n_persons) < 0.3)[pid].astype(float)
    role = rng.choice(["caseworker", "leader"], n_persons)[pid]
    y = (rng.random(len(pid)) < expit(-2 + 0.2 * (case - 20) + nq)).astype(float)
    y[(per >= n_periods - horizon) & (y == 0)] = np.nan
    ids = ids if ids is not None else [f"P{i:04d}" for i in range(n_persons)]
    df = pd.DataFrame(
        {
            "employee_id": np.asarray(ids, dtype=object)[pid],
            "unit_id": [f"U{u}" for u in rng.integers(0, 6, n_persons)[pid]],
            "period": pd.date_range("2021-01-01", periods=n_periods, freq="MS").to_numpy(
                dtype="datetime64[ns]"
            )[per],
            "left_within_horizon": y,
            "caseload_3m_mean": case,
            "newly_qualified": nq,
            "role": role,
        }
    )
    spec = PanelSpec(
        feature_cols=("caseload_3m_mean", "newly_qualified", "role"),
        group_cols=("unit_id",),
        horizon=horizon,
        survival_cols=(),
    )
    return attach_spec(df, spec)


@pytest.fixture(scope="session")
def make_panel():
    """``make_panel(n_persons=120, n_periods=24, horizon=6, seed=0, ids=None)``: a small
    person-month panel with its spec (stayers censored in the last ``horizon`` periods)."""
    return _make_panel


@pytest.fixture(scope="module")
def dask_cluster():
    """``(cluster, client)``: two local worker processes of one thread each, started once per
    test module (results travel between processes, as on a real cluster)."""
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit="1GiB",
        )
        client = distributed.Client(cluster, set_as_default=False)
    yield cluster, client
    client.close()
    cluster.close()


def _assert_same_table(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Counts, labels and flags exactly; float columns to 1e-12 relative (sums in another
    order); the same observation window (``attrs``)."""
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    for c in expected.columns:
        a, b = got[c], expected[c]
        if pd.api.types.is_float_dtype(b):
            np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-12,
                                       atol=0, equal_nan=True, err_msg=c)  # fmt: skip
        elif isinstance(b.dtype, pd.StringDtype) and a.dtype != b.dtype:  # Dask: pyarrow
            assert a.astype(object).tolist() == b.astype(object).tolist(), c
        else:
            pd.testing.assert_series_equal(a, b, check_exact=True)
    assert got.attrs == expected.attrs


@pytest.fixture(scope="session")
def same_table():
    """Assert two rate tables are the same: the check of the per-partition rates against the
    pandas path (tests/rates/test_partitioned.py, tests/engines/test_rates_dask.py)."""
    return _assert_same_table
