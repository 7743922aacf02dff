"""The parts of the report's results computed while the flags' refits run (``_early``) are
the ones computed after them: same drivers, what-ifs, service numbers and retention, and the
drivers and service numbers of another period are not used."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.report._results import _early, _gather


def _flags(model, panel, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tr.flag_groups(model, panel, n_boot=3, n_drivers=0, random_state=0, **kw)


def _same(a, b):
    pd.testing.assert_frame_equal(a.drivers, b.drivers, check_exact=True)
    assert a.service == b.service
    assert a.whatif.keys() == b.whatif.keys()
    for key in a.whatif:
        pd.testing.assert_frame_equal(a.whatif[key].table, b.whatif[key].table, check_exact=True)
        assert a.whatif_service[key] == b.whatif_service[key]
    assert a.retention.keys() == b.retention.keys()
    if a.retention:
        pd.testing.assert_frame_equal(a.retention["table"], b.retention["table"])
    assert a.main_lever == b.main_lever


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_results_with_the_early_parts_equal_results_without(fitted_sample, kind):
    reg, panel, models = fitted_sample
    model = models[kind]
    # margin 1 and a loose alpha: some groups flagged, so there are drivers to show
    flags = _flags(model, panel, margin=1.0, alpha=0.4, fdr=False)
    assert len(flags.flagged)
    args = (model, panel, flags, None, None, "unit_id", 12, 5, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        early = _early(model, panel, "unit_id", 5, 0, reg)
        assert early.period == flags.period and early.all_drivers is not None
        _same(_gather(*args, register=reg, early=early), _gather(*args, register=reg))


def test_the_early_drivers_of_another_period_are_not_used(fitted_sample):
    reg, panel, models = fitted_sample
    model = models["logistic"]
    periods = sorted(panel["period"].unique())
    flags = _flags(model, panel, margin=1.0, alpha=0.4, fdr=False, period=periods[-2])
    args = (model, panel, flags, None, None, "unit_id", 12, 5, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        early = _early(model, panel, "unit_id", 5, 0, reg)
        assert early.period != flags.period
        with_early, without = _gather(*args, register=reg, early=early), _gather(*args)
    pd.testing.assert_frame_equal(with_early.drivers, without.drivers, check_exact=True)
    assert with_early.service == without.service
    assert with_early.service["period"] == flags.period
