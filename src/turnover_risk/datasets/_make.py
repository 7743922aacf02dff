"""``make_register``: the public entry point of the simulator, and its ground truth."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, overload

import numpy as np
import pandas as pd

from turnover_risk.data._schema import Register
from turnover_risk.datasets._effects import EFFECT_FEATURES, effects_frame
from turnover_risk.datasets._knobs import SimulationKnobs
from turnover_risk.datasets._simulator import simulate

__all__ = ["SimulationTruth", "make_register"]


@dataclass(frozen=True, eq=False)
class SimulationTruth:
    """What the simulator knows and a model should recover.

    Attributes
    ----------
    hazard : DataFrame
        One row per person and month at risk (recorded months only): ``employee_id``,
        ``unit_id``, ``month`` (first day), ``hazard`` (true monthly probability of a voluntary
        exit, ``1 - exp(-exp(eta))``), ``eta`` (the linear predictor), one ``lp_<effect>``
        column per term of ``eta`` (they sum to ``eta``), and the covariates behind them:
        ``newly_qualified``, ``first_year``, ``caseload_3m_mean`` (NaN for team leaders),
        ``burnout`` (latent, SD units), ``supervision_sessions_3m``, ``colleagues_left_3m``, ``age``
        (calendar year minus birth year) and ``fte``.
        Empty unless ``make_register(..., return_truth=True)``.
    effects : DataFrame
        One row per effect: ``effect``, ``coefficient`` (log-hazard), ``scale`` (per what),
        ``knob`` (the knob that sets it), ``features`` (panel features that proxy it),
        ``lever`` (a leader can move it) and ``description``.
    feature_map : Mapping[str, tuple[str, ...]]
        Effect name -> panel feature names that proxy it (``caseload`` ->
        ``("caseload_3m_mean",)``, ``burnout`` -> ``("cbi_work", "proqol_burnout",
        "bat_total")``, ...).
    high_risk_units : DataFrame
        The planted high-risk units: ``unit_id`` and ``cause``.
    knobs : SimulationKnobs
        The knobs the register was made with.
    """

    hazard: pd.DataFrame
    effects: pd.DataFrame
    feature_map: Mapping[str, tuple[str, ...]]
    high_risk_units: pd.DataFrame
    knobs: SimulationKnobs = field(repr=False)

    @property
    def coefficients(self) -> pd.Series:
        """The true log-hazard coefficients as a Series indexed by effect name."""
        return self.effects.set_index("effect")["coefficient"]

    def effect_ranking(self, *, levers_only: bool = False) -> list[str]:
        """Effects ordered by the absolute size of their mean contribution to ``eta``.

        The contribution of an effect is ``mean(|lp_<effect>|)`` over the hazard rows, so
        binary and continuous covariates compare on one scale.
        """
        if self.hazard.empty:
            raise ValueError(
                "the truth holds no hazard rows; call make_register(..., return_truth=True)"
            )
        eff = [e for e in self.feature_map if f"lp_{e}" in self.hazard.columns]
        if levers_only:
            lever = self.effects.set_index("effect")["lever"]
            eff = [e for e in eff if bool(lever.get(e, False))]
        size = {e: float(self.hazard[f"lp_{e}"].abs().mean()) for e in eff}
        return sorted(size, key=lambda e: -size[e])


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name}={value!r} must be an integer between {low} and {high}")
    if not low <= int(value) <= high:
        raise ValueError(f"{name}={value!r} is out of range; choose {low} <= {name} <= {high}")
    return int(value)


def simulation_metadata(
    n_units: int, years: int, start_year: int, random_state: object
) -> dict[str, object]:
    """``Register.metadata`` of a simulated register: its arguments and observation window.

    ``observation_start``/``observation_end`` (1 January of ``start_year`` to 31 December of
    the last year) are the keys rates and panels read; a real extract written with
    :func:`~turnover_risk.write_register` can carry the same keys in ``metadata.json``.
    """
    return {
        "generator": "turnover_risk.make_register",
        "n_units": n_units,
        "years": years,
        "start_year": start_year,
        "random_state": int(random_state) if isinstance(random_state, int | np.integer) else None,
        "observation_start": f"{int(start_year)}-01-01",
        "observation_end": f"{int(start_year) + int(years) - 1}-12-31",
    }


@overload
def make_register(
    n_units: int = ...,
    years: int = ...,
    start_year: int = ...,
    random_state: int | np.random.Generator | None = ...,
    return_truth: Literal[False] = ...,
    **knobs: object,
) -> Register: ...


@overload
def make_register(
    n_units: int = ...,
    years: int = ...,
    start_year: int = ...,
    random_state: int | np.random.Generator | None = ...,
    return_truth: Literal[True] = ...,
    **knobs: object,
) -> tuple[Register, SimulationTruth]: ...


def make_register(
    n_units: int = 40,
    years: int = 6,
    start_year: int = 2019,
    random_state: int | np.random.Generator | None = None,
    return_truth: bool = False,
    **knobs: object,
) -> Register | tuple[Register, SimulationTruth]:
    """Simulate a register of municipal child-welfare units, month by month.

    Several municipalities each run one service (barnevern) with one or more units. Every month,
    vectorised over employees: the unit's case intake is shared among the caseworkers present
    (so leavers not yet replaced and sick leave raise everybody else's caseload), supervision
    follows the unit's practice, latent burnout grows with caseload and client strain and is
    eased by supervision, sick-leave spells start more often when burnout is high, surveys
    surface burnout through CBI, ProQOL or BAT-12 item answers, and each person may leave with
    a reason (voluntary, retirement, contract_end, dismissal, death, other) or move to another
    unit of the same service (``internal_transfer``, not an exit from the service). Leavers
    are replaced after a vacancy delay. See :class:`SimulationKnobs` for every strength.

    Parameters
    ----------
    n_units : int, default 40
        Number of units (teams); about ``n_units / units_per_municipality`` municipalities.
        A unit has about ``unit_positions_mean`` positions (8), so the national register of
        about 100 000 employees over 6 years needs ``n_units`` of about 5 500.
    years : int, default 6
        Recorded calendar years, starting 1 January ``start_year``.
    start_year : int, default 2019
    random_state : int, numpy Generator or None
        Seed of the numpy ``Generator`` used for every random draw (the global seed is never
        touched). The same seed and arguments give identical tables.
    return_truth : bool, default False
        Also return the :class:`SimulationTruth` (true hazards, effects, planted units).
    **knobs
        Any field of :class:`SimulationKnobs`. Unknown names raise ``TypeError``.

    Returns
    -------
    Register or (Register, SimulationTruth)
        All six tables of the data contract, with the dtypes of :mod:`turnover_risk.data`.

    Examples
    --------
    >>> import turnover_risk as tr
    >>> reg = tr.make_register(n_units=6, years=1, random_state=0)
    >>> reg.table_names
    ('employment', 'units', 'absences', 'caseload', 'supervision', 'surveys')
    >>> reg, truth = tr.make_register(n_units=6, years=1, random_state=0, return_truth=True,
    ...                               high_risk_units=["U02"], high_risk_cause="supervision")
    >>> truth.high_risk_units["unit_id"].tolist()
    ['U02']
    """
    n_units = _check_int("n_units", n_units, 1, 1_000_000)
    years = _check_int("years", years, 1, 100)
    start_year = _check_int("start_year", start_year, 1950, 2100)
    if not isinstance(return_truth, bool):
        raise TypeError(f"return_truth={return_truth!r} must be True or False")
    k = SimulationKnobs.from_kwargs(**knobs)
    if random_state is not None and not isinstance(
        random_state, int | np.integer | np.random.Generator
    ):
        raise TypeError(
            f"random_state={random_state!r} must be None, an int seed or a numpy Generator"
        )
    rng = np.random.default_rng(random_state)
    tables, hazard, high_risk = simulate(n_units, years, start_year, k, rng, return_truth)
    register = Register(
        **tables, metadata=simulation_metadata(n_units, years, start_year, random_state)
    )
    if not return_truth:
        return register
    truth = SimulationTruth(
        hazard=hazard if hazard is not None else pd.DataFrame(),
        effects=effects_frame(k),
        feature_map=dict(EFFECT_FEATURES),
        high_risk_units=high_risk,
        knobs=k,
    )
    return register, truth
