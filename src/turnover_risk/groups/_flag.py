"""Which staff groups carry elevated turnover risk, and how sure we are: :func:`flag_groups`.

Two questions, two modes of :func:`flag_groups`:

* **prospective** (default) — *who is likely to leave in the coming horizon?* One row per person
  in the latest period; a group's expected leavers are the sum of its members' predicted risks.
  Model uncertainty comes from refitting the model's classifier on bootstrap samples of
  *persons* (all of a person's labelled rows together; ``_bootstrap``); outcome uncertainty from the
  Poisson-binomial distribution of the number of leavers given the risks; both go into a
  prediction interval of how many will leave. The flag asks whether the group's predicted exit
  share is credibly (beyond model uncertainty, Benjamini–Hochberg across groups) more than a
  ``margin`` (default 1.25 times) above or below the reference population's (all persons of the
  period).
* **retrospective** — *who lost more staff than their case mix predicts?* One period whose
  outcomes are known; the model is the case-mix adjustment (indirect standardisation): observed
  leavers ``O`` against expected ``E = sum p``, the ratio ``O/E`` with exact Poisson (Garwood)
  limits, an exact (Poisson-binomial mid-p) test against the model's own distribution of the
  count, over-dispersion estimated and applied (Spiegelhalter 2005), funnel limits at 95 % and
  99.8 %, p- and BH q-values.

Every table honours ``min_group_size`` through :func:`turnover_risk.privacy.suppress_small_groups`,
and the drivers of suppressed groups are never computed into the output.

This module holds :func:`flag_groups` and its argument checks. The work is done in private
modules: ``_prospective`` and ``_retrospective`` (the two modes), ``_result``
(:class:`FlagResult` and the last steps of both modes: suppression, q-values, flags, drivers),
``_stats`` (the statistics), ``_driver_text`` (drivers of flagged groups and short feature
labels) and ``_common`` (the period, one row per person, group codes, predictions, the ``by``
check). :func:`turnover_risk.what_if` (what the model says would go with a change of a lever)
lives in ``_whatif``.

References
----------
Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. Stat Med 24:1185.
Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. Qual Saf Health Care
14:347. Jones HE, Ohlssen DI, Spiegelhalter DJ (2008). Use of the false discovery rate when
comparing multiple health care providers. J Clin Epidemiol 61:232. Benjamini Y, Hochberg Y (1995).
Controlling the false discovery rate. J R Stat Soc B 57:289.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from turnover_risk._engine import get_engine, uses_dask
from turnover_risk.groups._common import (
    MAX_CENSORED_SHARE,  # noqa: F401 (re-exported)
    _check_by,
    _risk_model,
)
from turnover_risk.groups._driver_text import driver_text, feature_label
from turnover_risk.groups._prospective import _flag_prospective
from turnover_risk.groups._result import FlagResult, _FlagRequest
from turnover_risk.groups._retrospective import _flag_retrospective
from turnover_risk.groups._stats import (
    FUNNEL_LEVELS,
    WINSOR,  # noqa: F401 (re-exported)
    ArrayLike,  # noqa: F401 (re-exported)
    benjamini_hochberg,
    estimate_overdispersion,
    funnel_limits,
    poisson_ratio_ci,
)
from turnover_risk.panel._spec import panel_spec
from turnover_risk.privacy._suppression import (
    DEFAULT_MIN_GROUP_SIZE,
    check_min_group_size,
)

__all__ = [
    "FLAGS",
    "FUNNEL_LEVELS",
    "FlagResult",
    "benjamini_hochberg",
    "driver_text",
    "estimate_overdispersion",
    "feature_label",
    "flag_groups",
    "funnel_limits",
    "poisson_ratio_ci",
]


FLAGS: tuple[str, ...] = ("elevated", "as expected", "low", "suppressed", "not assessed")
"""Values of the ``flag`` column. ``not assessed``: no test was possible (prospective mode with
``n_boot=0``, or a group whose expected count has zero variance)."""

MODES = ("prospective", "retrospective")
OVERDISPERSION = ("auto", "multiplicative", "additive", "none")


# ---------------------------------------------------------------------------------------------
# flag_groups
# ---------------------------------------------------------------------------------------------


def flag_groups(
    model: Any,
    panel: pd.DataFrame,
    *,
    by: str | Sequence[str] = "unit_id",
    period: Any = None,
    mode: Literal["prospective", "retrospective"] = "prospective",
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    alpha: float = 0.05,
    fdr: bool = True,
    overdispersion: Literal["auto", "multiplicative", "additive", "none"] = "auto",
    n_boot: int = 10,
    margin: float = 1.25,
    n_drivers: int = 3,
    random_state: int | np.random.Generator | None = None,
    engine: str = "pandas",
    horizon: int | None = None,
    register: Any = None,
) -> FlagResult:
    """Flag groups (units, municipalities, ...) whose turnover risk stands out.

    Parameters
    ----------
    model : TurnoverRiskModel, HazardModel or fitted classifier
        A fitted model with ``predict_proba``, or a fitted
        :class:`~turnover_risk.HazardModel` (its risk is the cumulative incidence of its first
        outcome within ``horizon`` months; see ``horizon``). Prospective mode refits it on bootstrap samples
        of the panel's labelled rows, so pass the panel the model was trained on (plus the
        current period). A :class:`~turnover_risk.TurnoverRiskModel` fitted on a panel
        without ``calibrate`` refits only its classifier, on the training rows transformed
        once by its fitted preprocessing (see Notes); any other model is refitted whole
        (``sklearn.base.clone``).
    panel : DataFrame
        A panel from :func:`turnover_risk.build_panel` (it carries its column roles).
    by : str or list of str
        Group column(s) of the panel, e.g. ``"unit_id"`` or ``["municipality", "unit_id"]``.
    period : date-like, optional
        The period to assess. Prospective default: the latest period of the panel (one row per
        person). Retrospective default: the latest period whose horizon has fully elapsed,
        taken as the latest period with at most 10 % of its labels missing
        (:data:`MAX_CENSORED_SHARE`; competing exits such as retirement are censored in a panel
        of voluntary exits, so a few missing labels remain in every period). If no period
        qualifies, the best-labelled one is used with a warning. Censored rows of the chosen
        period are dropped and counted in ``info``.
    mode : {"prospective", "retrospective"}
        See the module notes.
    min_group_size : int
        Groups with fewer persons are suppressed everywhere (values, flags and drivers).
    alpha : float
        Level of the tests and of the intervals (``1 - alpha``).
    fdr : bool
        Flag on Benjamini–Hochberg q-values (default) instead of raw p-values.
    overdispersion : {"auto", "multiplicative", "additive", "none"}
        Retrospective mode only. ``"auto"`` estimates ``phi`` and applies the additive
        random-effects ``tau2`` when the over-dispersion test is significant at 5 % (group sizes
        differ a lot, where the additive model suits better than a multiplicative factor), else
        none. ``"multiplicative"`` applies ``max(phi, 1)``; ``"additive"`` applies ``tau2``.
    n_boot : int
        Prospective mode: bootstrap refits for model uncertainty (default 10; the test uses a
        t-distribution with ``n_boot - 1`` degrees of freedom, so few refits make it cautious,
        not optimistic). 0 skips the refits: the prediction interval then reflects outcome
        uncertainty only and the flag is ``"not assessed"``.
    margin : float
        Prospective mode: how far from the reference a group's predicted exit share must
        credibly be to count — ``elevated`` when the ratio is significantly above ``margin``,
        ``low`` when significantly below ``1 / margin``. Default 1.25 (a quarter more or less
        than the reference; a practical-importance threshold chosen by us, not taken from a
        source — set it to what matters locally). With ``margin=1`` any difference counts,
        which with a large training set flags almost every group.
    n_drivers : int
        Top drivers per flagged group (0 to skip); computed with
        :func:`turnover_risk.group_drivers`.
    random_state : int, Generator or None
        Seed of the bootstrap and of the driver sample.
    engine : {"pandas", "dask"}
        ``"dask"`` (or a Dask panel from ``build_panel(..., engine="dask")``): see
        the Dask engine (:mod:`turnover_risk.engines`); the result is identical.
    horizon : int, optional
        HazardModel only: months of the risk (default 12). A classifier gives the risk within
        the horizon it was trained with, so passing another ``horizon`` with it is a
        ValueError. Retrospective mode needs ``horizon`` equal to the panel's own horizon (the
        observed labels count exits within it).
    register : Register, optional
        HazardModel with ``n_boot >= 2`` only: the register the panel was built from. Each
        bootstrap draw of persons refits the whole HazardModel (the exits' months and reasons
        come from the register, as in ``HazardModel.fit``).

    Returns
    -------
    FlagResult
        ``.table`` has, besides the group column(s) and ``n_persons``:

        *prospective*: ``expected_leavers`` (sum of predicted risks), ``exit_share`` (predicted),
        ``ratio`` (to the reference share), ``ratio_ci_low``/``ratio_ci_high`` (model
        uncertainty, t-interval on the log ratio over the refits), ``log_ratio_se`` (standard
        deviation of the log ratio over the refits), ``leavers_pi_low``/
        ``leavers_pi_high`` and ``exit_share_pi_low``/``exit_share_pi_high`` (prediction
        interval of the number/share who will leave: model and outcome uncertainty),
        ``z``, ``p_value``, ``q_value``, ``flag``, ``drivers_pp``, ``suppressed``;

        *retrospective*: ``observed``, ``expected``, ``oe_ratio``, ``oe_ci_low``/``oe_ci_high``
        (exact Poisson), ``z`` (from the exact mid-p value, see Notes), ``z_adjusted``
        (over-dispersion applied), ``p_value``, ``q_value``, ``limit_95_low``/``limit_95_high``,
        ``limit_998_low``/``limit_998_high`` (funnel limits of ``O/E`` at the group's expected
        count), ``flag``, ``drivers_pp``, ``suppressed``.

        ``drivers_pp``: the top ``n_drivers`` drivers of a flagged group as text, each in
        percentage points of the group's predicted risk: with the group's predicted share
        ``s`` (prospective ``exit_share``, retrospective ``expected / n_persons``) and the
        driver's difference ``d`` in log-odds, ``100 (s - expit(logit(s) - d))`` — how much
        lower the share would be with that feature's contribution at the population's level.
        ``.drivers`` has them one per row, in both units. A HazardModel's ``d`` is in log
        hazard and its points are recomputed from the cumulative incidence (see Notes).

    Raises
    ------
    ValueError
        Unknown mode/overdispersion, a ``by`` column that does not exist, a period not in the
        panel, no labelled periods in retrospective mode, or no labelled rows to refit on.

    Notes
    -----
    Prospective test: the group's ratio ``R`` of predicted exit share to the reference share
    (mean predicted risk of all persons of the period) is compared with the margin ``m`` on the
    log scale, ``se`` being the standard deviation of ``log R_b`` over the refits ``b`` (each
    refit recomputes the reference, so their correlation is kept). For ``R >= 1``:
    ``z = (log R - log m) / se`` and ``p = min(1, 2 P(T > z))``; for ``R < 1``:
    ``z = (log R + log m) / se`` and ``p = min(1, 2 P(T < z))``, ``T`` t-distributed with
    ``n_boot - 1`` degrees of freedom; then BH q-values across the shown groups. The flag is
    about the *predicted risk* (model uncertainty); how many will actually leave is the
    prediction interval, which mixes the Poisson-binomial count over the refits (exact up to
    2000 persons per group, normal approximation above). The ratio interval is
    ``R exp(-/+ t se)``.

    Refits. Persons (all of a person's labelled rows together) are drawn with replacement;
    periods where more than half the labels are censored are left out, as the model's own fit
    does. For a :class:`~turnover_risk.TurnoverRiskModel` without calibration, the labelled
    rows are transformed once by the fitted preprocessing (kept columns, imputation medians,
    scaling, categories; for the gbm also its bins) and each draw refits only the classifier,
    with the same parameters, on its rows of that design — the procedure of the model's
    calibration folds. The variation of the preprocessing between draws is left out; it is
    small beside the classifier's (on the shipped sample the standard errors of ``log R``
    agree with whole-model refits to within about 10 % for both kinds and the flags are the
    same), and a draw costs a classifier fit rather than a full ``fit`` with its input checks,
    column screening and drift profile: about 15x less for the logistic model and 2-3x for
    the gbm (``benchmarks/bench_report.py``). Calibrated models and other classifiers are
    refitted whole. Each refit runs on one thread; two run at once.

    Retrospective test: under the model, the number of leavers ``O`` of a group is
    Poisson-binomial with the members' predicted risks (mean ``E``, variance
    ``V = sum p (1 - p)``). Its exact two-sided *mid-p* value (normal approximation above 2000
    persons) is turned into the equivalent z-score ``z`` (sign: the smaller tail), which behaves
    like ``(O - E) / sqrt(V)`` for large counts but stays honest for the expected counts of 1–3
    leavers typical of a unit; the plain normal z-score gave false flags there. Over-dispersion
    (:func:`estimate_overdispersion`) is estimated from these z-scores on the groups that are
    shown, with ``s^2 = V / E^2`` the null variance of ``O/E``; then
    ``z_adjusted = z / sqrt(phi)`` (multiplicative) or ``z * s / sqrt(s^2 + tau2)`` (additive),
    and ``p_value`` is the exact mid-p value when nothing is applied, else two-sided normal on
    ``z_adjusted``. ``elevated`` when ``q < alpha`` and ``O > E``, ``low`` when ``q < alpha`` and
    ``O < E``. The funnel limits are the normal-approximation limits ``1 -/+ z_level
    sqrt(phi s^2 + tau2)`` at each group's own ``s``; the exact test can differ from them for
    very small expected counts. The drivers explain the group's *expected* risk (its case mix as
    the model sees it), not the excess the model did not predict.

    HazardModel. The risk of a person is the cumulative incidence of the model's first outcome
    within ``horizon`` months, the other exits competing (the adapter of
    :func:`turnover_risk.score_dataset`). Bootstrap draws are persons as above (all of a
    person's panel rows; the model's own fit drops the months not fully observed) and each
    draw refits the whole model with the same parameters. ``info`` gives ``horizon`` and
    ``outcome``. Drivers: ``d`` is the group's mean contribution to the log hazard of the
    outcome (``HazardModel.explain``; a missing-value indicator counts with its feature) minus
    the mean over all persons of the period, so ``.drivers["difference"]`` is in log hazard,
    not log-odds; ``se`` is 0 (every member is explained). Its percentage points are computed,
    not linearised: each member's monthly hazard of the outcome is moved by ``-d`` on the
    complementary log-log scale in every month of the horizon (``h -> 1 - (1 - h)^exp(-d)``,
    the other causes as they are), the cumulative incidence within ``horizon`` months is
    recomputed with the exits competing, and the driver is the group's mean risk minus that,
    times 100 — the same "how much lower the group's risk would be with that feature's
    contribution at the population's level" as for a classifier. For a cloglog model this is
    exact (the model's risk with each member's linear predictor moved by ``-d``); for the
    gbm the contributions are occlusion effects at the scored month applied to every month
    of the horizon, an approximation. See ``docs/flags.md``.

    Examples
    --------
    >>> import turnover_risk as tr  # doctest: +SKIP
    >>> flags = tr.flag_groups(model, panel, by="unit_id")  # doctest: +SKIP
    >>> flags.table[["unit_id", "exit_share", "ratio", "flag", "drivers_pp"]]  # doctest: +SKIP

    A HazardModel at 6 months (its refits need the register):

    >>> hm = tr.HazardModel().fit(monthly, reg)  # doctest: +SKIP
    >>> tr.flag_groups(hm, monthly, register=reg, horizon=6, random_state=0)  # doctest: +SKIP
    """
    if uses_dask(engine, panel):
        return get_engine("dask").flag_groups(
            model,
            panel,
            by=by,
            period=period,
            mode=mode,
            min_group_size=min_group_size,
            alpha=alpha,
            fdr=fdr,
            overdispersion=overdispersion,
            n_boot=n_boot,
            margin=margin,
            n_drivers=n_drivers,
            random_state=random_state,
            horizon=horizon,
            register=register,
        )
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not known; choose one of: {', '.join(MODES)}.")
    if overdispersion not in OVERDISPERSION:
        raise ValueError(
            f"overdispersion={overdispersion!r} is not known; choose one of: "
            f"{', '.join(OVERDISPERSION)}."
        )
    _check_alpha(alpha)
    min_group_size = check_min_group_size(min_group_size)
    n_boot = _check_nonneg_int(n_boot, "n_boot")
    n_drivers = _check_nonneg_int(n_drivers, "n_drivers")
    if n_boot == 1:
        raise ValueError("n_boot=1 cannot estimate model uncertainty; use 0 or at least 2.")
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not margin >= 1:
        raise ValueError(
            f"margin={margin!r} must be a number >= 1 (a ratio to the reference share, e.g. "
            "1.25 = a quarter above it; 1 tests any difference)."
        )
    spec = panel_spec(panel)
    by_cols = _check_by(panel, by)
    risk_model, risk_info = _risk_model(model, horizon)
    if risk_info:
        _check_hazard_use(risk_info, spec, mode, n_boot, register)
        risk_info = {**risk_info, "drivers": "log hazard, in points of the risk at the horizon"}
    rng = np.random.default_rng(random_state)
    req = _FlagRequest(
        risk_model, panel, spec, by_cols, period, min_group_size, alpha, fdr, n_drivers, rng,
        register, risk_info,
    )  # fmt: skip
    if mode == "prospective":
        return _flag_prospective(req, n_boot, margin)
    return _flag_retrospective(req, overdispersion)


# ---------------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------------


def _check_hazard_use(risk_info: dict, spec, mode: str, n_boot: int, register: Any) -> None:
    if mode == "retrospective" and risk_info["horizon"] != int(spec.horizon):
        raise ValueError(
            f"horizon={risk_info['horizon']} differs from the panel's horizon ({spec.horizon} "
            "periods): retrospective mode compares the observed exits within the panel's "
            f"horizon with the expected ones, so pass horizon={spec.horizon}."
        )
    if mode == "prospective" and n_boot and register is None:
        raise ValueError(
            "prospective flags refit a HazardModel on bootstrap draws of persons, which needs "
            "the register the panel was built from (the month and reason of each exit): "
            "tr.flag_groups(model, panel, register=reg, ...), or n_boot=0 to skip model "
            "uncertainty."
        )


def _check_alpha(alpha: float) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 0.5:
        raise ValueError(f"alpha={alpha!r} must be a number in (0, 0.5), e.g. 0.05.")


def _check_nonneg_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{name}={value!r} must be a non-negative integer.")
    return int(value)
