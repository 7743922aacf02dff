"""The work of the simulated caseworkers: caseload, supervision and the burnout they drive.

Each month :func:`assign_cases` shares the unit's case intake (which arrives whether or not
positions are filled) and the cases left behind by leavers among the caseworkers present,
weighted by presence and a ramp-up for new staff, so short-staffing raises everybody's caseload;
:func:`supervise` draws supervision sessions from the unit's practice (weekly for new staff in
structured units); :func:`update_burnout` moves latent burnout towards a target set by caseload,
client strain, supervision and being newly qualified; and :func:`shift_histories` keeps the last
three months of sessions and caseloads that next month's exit hazards read.
"""

from __future__ import annotations

import numpy as np

from turnover_risk.datasets._buffers import _Buffer, _Chunks, _Month, _weekday
from turnover_risk.datasets._knobs import SimulationKnobs
from turnover_risk.datasets._population import _Staff
from turnover_risk.datasets._units import _Units

__all__ = ["assign_cases", "shift_histories", "supervise", "update_burnout"]

SESSION_MINUTES = np.array([60.0, 90.0, 120.0, 90.0, 30.0])  # in SUPERVISION_KINDS order
# kind probabilities (individual, group, process, external, debrief) per practice group
KIND_P = np.array(
    [
        [0.80, 0.05, 0.10, 0.00, 0.05],  # structured unit, new staff (weekly individual)
        [0.40, 0.30, 0.20, 0.05, 0.05],  # structured unit, others
        [0.30, 0.15, 0.05, 0.10, 0.40],  # sporadic unit (many ad-hoc debriefs)
    ]
)


def assign_cases(
    k: SimulationKnobs,
    rng: np.random.Generator,
    month: _Month,
    people: _Buffer,
    staff: _Staff,
    presence: np.ndarray,
    units: _Units,
    backlog: np.ndarray,
    caseload: _Chunks,
) -> tuple[np.ndarray, np.ndarray]:
    """Share the month's new and inherited cases among the caseworkers present.

    The inherited cases are taken from ``backlog`` (per unit, changed in place); the caseload
    of the recorded months is added to ``caseload``.

    Returns
    -------
    cases : ndarray
        Open cases of each person of ``staff`` at the end of the month (0 for team leaders).
    snap : ndarray of bool
        Whose caseload is recorded this month (caseworkers in the unit since its first day).
    """
    P, t, ms, n_units = people, month.t, month.ms, units.n_units
    W, uW, cw = staff.idx, staff.unit, staff.role == 0
    ramp = np.minimum(1.0, (t - P["unit_t"][W] + 1) / max(k.new_staff_ramp_months, 1))
    weight = np.where(cw, presence * ramp * P["fte"][W], 0.0)
    capacity = np.bincount(uW, weights=weight, minlength=n_units)
    n_cw_pos = units.positions - 1
    intake = k.intake_per_position * n_cw_pos * units.intake_factor
    share = weight / np.maximum(capacity[uW], 0.5)
    new_cases = rng.poisson(intake[uW] * share)
    inherited = rng.poisson(backlog[uW] * share)
    backlog[capacity > 0] = 0.0
    cases = P["cases"][W]
    closed = rng.binomial(cases, np.clip(k.case_close_rate * (0.5 + 0.5 * presence), 0, 1))
    cases = np.where(cw, cases - closed + new_cases + inherited, 0)
    P["cases"][W] = cases
    snap = cw & (P["unit_start"][W] <= ms)
    if month.record and snap.any():
        j = np.flatnonzero(snap)
        oc = cases[j]
        care = rng.binomial(oc, units.care_share[uW[j]])
        over = np.maximum(oc - k.caseload_norm, 0.0)
        breaches = rng.poisson(k.deadline_breach_rate * over)
        caseload.add(
            emp=W[j], t=np.full(len(j), t), open=oc, new=new_cases[j], care=care,
            breaches=breaches,
        )  # fmt: skip
    return cases, snap


def supervise(
    k: SimulationKnobs,
    rng: np.random.Generator,
    month: _Month,
    people: _Buffer,
    staff: _Staff,
    presence: np.ndarray,
    units: _Units,
    supervision: _Chunks,
) -> np.ndarray:
    """Draw the month's supervision sessions (recorded in ``supervision``); return their count."""
    P, t = people, month.t
    W, uW, lo, hi, cw = staff.idx, staff.unit, staff.lo, staff.hi, staff.role == 0
    new_staff = (t - P["svc_t"][W]) < k.new_staff_months
    structured = units.structured[uW]
    group = np.where(structured, np.where(new_staff & cw, 0, 1), 2)
    rate = np.where(
        group == 0,
        k.new_staff_sessions_per_month,
        np.where(group == 1, k.structured_sessions_per_month, k.sporadic_sessions_per_month),
    )
    rate = np.where(units.no_supervision[uW], 0.0, rate) * presence
    Lw = hi - lo + 1
    n_sess = np.minimum(rng.poisson(rate), (Lw + 2) // 3)
    if month.record and n_sess.any():
        j = np.repeat(np.arange(len(W)), n_sess)
        first = np.cumsum(n_sess) - n_sess
        slot = np.arange(len(j)) - first[j]
        off = rng.random(len(W))
        day = lo[j] + np.floor((slot + off[j]) * Lw[j] / n_sess[j]).astype(np.int64)
        wd = _weekday(day)
        day = np.clip(day + np.where(wd == 5, -1, np.where(wd == 6, 1, 0)), lo[j], hi[j])
        cp = np.cumsum(KIND_P[group[j]], axis=1)
        kind = (rng.random(len(j))[:, None] >= cp[:, :-1]).sum(axis=1).astype(np.int8)
        minutes = np.maximum(
            15.0, 5.0 * np.round((SESSION_MINUTES[kind] + rng.normal(0, 10, len(j))) / 5.0)
        )
        supervision.add(emp=W[j], day=day, kind=kind, minutes=minutes)
    return n_sess


def update_burnout(
    k: SimulationKnobs,
    rng: np.random.Generator,
    month: _Month,
    people: _Buffer,
    staff: _Staff,
    cases: np.ndarray,
    n_sess: np.ndarray,
    units: _Units,
) -> None:
    """Move each person's latent burnout towards the target set by this month's work."""
    P, year = people, month.year
    W, uW, burnW, cw = staff.idx, staff.unit, staff.burn, staff.role == 0
    caseload_term = np.where(cw, k.burnout_caseload_effect * (cases - k.caseload_norm), 0.0)
    target = (
        P["trait"][W]
        + caseload_term
        + k.burnout_client_effect * (units.care_share[uW] - k.care_order_share)
        - k.burnout_supervision_effect * n_sess
        + k.burnout_newly_qualified_effect * ((year - P["qual"][W]) < 2)
    )
    rho = k.burnout_persistence
    P["burn"][W] = rho * burnW + (1 - rho) * target + rng.normal(0, k.burnout_noise_sd, len(W))


def shift_histories(
    people: _Buffer, staff: _Staff, n_sess: np.ndarray, snap: np.ndarray, cases: np.ndarray
) -> None:
    """Push this month's sessions and recorded caseload into the 3-month histories."""
    P, W = people, staff.idx
    sh = P["sup_hist"]
    sh[W, :2] = sh[W, 1:]
    sh[W, 2] = n_sess
    chh = P["case_hist"]
    chh[W, :2] = chh[W, 1:]
    chh[W, 2] = np.where(snap, cases, np.nan)
