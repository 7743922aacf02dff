"""The knobs of the register simulator: every strength of every mechanism, with its direction.

Each field of :class:`SimulationKnobs` is one documented, overridable parameter. The docstring
under each field says what it does and, where it is a strength, which way it moves the outcome
(``tests/datasets/test_datasets.py`` checks every stated direction). Defaults are calibrated so
that a register made with them has an annual exit share from the service of about 21 % (KS
definition, 1 December snapshots) and a doctor-certified sick-leave percentage of about 6.2 %
(``docs/sources.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields

__all__ = ["HIGH_RISK_CAUSES", "SimulationKnobs"]

HIGH_RISK_CAUSES: tuple[str, ...] = ("caseload", "supervision")
"""Causes a planted high-risk unit can have (knob ``high_risk_cause``)."""


@dataclass(frozen=True)
class SimulationKnobs:
    """Strengths and settings of the simulated child-welfare register.

    Pass any of these as keyword arguments to :func:`turnover_risk.make_register`; an unknown
    name raises ``TypeError`` listing the known ones. Hazard effects are log-hazard
    coefficients of the monthly *voluntary* exit hazard
    ``h = 1 - exp(-exp(eta))``; their sign is the direction of the effect.

    Examples
    --------
    >>> from turnover_risk import SimulationKnobs
    >>> SimulationKnobs().caseload_norm
    15.0
    >>> SimulationKnobs.from_kwargs(caseload_exit_effect=0.08).caseload_exit_effect
    0.08
    """

    # --- structure ---------------------------------------------------------------------
    units_per_municipality: float = 4.0
    """Mean number of units per municipality (each municipality runs one service)."""
    unit_positions_mean: float = 8.0
    """Mean number of positions per unit (one team leader, the rest caseworkers)."""
    burn_in_months: int = 24
    """Months simulated before ``start_year`` (not recorded) so states reach equilibrium."""

    # --- recruitment and contracts -------------------------------------------------------
    vacancy_delay_months: float = 3.0
    """Mean months from a vacancy to the replacement's start. Larger -> longer short-staffing,
    higher caseload and (through it) higher turnover."""
    newly_qualified_hire_share: float = 0.4
    """Share of hires who qualified this or last year. Larger -> more newly qualified staff and
    a higher exit share."""
    temporary_hire_share: float = 0.12
    """Share of hires on a temporary contract."""
    temporary_contract_months: int = 9
    """Length of a temporary contract in months."""
    temporary_conversion_prob: float = 0.5
    """Probability that a temporary contract becomes permanent at its end; otherwise the spell
    ends with ``contract_end``. Smaller -> more ``contract_end`` exits."""
    part_time_share: float = 0.15
    """Share of staff with fte below 1 (0.5, 0.6 or 0.8)."""
    female_share: float = 0.84
    """Share of women (KS: 84 % of barnevern staff)."""
    mean_age: float = 43.5
    """Mean age of the staff at the start (KS: 43.5)."""

    # --- caseload -------------------------------------------------------------------------
    intake_per_position: float = 2.0
    """New cases per month per caseworker *position* of a unit. The intake arrives whether or
    not the positions are filled, so short-staffing raises the caseload of those present.
    Larger -> higher caseload, more burnout and more exits."""
    case_close_rate: float = 0.14
    """Monthly probability that an open case is closed (mean case length ~ 7 months)."""
    unit_intake_sd: float = 0.2
    """Standard deviation of the log intake factor between units."""
    care_order_share: float = 0.2
    """Mean share of open cases that are care-order cases (client strain)."""
    caseload_norm: float = 15.0
    """Reference caseload (the union's maximum of 15 children per caseworker): caseload
    effects are measured from it."""
    new_staff_ramp_months: int = 3
    """New staff get a growing share of the intake over this many months."""
    deadline_breach_rate: float = 0.08
    """Statutory deadlines missed per month per open case above the caseload norm."""

    # --- supervision -----------------------------------------------------------------------
    structured_supervision_share: float = 0.5
    """Share of units with structured supervision (weekly for new staff in their first six
    months, every third week afterwards); the rest supervise sporadically. Larger -> more
    sessions, less burnout and fewer exits."""
    new_staff_months: int = 6
    """Months in the service during which structured units supervise weekly."""
    new_staff_sessions_per_month: float = 4.3
    """Sessions per month for new staff in structured units (weekly)."""
    structured_sessions_per_month: float = 1.45
    """Sessions per month after the first months in structured units (every third week)."""
    sporadic_sessions_per_month: float = 0.5
    """Sessions per month in units with sporadic supervision (new staff too). Larger -> more
    sessions and fewer exits."""

    # --- burnout (latent, in standard-deviation units) ---------------------------------------
    burnout_persistence: float = 0.85
    """Monthly autocorrelation of the latent burnout."""
    burnout_trait_sd: float = 0.7
    """Standard deviation of the person's stable burnout level."""
    burnout_noise_sd: float = 0.3
    """Standard deviation of the monthly burnout innovation."""
    burnout_caseload_effect: float = 0.06
    """Burnout target rises this much per open case above ``caseload_norm``. Larger -> more
    burnout (higher survey scores) and more exits."""
    burnout_client_effect: float = 2.0
    """Burnout target rises this much per unit of care-order share above its mean (client
    strain)."""
    burnout_supervision_effect: float = 0.25
    """Burnout target falls this much per supervision session in the month. Larger -> less
    burnout."""
    burnout_newly_qualified_effect: float = 0.2
    """Extra burnout target of the newly qualified ("not well enough prepared")."""

    # --- surveys ---------------------------------------------------------------------------
    instrument_shares: tuple[float, float, float] = (0.5, 0.25, 0.25)
    """Probabilities that a municipality surveys with CBI, ProQOL or BAT12."""
    survey_response_rate: float = 0.7
    """Share of staff answering a survey wave (at average burnout). Larger -> more responses."""
    nonresponse_burnout_effect: float = 0.3
    """Log-odds decrease of answering per SD of burnout (the burnt-out answer less)."""
    item_missing_prob: float = 0.02
    """Probability that one item of an answered survey is left empty. Larger -> more missing."""
    survey_breakoff_prob: float = 0.04
    """Probability that a respondent stops part-way (all later items empty)."""
    item_loading: float = 1.0
    """Loading of each item on the latent burnout (item noise has SD 1)."""

    # --- sick leave ------------------------------------------------------------------------
    doctor_spell_rate: float = 0.064
    """Monthly rate of starting a doctor-certified spell at average burnout. Larger -> higher
    sick-leave percentage."""
    sick_burnout_effect: float = 0.35
    """Log-rate increase of doctor-certified spells per SD of burnout. Larger -> more sick leave
    where burnout is high."""
    doctor_spell_median_days: float = 24.0
    """Median calendar length of a doctor-certified spell (log-normal, capped at 365 days)."""
    doctor_spell_sigma: float = 1.0
    """Log-scale standard deviation of the doctor-certified spell length."""
    graded_share: float = 0.3
    """Share of doctor-certified spells that are graded (0.2 to 0.8)."""
    self_spell_rate: float = 0.08
    """Monthly rate of self-certified spells (1 to 3 days, grade 1)."""
    self_grade_missing_share: float = 0.3
    """Share of self-certified spells recorded with an empty grade (meaning 1)."""

    # --- exits (monthly voluntary hazard and the other reasons) -----------------------------
    base_exit_hazard: float = 0.0173
    """Monthly voluntary exit hazard of a reference person (experienced, caseload at the norm,
    average burnout, no supervision, no colleague left, age 40, full time). Larger -> more
    exits."""
    newly_qualified_exit_effect: float = 0.5
    """Log-hazard effect of being newly qualified (within two calendar years of the qualifying
    education). Larger -> more exits among the newly qualified."""
    first_year_exit_effect: float = 0.45
    """Log-hazard effect of the first 12 months in the service. Larger -> higher first-year
    exit hazard."""
    caseload_exit_effect: float = 0.04
    """Log-hazard effect per open case of the 3-month mean caseload above the norm. Larger ->
    more exits where caseloads are high."""
    burnout_exit_effect: float = 0.35
    """Log-hazard effect per SD of latent burnout."""
    supervision_exit_effect: float = -0.08
    """Log-hazard effect per supervision session in the last three months (negative: protects).
    More negative -> fewer exits."""
    colleagues_left_exit_effect: float = 0.08
    """Log-hazard effect per colleague who left the unit in the last three months ("good
    colleagues have left"). Larger -> exits cluster."""
    age_exit_effect: float = -0.2
    """Log-hazard effect per 10 years of age above 40 (the young move more)."""
    part_time_exit_effect: float = 0.2
    """Log-hazard effect of fte below 1."""
    frailty_sd: float = 0.3
    """Standard deviation of the person's unobserved log-hazard frailty."""
    internal_transfer_rate: float = 0.003
    """Monthly probability of moving to another unit of the same service (not an exit from the
    service). Larger -> more ``internal_transfer`` spells."""
    retirement_age: int = 62
    """Age from which retirement is possible (hazard 1.2 % a month, 8 % from 67, certain at
    70)."""
    dismissal_rate: float = 0.0004
    """Monthly dismissal hazard."""
    other_exit_rate: float = 0.001
    """Monthly hazard of other exits (e.g. moving away for family reasons)."""

    # --- planted high-risk units ------------------------------------------------------------
    high_risk_units: int | Sequence[str] = 0
    """Number of units (chosen at random) or list of unit ids that get ``high_risk_cause``
    planted. Recorded in :attr:`SimulationTruth.high_risk_units`."""
    high_risk_cause: str = "caseload"
    """What is wrong in the planted units: ``"caseload"`` (intake times
    ``high_risk_intake_factor``) or ``"supervision"`` (no supervision at all)."""
    high_risk_intake_factor: float = 1.6
    """Intake multiplier of units planted with cause ``"caseload"``. Larger -> higher caseload
    and turnover there."""

    # -----------------------------------------------------------------------------------------
    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Names of all knobs, in definition order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_kwargs(cls, **knobs: object) -> SimulationKnobs:
        """Build knobs from keyword arguments, refusing unknown names and bad values.

        Raises
        ------
        TypeError
            For an unknown knob name (the message lists the known ones) or a wrong type.
        ValueError
            For a value out of its allowed range.
        """
        unknown = sorted(set(knobs) - set(cls.names()))
        if unknown:
            raise TypeError(
                f"make_register() got unknown knob(s) {', '.join(map(repr, unknown))}; "
                f"known knobs are: {', '.join(cls.names())}"
            )
        out = cls(**knobs)  # type: ignore[arg-type]
        out.check()
        return out

    def to_dict(self) -> dict[str, object]:
        """Plain-dict form (JSON-friendly; sequences become lists)."""
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    def check(self) -> None:
        """Validate types and ranges; raise ``TypeError``/``ValueError`` naming the knob."""
        defaults = SimulationKnobs.__dataclass_fields__
        for f in fields(self):
            value = getattr(self, f.name)
            default = defaults[f.name].default
            if f.name in ("high_risk_units", "instrument_shares", "high_risk_cause"):
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"knob {f.name}={value!r} must be a number (default {default!r})")
            if isinstance(default, int) and not isinstance(default, bool):
                if int(value) != value:
                    raise TypeError(f"knob {f.name}={value!r} must be an integer")
            may_be_negative = f.name.endswith("_effect") and f.name not in _POSITIVE
            if not may_be_negative and value < 0:
                raise ValueError(f"knob {f.name}={value!r} must be >= 0")
        for name in _PROBABILITIES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"knob {name}={value!r} must be a probability in [0, 1]")
        if not 0.0 <= self.burnout_persistence < 1.0:
            raise ValueError(
                f"knob burnout_persistence={self.burnout_persistence!r} must be in [0, 1)"
            )
        for name in ("units_per_municipality", "unit_positions_mean", "vacancy_delay_months"):
            if getattr(self, name) < 1:
                raise ValueError(f"knob {name}={getattr(self, name)!r} must be >= 1")
        shares = tuple(self.instrument_shares)
        if len(shares) != 3 or any(s < 0 for s in shares) or sum(shares) <= 0:
            raise ValueError(
                f"knob instrument_shares={self.instrument_shares!r} must be three non-negative "
                "weights for CBI, ProQOL and BAT12 with a positive sum"
            )
        if self.high_risk_cause not in HIGH_RISK_CAUSES:
            raise ValueError(
                f"high_risk_cause={self.high_risk_cause!r} is not a known cause; choose one of: "
                f"{', '.join(HIGH_RISK_CAUSES)}"
            )
        hr = self.high_risk_units
        if isinstance(hr, bool) or not (
            isinstance(hr, int) or (isinstance(hr, Sequence) and not isinstance(hr, str))
        ):
            raise TypeError(
                f"high_risk_units={hr!r} must be a count (int) or a list of unit ids "
                "such as ['U01', 'U07']"
            )
        if isinstance(hr, int) and hr < 0:
            raise ValueError(f"high_risk_units={hr!r} must be >= 0")


_PROBABILITIES = (
    "newly_qualified_hire_share",
    "temporary_hire_share",
    "temporary_conversion_prob",
    "part_time_share",
    "female_share",
    "case_close_rate",
    "care_order_share",
    "structured_supervision_share",
    "survey_response_rate",
    "item_missing_prob",
    "survey_breakoff_prob",
    "graded_share",
    "self_grade_missing_share",
    "base_exit_hazard",
    "internal_transfer_rate",
    "dismissal_rate",
    "other_exit_rate",
)
# effects that are strengths of "more of X" and may not be negative
_POSITIVE: frozenset[str] = frozenset(
    {
        "burnout_caseload_effect",
        "burnout_supervision_effect",
        "nonresponse_burnout_effect",
        "sick_burnout_effect",
    }
)


def _as_knobs(knobs: SimulationKnobs | Mapping[str, object] | None) -> SimulationKnobs:
    """Accept a SimulationKnobs, a mapping or None (defaults)."""
    if knobs is None:
        return SimulationKnobs()
    if isinstance(knobs, SimulationKnobs):
        knobs.check()
        return knobs
    return SimulationKnobs.from_kwargs(**dict(knobs))
