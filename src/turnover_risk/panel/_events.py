"""Sorted event indexes of the optional register tables (private).

:func:`_build_events` reads the caseload, supervision, absence and survey tables into
:class:`~turnover_risk.panel._time.Events` on the context (employee code and time, sorted), from
which the person rows read windowed sums, and returns the features whose tables or columns are
missing. Surveys are scored with :func:`turnover_risk.surveys.score_survey`.
:func:`absent_features` reads only which tables, columns and instruments the register has (once
per register); :func:`_build_events` indexes the rows of any subset of the employees (the whole
register, or one range of a split context).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from turnover_risk._warnings import DataQualityWarning
from turnover_risk.data import Register
from turnover_risk.panel._registry import FEATURES, SURVEY_FEATURES
from turnover_risk.panel._time import (
    OPEN_DAY,
    Events,
    expand_ranges,
    month_of,
    month_start,
    to_days,
)
from turnover_risk.panel._unit import workdays_index

if TYPE_CHECKING:
    from turnover_risk.panel._context import PanelContext


def _col(df: pd.DataFrame | None, name: str) -> bool:
    return df is not None and name in df.columns


def _codes(values: pd.Series, index: pd.Index) -> np.ndarray:
    return index.get_indexer(pd.Index(values.astype("string"))).astype(np.int64)


def _float(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").astype("float64").to_numpy(na_value=np.nan)


PERSON_TABLES: tuple[str, ...] = ("caseload", "supervision", "absences", "surveys")
"""The register tables keyed by person that the event indexes are built from."""


def absent_features(ctx: PanelContext, register: Register) -> set[str]:
    """Features whose tables or columns are missing (whole register; cheap: no rows read).

    Also records on ``ctx`` what every partition must agree on: the surveys' instruments
    (``survey_canon``, ``survey_cols``) and the first caseload month (``caseload_m0``).
    """
    missing: set[str] = set()
    emp = register.employment
    for col in ("role", "birth_year"):
        if col not in emp.columns:
            missing.add(f"employment.{col}")
    cl = register.caseload
    if cl is None:
        missing.add("caseload")
    else:
        for col in ("care_order_cases", "deadline_breaches"):
            if col not in cl.columns:
                missing.add(f"caseload.{col}")
        ctx.caseload_m0 = _first_caseload_month(cl, ctx.employee_ids)
    sv = register.supervision
    if sv is None:
        missing.add("supervision")
    elif "minutes" not in sv.columns:
        missing.add("supervision.minutes")
    if register.absences is None:
        missing.add("absences")
    su = register.surveys
    if su is None:
        missing.add("surveys")
    else:
        missing |= _survey_instruments(ctx, su)
    absent = set()
    for name, feat in FEATURES.items():
        if any(r in missing or r.split(".")[0].split("[")[0] in missing for r in feat.requires):
            absent.add(name)
    if "caseload" in missing:
        absent.add("caseload_ratio_unit_median")
    return absent


def _first_caseload_month(cl: pd.DataFrame, ids: pd.Index) -> int:
    """The first month with a snapshot of a known employee (origin of the slope's x)."""
    month = month_of(to_days(cl["month"]))
    valid = month < month_of(np.array([OPEN_DAY]))[0]
    for m in np.unique(month[valid]):
        rows = np.flatnonzero(month == m)
        if (_codes(cl["employee_id"].iloc[rows], ids) >= 0).any():
            return int(m)
    return 0


def _survey_instruments(ctx: PanelContext, surveys: pd.DataFrame) -> set[str]:
    from turnover_risk.surveys import get_instrument

    missing = set()
    names = surveys["instrument"].astype("string")
    canon = {}
    for raw in names.dropna().unique():
        try:
            canon[raw] = get_instrument(str(raw)).name
        except (KeyError, ValueError):
            warnings.warn(
                f"surveys: instrument {raw!r} is not one the panel uses (CBI, ProQOL, BAT12); "
                "its responses are ignored by build_panel.",
                DataQualityWarning,
                stacklevel=5,
            )
    ctx.survey_canon = canon
    found = set(canon.values())
    for prefix, (instrument, subscales, _unit) in SURVEY_FEATURES.items():
        if instrument in found:
            ctx.survey_cols[prefix] = subscales
        else:
            missing.add(f"surveys[{instrument}]")
    return missing


def _build_events(
    ctx: PanelContext,
    tables: dict[str, pd.DataFrame | None],
    codes: dict[str, np.ndarray] | None = None,
) -> None:
    """Sorted event indexes of the person tables on ``ctx`` (any subset of the employees).

    ``tables`` holds the rows of :data:`PERSON_TABLES` (``None``: not in the register);
    ``codes`` optionally the employee codes of their rows, when already known.
    """
    ids = ctx.employee_ids
    codes = codes or {}

    def code_of(name: str, df: pd.DataFrame) -> np.ndarray:
        known = codes.get(name)
        return known if known is not None else _codes(df["employee_id"], ids)

    cl = tables.get("caseload")
    if cl is not None:
        code = code_of("caseload", cl)
        month = month_of(to_days(cl["month"]))
        ok = (code >= 0) & (month < month_of(np.array([OPEN_DAY]))[0])
        frame = pd.DataFrame({"c": code[ok], "m": month[ok]})
        frame["open"] = _float(cl["open_cases"])[ok]
        for col, short in (("care_order_cases", "care"), ("deadline_breaches", "breach")):
            frame[short] = _float(cl[col])[ok] if col in cl.columns else np.nan
        frame = frame.drop_duplicates(["c", "m"], keep="last")
        ctx.events["caseload"] = Events(
            frame["c"].to_numpy(),
            frame["m"].to_numpy(),
            open=frame["open"].to_numpy(),
            care=frame["care"].to_numpy(),
            breach=frame["breach"].to_numpy(),
        )
        ev = ctx.events["caseload"]
        # terms of a least-squares slope (x = month number from the register's first snapshot)
        x = (ev.times - ctx.caseload_m0).astype(np.float64)
        ev.values["x_open"] = np.where(np.isnan(ev.values["open"]), np.nan, x)
        ev.values["xy"] = ev.values["x_open"] * ev.values["open"]
        ev.values["xx"] = ev.values["x_open"] ** 2

    sv = tables.get("supervision")
    if sv is not None:
        code = code_of("supervision", sv)
        day = to_days(sv["date"])
        ok = (code >= 0) & (day != OPEN_DAY)
        kind = sv["kind"].astype("string")
        pg = kind.isin(["process", "group"]).to_numpy(dtype=bool, na_value=False)
        minutes = _float(sv["minutes"]) if "minutes" in sv.columns else np.zeros(len(sv))
        ctx.events["supervision"] = Events(
            code[ok], day[ok], minutes=minutes[ok], pg=pg[ok].astype(np.float64)
        )

    ab = tables.get("absences")
    if ab is not None:
        _build_absence_events(ctx, ab, codes.get("absences"))

    su = tables.get("surveys")
    if su is not None:
        _build_survey_events(ctx, su)


def _absence_frame(ctx: PanelContext, ab: pd.DataFrame, code: np.ndarray | None) -> pd.DataFrame:
    if code is None:
        code = _codes(ab["employee_id"], ctx.employee_ids)
    s, e = to_days(ab["start_date"]), to_days(ab["end_date"])
    grade = _float(ab["grade"]) if "grade" in ab.columns else np.ones(len(ab))
    cert = ab["certification"].astype("string").to_numpy(dtype=object, na_value="")
    grade = np.where((cert == "self") | np.isnan(grade), 1.0, grade)
    # an ongoing absence (no end_date) lasts through the day the data are complete (as_of)
    is_open = e == OPEN_DAY
    e = np.where(is_open, max(ctx.as_of, 0), e)
    ok = (code >= 0) & (s != OPEN_DAY) & (e >= s)
    return pd.DataFrame(
        {"c": code[ok], "s": s[ok], "e": e[ok], "grade": grade[ok], "open": is_open[ok]}
    )


def _build_absence_events(ctx: PanelContext, ab: pd.DataFrame, code: np.ndarray | None) -> None:
    a = _absence_frame(ctx, ab, code)
    c, s, e = a["c"].to_numpy(), a["s"].to_numpy(), a["e"].to_numpy()
    wd, m0, n_months = workdays_index(ctx)
    lo_day, hi_day = month_start(np.array([m0, m0 + n_months]))
    # person lost working days (x grade) per calendar month, for 12-month window sums
    cs, ce = np.maximum(s, lo_day), np.minimum(e, hi_day - 1)
    inside = ce >= cs
    i, m = expand_ranges(month_of(cs[inside]), month_of(ce[inside]))
    ps = np.maximum(cs[inside][i], month_start(m))
    pe = np.minimum(ce[inside][i], month_start(m + 1) - 1)
    lost = wd.count(ps, pe) * a["grade"].to_numpy()[inside][i]
    ctx.events["absence_months"] = Events(c[inside][i], m, lost=lost)
    ctx.events["absence_starts"] = Events(c, s)
    is_open = a["open"].to_numpy()
    ended = np.where(is_open, OPEN_DAY, e)  # an ongoing absence has not ended
    ctx.events["absence_ends"] = Events(c, ended)
    long = ((e - s) >= 16) | is_open
    ctx.events["long_became"] = Events(c[long], s[long] + 16)
    ctx.events["long_ends"] = Events(c[long], ended[long])
    ctx.absence_frame = a  # kept for the unit sick-leave percentage


def _build_survey_events(ctx: PanelContext, surveys: pd.DataFrame) -> None:
    from turnover_risk.surveys import score_survey

    canonical = surveys["instrument"].astype("string").map(ctx.survey_canon)
    for prefix, subscales in ctx.survey_cols.items():
        instrument = SURVEY_FEATURES[prefix][0]
        rows = surveys.loc[(canonical == instrument).to_numpy(dtype=bool, na_value=False)]
        if len(rows) == 0:  # none among these employees (the register has some)
            empty = np.zeros(0, dtype=np.int64)
            ctx.events[f"survey_{prefix}"] = Events(
                empty, empty, **{s: np.zeros(0) for s in subscales}
            )
            continue
        scored = score_survey(rows, instrument=instrument)
        code = _codes(scored["employee_id"], ctx.employee_ids)
        day = to_days(scored["date"])
        ok = (code >= 0) & (day != OPEN_DAY)
        values = {s: _float(scored[s])[ok] for s in subscales}
        frame = pd.DataFrame({"c": code[ok], "d": day[ok], **values})
        frame = frame.drop_duplicates(["c", "d"], keep="last")
        ctx.events[f"survey_{prefix}"] = Events(
            frame["c"].to_numpy(),
            frame["d"].to_numpy(),
            **{s: frame[s].to_numpy() for s in subscales},
        )
