"""Everything the panel builder computes once per register (private).

:func:`prepare_context` turns a :class:`~turnover_risk.schema.Register` into a
:class:`PanelContext`: the period grid, the employment spells as integer arrays, their
continuous episodes (scope, service, unit), sorted event indexes of the optional tables and the
unit-level features on a (unit x period) grid. Person rows are then built per partition of
employees by :func:`turnover_risk._features_person.build_rows`, which only reads the context.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from turnover_risk._warnings import DataQualityWarning
from turnover_risk.data._calendar import WorkdayIndex
from turnover_risk.data._schema import EXIT_REASONS, Register
from turnover_risk.panel._registry import (
    FEATURES,
    SURVEY_FEATURES,
)
from turnover_risk.panel._time import (
    OPEN_DAY,
    Events,
    day_of,
    day_to_timestamp,
    episodes,
    expand_ranges,
    month_of,
    month_start,
    to_days,
)
from turnover_risk.panel._unit import build_unit_features, workdays_index
from turnover_risk.rates._window import detect_left_truncation, metadata_window

MONTHS_PER_PERIOD = {"M": 1, "Q": 3, "Y": 12}


@dataclass(eq=False)
class PanelContext:
    """State shared by all partitions of one ``build_panel`` call (see :func:`prepare_context`)."""

    freq: str
    months_per_period: int
    horizon: int
    counted: frozenset[int] | None  # exit-reason codes counted by the outcome; None = any
    outcome: str
    scope: str
    as_of: int  # day number: data are complete through this day
    min_group_size: int
    newly_qualified_years: float
    period_days: np.ndarray  # panel period starts (day numbers)
    lag: int  # periods per 12 months: panel period p is extended-grid index p + lag
    ext_days: np.ndarray  # extended grid (lag periods before the panel)
    employee_ids: pd.Index  # sorted; the code of an employee is its position
    unit_ids: pd.Index
    unit_municipality: pd.array
    unit_service: pd.array
    spells: dict[str, np.ndarray]
    roles: pd.Index | None
    scope_ep: dict[str, np.ndarray]
    service_ep: dict[str, np.ndarray]
    unit_ep: dict[str, np.ndarray]
    events: dict[str, Events] = field(default_factory=dict)
    survey_cols: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unit: dict[str, np.ndarray] = field(default_factory=dict)
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    absence_frame: pd.DataFrame | None = None
    workdays: tuple[WorkdayIndex, int, int] | None = None

    def codes_of(self, employee_ids: object) -> np.ndarray:
        """Codes of the given employee ids (ids not in the employment table are dropped)."""
        ids = pd.Index(pd.Series(employee_ids, dtype="string").dropna().unique())
        pos = self.employee_ids.get_indexer(ids)
        return np.sort(pos[pos >= 0]).astype(np.int64)


def _col(df: pd.DataFrame | None, name: str) -> bool:
    return df is not None and name in df.columns


def _codes(values: pd.Series, index: pd.Index) -> np.ndarray:
    return index.get_indexer(pd.Index(values.astype("string"))).astype(np.int64)


def _float(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").astype("float64").to_numpy(na_value=np.nan)


def _table_dates(register: Register, cols: dict[str, tuple[str, ...]]) -> dict[str, np.ndarray]:
    out = {}
    for table, names in cols.items():
        df = getattr(register, table)
        if df is None or len(df) == 0:
            continue
        parts = [to_days(df[c]) for c in names if c in df.columns]
        d = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        d = d[d != OPEN_DAY]
        if len(d):
            out[table] = d
    return out


def register_as_of(register: Register) -> int:
    """Default ``as_of``: the latest date on which something is recorded as having happened.

    That is the maximum over employment start dates, absence start dates, caseload months,
    supervision and survey dates. Absence *end* dates are left out (a sick-leave certificate
    may run past the day the data were extracted), and so are employment *end* dates whenever a
    record table is present: a fixed-term contract's end is known in advance and would move the
    data end past the last real observation, turning unseen exits into "stayed" labels. With the
    employment table alone, end dates count (there is nothing else to tell where the data end).
    """
    record_tables = {
        "absences": ("start_date",),
        "caseload": ("month",),
        "supervision": ("date",),
        "surveys": ("date",),
    }
    dates = _table_dates(register, {"employment": ("start_date",), **record_tables})
    if not any(t in dates for t in record_tables):
        dates = _table_dates(register, {"employment": ("start_date", "end_date")})
    if not dates:
        raise ValueError(
            "the register has no dates at all (every start_date is empty); cannot tell where "
            "the data end. Pass as_of='YYYY-MM-DD'."
        )
    return int(max(d.max() for d in dates.values()))


FEATURE_WINDOW_MONTHS = 12
"""The longest look-back window of a feature (12 months: sick leave, colleagues who left, unit
exit share). The default panel starts this long after the observation start, so no feature
reads "not yet recorded" as "nothing happened"."""


def observation_window_start(register: Register) -> tuple[int, str | None]:
    """First day on which every table present is being recorded, and a note if it was inferred.

    * With ``register.metadata['observation_start']`` (or a simulated register's
      ``start_year``): the later of that day and the first absence start, caseload month and
      supervision date.
    * Otherwise the latest of the first employment start and the first absence start, caseload
      month and supervision date. Surveys are left out (they are periodic; their features carry
      an age and a missing indicator).
    * A register with an employment table only is checked for left truncation as the rates
      are (:func:`turnover_risk._rates_window.detect_left_truncation`): an HR extract holds
      only the spells still active when recording began, with hire dates from decades back and
      no exit before recording began, so its first hire says nothing about that day. When the
      check fires, the window starts at the first day of the month of the first recorded spell
      end, and the returned note says so (the caller warns).
    """
    dates = _table_dates(
        register,
        {
            "employment": ("start_date",),
            "absences": ("start_date",),
            "caseload": ("month",),
            "supervision": ("date",),
        },
    )
    records = [int(d.min()) for t, d in dates.items() if t != "employment"]
    meta_start, _ = metadata_window(register)
    if meta_start is not None:
        return max([to_days(pd.Series([pd.Timestamp(meta_start)]))[0], *records]), None
    first = int(max(d.min() for d in dates.values()))
    if records or "employment" not in dates:
        return first, None
    emp = register.employment
    s = to_days(emp["start_date"])
    e = to_days(emp["end_date"])
    keep = s != OPEN_DAY
    s, e = s[keep], e[keep]
    ends = e[e != OPEN_DAY]
    found = detect_left_truncation(
        s,
        e,
        ends,
        first=int(s.min()),
        last=int(max(s.max(), ends.max() if len(ends) else s.max())),
        table="employment",
        event="spell end (exit or move)",
        candidates=dict,
    )
    if found is None:
        return first, None
    note = (
        f"build_panel: {found.describe()}. The panel treats {_text(found.start)} "
        f"({found.basis}) as the start of recording; pass start=... to choose the first "
        "period yourself, or set register.metadata['observation_start']."
    )
    return int(found.start), note


def observation_start(register: Register) -> int:
    """First day on which every table present is being recorded (see
    :func:`observation_window_start`)."""
    return observation_window_start(register)[0]


def default_first_day(register: Register, first: int | None = None) -> int:
    """Default first period: :data:`FEATURE_WINDOW_MONTHS` after :func:`observation_start`.

    Earlier periods would have 3- and 12-month windows reaching back before recording began
    (no leavers, absences or surveys seen yet), which shifts every windowed feature and biases
    a model trained on them. Pass ``start=`` to ``build_panel`` to begin earlier on purpose.
    """
    first = observation_start(register) if first is None else first
    return int(month_start(month_of(np.array([first]))[0] + FEATURE_WINDOW_MONTHS))


def _scope_keys(
    scope: str,
    unit_service: pd.array,
    unit_municipality: pd.array,
    has_units: bool,
    warn: bool = True,
) -> np.ndarray:
    """Integer scope key per unit code, with the documented fallbacks and a warning."""
    n = len(unit_service)
    if scope == "unit":
        return np.arange(n, dtype=np.int64)
    if scope == "any":
        return np.zeros(n, dtype=np.int64)
    svc = pd.Series(unit_service, dtype="string")
    mun = pd.Series(unit_municipality, dtype="string")
    if scope == "service":
        key = svc.where(svc.notna(), "municipality:" + mun)
    else:
        key = mun
    missing = key.isna()
    if missing.any() and warn:
        what = "a units table" if not has_units else f"{scope} for {int(missing.sum())} units"
        warnings.warn(
            f"scope={scope!r}: the register lacks {what}; those units are treated as one "
            f"{scope} (moves between them are not exits). Add a units table with "
            f"{scope} to separate them.",
            DataQualityWarning,
            stacklevel=4,
        )
        key = key.fillna("")
    return pd.factorize(key)[0].astype(np.int64)


def _text(day: int) -> str:
    return str(day_to_timestamp(int(day)).date())


def _grid(freq: str, start: object, end: object, first_day: int, as_of: int) -> np.ndarray:
    mpp = MONTHS_PER_PERIOD[freq]

    def ceil_period(day: int) -> int:
        m = int(month_of(np.array([day]))[0])
        if int(month_start(np.array([m]))[0]) != day:
            m += 1
        return -(-m // mpp) * mpp

    first_m = ceil_period(first_day if start is None else day_of(start))
    last_day = as_of + 1 if end is None else day_of(end)
    if end is not None and last_day > as_of + 1:
        raise ValueError(
            f"end={_text(last_day)} is after the end of the data (as_of={_text(as_of)}): a "
            "period after as_of + 1 day would use records that are not in the register. Pass "
            "an earlier end or a later as_of."
        )
    last_m = int(month_of(np.array([last_day]))[0]) // mpp * mpp
    if last_m < first_m:
        raise ValueError(
            f"no {freq} period starts between start={_text(month_start(np.array([first_m]))[0])} "
            f"and end={_text(last_day)} (as_of={_text(as_of)}); widen start/end or check as_of."
        )
    return month_start(np.arange(first_m, last_m + 1, mpp))


def prepare_context(
    register: Register,
    *,
    freq: str,
    horizon: int,
    counted: frozenset[int] | None,
    outcome: str,
    scope: str,
    start: object,
    end: object,
    as_of: object,
    min_group_size: int,
    newly_qualified_years: float,
) -> PanelContext:
    """Compute the shared state of a panel (arguments already validated by ``build_panel``)."""
    emp = register.employment
    as_of_day = register_as_of(register) if as_of is None else day_of(as_of)
    employee_ids = pd.Index(pd.unique(emp["employee_id"].astype("string").dropna())).sort_values()
    units = register.units
    unit_ids = pd.Index(pd.unique(emp["unit_id"].astype("string").dropna()))
    if units is not None:
        unit_ids = unit_ids.append(pd.Index(units["unit_id"].astype("string").dropna())).unique()
    unit_ids = unit_ids.sort_values()
    n_units = len(unit_ids)
    mun = pd.array([pd.NA] * n_units, dtype="string")
    svc = pd.array([pd.NA] * n_units, dtype="string")
    if units is not None:
        u = units.drop_duplicates("unit_id", keep="last")
        pos = unit_ids.get_indexer(pd.Index(u["unit_id"].astype("string")))
        if "municipality" in u.columns:
            mun[pos] = u["municipality"].astype("string").to_numpy()
        if "service" in u.columns:
            svc[pos] = u["service"].astype("string").to_numpy()

    code = _codes(emp["employee_id"], employee_ids)
    ucode = _codes(emp["unit_id"], unit_ids)
    start_d = to_days(emp["start_date"])
    end_d = to_days(emp["end_date"])
    keep = (code >= 0) & (ucode >= 0) & (start_d != OPEN_DAY)
    end_d = np.where(end_d > as_of_day, OPEN_DAY, end_d)  # unknown at as_of: still open
    reason = np.full(len(emp), -1, dtype=np.int64)
    if "exit_reason" in emp.columns:
        r = pd.Categorical(emp["exit_reason"].astype("string"), categories=list(EXIT_REASONS))
        reason = r.codes.astype(np.int64)
    reason = np.where(end_d == OPEN_DAY, -1, reason)
    roles = None
    role_code = np.full(len(emp), -1, dtype=np.int64)
    if "role" in emp.columns:
        role_code, roles = pd.factorize(emp["role"].astype("string"), sort=True)
        roles = pd.Index(roles.astype(str))
    spells = {
        "code": code,
        "unit": ucode,
        "start": start_d,
        "end": end_d,
        "fte": _float(emp["fte"]),
        "role": np.asarray(role_code, dtype=np.int64),
        "birth_year": _float(emp["birth_year"])
        if "birth_year" in emp
        else np.full(len(emp), np.nan),
        "qualified_year": _float(emp["qualified_year"])
        if "qualified_year" in emp
        else np.full(len(emp), np.nan),
        "reason": reason,
    }
    spells = {k: v[keep] for k, v in spells.items()}
    if len(spells["code"]) == 0:
        raise ValueError(
            "the employment table has no usable spell (every row lacks employee_id, unit_id or "
            "start_date); validate the register with tr.validate(register)."
        )

    scope_key_unit = _scope_keys(scope, svc, mun, units is not None)
    service_key_unit = (
        scope_key_unit
        if scope == "service"
        else _scope_keys("service", svc, mun, units is not None, warn=False)
    )
    sc, su, ss, se, sr = (spells[k] for k in ("code", "unit", "start", "end", "reason"))
    scope_ep = episodes(sc, scope_key_unit[su], ss, se, sr)
    service_ep = episodes(sc, service_key_unit[su], ss, se, sr)
    unit_ep = episodes(sc, su, ss, se, sr)

    mpp = MONTHS_PER_PERIOD[freq]
    recording_day, note = observation_window_start(register)
    if note is not None and start is None:
        warnings.warn(note, DataQualityWarning, stacklevel=3)
    first_day = default_first_day(register, recording_day)
    if start is None and end is None and first_day > as_of_day:
        # too short a register for a full look-back window: start when recording began
        first_day = recording_day
        warnings.warn(
            f"the data cover less than {FEATURE_WINDOW_MONTHS} months after recording began "
            f"({_text(first_day)} to {_text(as_of_day)}), so the panel starts at "
            f"{_text(first_day)} and its 3- and 12-month features reach back before the data. "
            "Pass start=... to choose the first period yourself.",
            DataQualityWarning,
            stacklevel=3,
        )
    period_days = _grid(freq, start, end, first_day, as_of_day)
    lag = 12 // mpp
    first_m = int(month_of(period_days[:1])[0])
    ext_days = np.concatenate(
        [month_start(np.arange(first_m - lag * mpp, first_m, mpp)), period_days]
    )

    ctx = PanelContext(
        freq=freq,
        months_per_period=mpp,
        horizon=horizon,
        counted=counted,
        outcome=outcome,
        scope=scope,
        as_of=as_of_day,
        min_group_size=min_group_size,
        newly_qualified_years=newly_qualified_years,
        period_days=period_days,
        lag=lag,
        ext_days=ext_days,
        employee_ids=employee_ids,
        unit_ids=unit_ids,
        unit_municipality=mun,
        unit_service=svc,
        spells=spells,
        roles=roles,
        scope_ep=scope_ep,
        service_ep=service_ep,
        unit_ep=unit_ep,
    )
    absent = _build_events(ctx, register)
    build_unit_features(ctx, register, scope_key_unit, absent)
    ctx.absent = tuple(n for n in FEATURES if n in absent)
    ctx.present = tuple(n for n in FEATURES if n not in absent)
    return ctx


def _build_events(ctx: PanelContext, register: Register) -> set[str]:
    """Sorted event indexes of the optional tables; returns the names of absent features."""
    missing: set[str] = set()
    emp = register.employment
    for col in ("role", "birth_year"):
        if col not in emp.columns:
            missing.add(f"employment.{col}")
    ids = ctx.employee_ids

    cl = register.caseload
    if cl is None:
        missing.add("caseload")
    else:
        for col in ("care_order_cases", "deadline_breaches"):
            if col not in cl.columns:
                missing.add(f"caseload.{col}")
        code = _codes(cl["employee_id"], ids)
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
        # terms of a least-squares slope (x = month number from the first snapshot)
        x = (ev.times - ev.times.min()).astype(np.float64)
        ev.values["x_open"] = np.where(np.isnan(ev.values["open"]), np.nan, x)
        ev.values["xy"] = ev.values["x_open"] * ev.values["open"]
        ev.values["xx"] = ev.values["x_open"] ** 2

    sv = register.supervision
    if sv is None:
        missing.add("supervision")
    else:
        if "minutes" not in sv.columns:
            missing.add("supervision.minutes")
        code = _codes(sv["employee_id"], ids)
        day = to_days(sv["date"])
        ok = (code >= 0) & (day != OPEN_DAY)
        kind = sv["kind"].astype("string")
        pg = kind.isin(["process", "group"]).to_numpy(dtype=bool, na_value=False)
        minutes = _float(sv["minutes"]) if "minutes" in sv.columns else np.zeros(len(sv))
        ctx.events["supervision"] = Events(
            code[ok], day[ok], minutes=minutes[ok], pg=pg[ok].astype(np.float64)
        )

    ab = register.absences
    if ab is None:
        missing.add("absences")
    else:
        _build_absence_events(ctx, ab)

    su = register.surveys
    if su is None:
        missing.add("surveys")
    else:
        missing |= _build_survey_events(ctx, su)

    absent = set()
    for name, feat in FEATURES.items():
        if any(r in missing or r.split(".")[0].split("[")[0] in missing for r in feat.requires):
            absent.add(name)
    if "caseload" in missing:
        absent.add("caseload_ratio_unit_median")
    return absent


def _absence_frame(ctx: PanelContext, ab: pd.DataFrame) -> pd.DataFrame:
    code = _codes(ab["employee_id"], ctx.employee_ids)
    s, e = to_days(ab["start_date"]), to_days(ab["end_date"])
    grade = _float(ab["grade"]) if "grade" in ab.columns else np.ones(len(ab))
    cert = ab["certification"].astype("string").to_numpy(dtype=object, na_value="")
    grade = np.where((cert == "self") | np.isnan(grade), 1.0, grade)
    ok = (code >= 0) & (s != OPEN_DAY) & (e != OPEN_DAY) & (e >= s)
    return pd.DataFrame({"c": code[ok], "s": s[ok], "e": e[ok], "grade": grade[ok]})


def _build_absence_events(ctx: PanelContext, ab: pd.DataFrame) -> None:
    a = _absence_frame(ctx, ab)
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
    ctx.events["absence_ends"] = Events(c, e)
    long = (e - s) >= 16
    ctx.events["long_became"] = Events(c[long], s[long] + 16)
    ctx.events["long_ends"] = Events(c[long], e[long])
    ctx.absence_frame = a  # kept for the unit sick-leave percentage


def _build_survey_events(ctx: PanelContext, surveys: pd.DataFrame) -> set[str]:
    from turnover_risk.surveys._score import get_instrument, score_survey

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
    canonical = names.map(canon)
    for prefix, (instrument, subscales, _unit) in SURVEY_FEATURES.items():
        rows = surveys.loc[(canonical == instrument).to_numpy(dtype=bool, na_value=False)]
        if len(rows) == 0:
            missing.add(f"surveys[{instrument}]")
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
        ctx.survey_cols[prefix] = subscales
    return missing
