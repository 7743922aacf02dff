"""Survey answers of the simulated staff (CBI, ProQOL or BAT-12, one per municipality).

:func:`prepare_instruments` reads each instrument's items, subscales, reversed items and
response range from :mod:`turnover_risk.surveys` (at run time, so a changed definition is
followed) and draws each item's level; :func:`answer_surveys` lets the staff present in their
municipality's survey month answer: item answers follow the latent burnout and the unit's client
strain, with burnout-dependent non-response, missing items and break-offs.
"""

from __future__ import annotations

import numpy as np

from turnover_risk.datasets._buffers import _Chunks, _Month
from turnover_risk.datasets._knobs import SimulationKnobs
from turnover_risk.datasets._population import _Staff
from turnover_risk.datasets._units import _Units

__all__ = ["INSTRUMENT_NAMES", "N_ITEM_COLUMNS", "answer_surveys", "prepare_instruments"]

INSTRUMENT_NAMES: tuple[str, ...] = ("CBI", "ProQOL", "BAT12")
N_ITEM_COLUMNS = 30
ITEM_THRESHOLDS = np.array([-1.6, -0.5, 0.6, 1.7])
# answer level per instrument (shift of every item's latent) so that mean scores sit near the
# published norms: CBI ~ 40, ProQOL burnout sum ~ 25, BAT-12 mean ~ 2.3
_INSTRUMENT_LEVEL = {"CBI": 0.0, "ProQOL": 0.0, "BAT12": -0.6}
_SATISFACTION_LEVEL = 0.6  # satisfaction items (ProQOL compassion satisfaction) answered high


def prepare_instruments(rng: np.random.Generator) -> list[tuple]:
    """The item structure of each instrument, in ``INSTRUMENT_NAMES`` order.

    Returns
    -------
    list of tuple
        Per instrument: name, number of items, signed loading on burnout, client-strain
        loading, reversed items, item offsets, lowest and highest response code.
    """
    from turnover_risk.surveys._score import get_instrument

    instruments = []
    for name in INSTRUMENT_NAMES:
        inst = get_instrument(name)
        n_items = int(inst.n_items)
        sign = np.ones(n_items)
        client = np.zeros(n_items)
        loading = np.full(n_items, 0.5)
        for sub, items in inst.subscales.items():
            if sub == "total":
                continue
            pos = np.asarray(items, dtype=int) - 1
            loading[pos] = 1.0
            if "satisfaction" in sub:
                sign[pos] = -1.0
            if "client" in sub or "traumatic" in sub:
                client[pos] = 1.0
        reverse = np.zeros(n_items, dtype=bool)
        reverse[np.asarray(inst.reverse, dtype=int) - 1] = True
        offset = rng.normal(0.0, 0.3, size=n_items) + _INSTRUMENT_LEVEL.get(inst.name, 0.0)
        offset[sign < 0] += _SATISFACTION_LEVEL
        lo, hi = int(inst.response_min), int(inst.response_max)
        instruments.append((inst.name, n_items, sign * loading, client, reverse, offset, lo, hi))
    return instruments


def answer_surveys(
    k: SimulationKnobs,
    rng: np.random.Generator,
    month: _Month,
    staff: _Staff,
    units: _Units,
    instruments: list[tuple],
    surveys: _Chunks,
) -> None:
    """Survey the staff of the municipalities whose survey month this is (into ``surveys``)."""
    W, uW, lo, hi, burnW = staff.idx, staff.unit, staff.lo, staff.hi, staff.burn
    mun = units.unit_mun[uW]
    in_wave = units.mun_survey_moy[mun] == month.moy
    if not in_wave.any():
        return
    j = np.flatnonzero(in_wave)
    day = month.ms + units.mun_survey_day[mun[j]] - 1 + rng.integers(0, 14, size=len(j))
    ok = (day >= lo[j]) & (day <= hi[j])
    logit = np.log(k.survey_response_rate / max(1e-9, 1 - k.survey_response_rate))
    if k.survey_response_rate >= 1.0:
        p = np.ones(len(j))
    else:
        p = 1.0 / (1.0 + np.exp(-(logit - k.nonresponse_burnout_effect * burnW[j])))
    answer = ok & (rng.random(len(j)) < p)
    j, day = j[answer], day[answer]
    if not len(j):
        return
    inst_of = units.mun_instrument[mun[j]]
    for i_inst, (_name, n_items, load, client, rev, offset, lo_c, hi_c) in enumerate(instruments):
        sel = inst_of == i_inst
        if not sel.any():
            continue
        r = j[sel]
        m = len(r)
        strain = units.care_share[uW[r]] - k.care_order_share
        y = (
            k.item_loading * burnW[r][:, None] * load[None, :]
            + 3.0 * strain[:, None] * client[None, :]
            + offset[None, :]
            + rng.normal(0, 0.3, size=(m, 1))
            + rng.normal(0, 1.0, size=(m, n_items))
        )
        code = lo_c + np.searchsorted(ITEM_THRESHOLDS, y).astype(float)
        code = np.clip(code, lo_c, hi_c)
        code = np.where(rev[None, :], lo_c + hi_c - code, code)
        code[rng.random((m, n_items)) < k.item_missing_prob] = np.nan
        brk = rng.random(m) < k.survey_breakoff_prob
        cut = rng.integers(1, n_items, size=m)
        code[brk[:, None] & (np.arange(n_items)[None, :] >= cut[:, None])] = np.nan
        items = np.full((m, N_ITEM_COLUMNS), np.nan)
        items[:, :n_items] = code
        surveys.add(emp=W[r], day=day[sel], inst=np.full(m, i_inst), items=items)
