"""Sick leave of the simulated staff: spells start, run and lower presence.

Each month :func:`take_sick_leave` starts new sick-leave spells for the staff who are not already
sick (the doctor-certified rate rises with latent burnout; self-certified spells last 1-3 days,
doctor-certified ones a log-normal number of days, some graded), records them, and returns every
person's presence in the month (the share of the month at work, net of graded sick leave).
"""

from __future__ import annotations

import numpy as np

from turnover_risk.datasets._buffers import _Buffer, _Month, _weekday
from turnover_risk.datasets._knobs import SimulationKnobs
from turnover_risk.datasets._population import _Staff

__all__ = ["take_sick_leave"]

SICK_GRADES = np.array([0.2, 0.4, 0.5, 0.6, 0.8])


def take_sick_leave(
    k: SimulationKnobs,
    rng: np.random.Generator,
    month: _Month,
    people: _Buffer,
    staff: _Staff,
    absences: _Buffer,
) -> np.ndarray:
    """Start this month's sick-leave spells (recorded in ``absences``); return the presence.

    Returns
    -------
    ndarray
        Presence of each person of ``staff`` in ``[0, 1]``: days at work (graded sick leave
        counts by its grade) over the days of the month.
    """
    P, ndays = people, month.ndays
    W, lo, hi, cap_day, burnW = staff.idx, staff.lo, staff.hi, staff.cap_day, staff.burn
    su = P["sick_until"][W]
    s_lo = np.maximum(lo, su + 1)
    L = hi - s_lo + 1
    elig = L > 0
    frac = np.where(elig, L, 0) / ndays
    p_doc = -np.expm1(-k.doctor_spell_rate * np.exp(k.sick_burnout_effect * burnW) * frac)
    p_self = -np.expm1(-k.self_spell_rate * frac)
    u = rng.random(len(W))
    doc = elig & (u < p_doc)
    slf = elig & ~doc & (u < p_doc + p_self)
    new = doc | slf
    if new.any():
        j = np.flatnonzero(new)
        start = s_lo[j] + np.floor(rng.random(len(j)) * L[j]).astype(np.int64)
        is_doc = doc[j]
        wd = _weekday(start)
        shift = np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
        start = np.where(start + shift <= hi[j], start + shift, start)
        dur_doc = np.clip(
            np.round(rng.lognormal(np.log(k.doctor_spell_median_days), k.doctor_spell_sigma,
                                   size=len(j))), 1, 365,
        ).astype(np.int64)  # fmt: skip
        dur_self = rng.integers(1, 4, size=len(j))
        dur = np.where(is_doc, dur_doc, dur_self)
        graded = is_doc & (rng.random(len(j)) < k.graded_share)
        grade = np.where(graded, SICK_GRADES[rng.integers(0, len(SICK_GRADES), len(j))], 1.0)
        end = start + dur - 1
        end = np.minimum(end, cap_day[j])
        rec_grade = np.where(
            ~is_doc & (rng.random(len(j)) < k.self_grade_missing_share), np.nan, grade
        )
        absences.append(
            emp=W[j], start=start, end=end, cert=(is_doc).astype(np.int8), grade=rec_grade
        )
        P["sick_start"][W[j]] = start
        P["sick_until"][W[j]] = end
        P["sick_grade"][W[j]] = grade
    ss, su = P["sick_start"][W], P["sick_until"][W]
    overlap = np.maximum(0, np.minimum(hi, su) - np.maximum(lo, ss) + 1)
    presence = np.clip((hi - lo + 1 - overlap * P["sick_grade"][W]) / ndays, 0.0, 1.0)
    return presence
