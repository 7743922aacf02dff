"""Shared test settings: a hypothesis profile that keeps the suite under 10 minutes on 2 cores."""

import os

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

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
