"""How the commands print results: aligned tables with whole counts, flag summaries in words,
why features are absent, and step progress bars on stderr.

Tables go through :func:`_tidy`: counts stored as floats (``752.0``) print as integers, other
numbers with at most three decimals, and a missing value as a dash, never ``NaN`` or ``NaT``.
Progress bars (:func:`_steps`) follow :mod:`turnover_risk._progress`: drawn on stderr when it
is a terminal, off with ``--quiet``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

MISSING = "–"


def _tidy(df: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """A copy for printing: whole-number float columns as integers, dates as dates, numbers
    rounded, missing values as a dash."""
    import numpy as np
    import pandas as pd

    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_bool_dtype(s):
            out[col] = s.map({True: "yes", False: "no"}).fillna(MISSING)
        elif pd.api.types.is_datetime64_any_dtype(s):
            days = (s.dt.normalize() == s) | s.isna()
            fmt = "%Y-%m-%d" if bool(days.all()) else "%Y-%m-%d %H:%M"
            out[col] = s.dt.strftime(fmt).fillna(MISSING)
        elif pd.api.types.is_numeric_dtype(s):
            v = s.astype(float)
            whole = bool(np.all(np.isnan(v) | (np.round(v) == v)))
            if whole:
                out[col] = [MISSING if np.isnan(x) else f"{int(x)}" for x in v]
            else:
                out[col] = [MISSING if np.isnan(x) else f"{x:.{digits}f}" for x in v]
        else:
            out[col] = s.astype(object).where(s.notna(), MISSING).astype(str)
    return out


def _print_aligned(df: pd.DataFrame, file=None, indent: str = "") -> None:
    """Print ``df`` as an aligned table (text left, numbers right) without the index."""
    import pandas as pd

    file = file or sys.stdout
    t = _tidy(df)
    if t.empty:
        print(f"{indent}(none)", file=file)
        return
    numeric = {c: pd.api.types.is_numeric_dtype(df[c]) for c in df.columns}
    widths = {c: max(len(str(c)), *(len(v) for v in t[c])) for c in t.columns}

    def line(values) -> str:
        cells = [
            (str(v).rjust(widths[c]) if numeric[c] else str(v).ljust(widths[c]))
            for c, v in zip(t.columns, values, strict=True)
        ]
        return indent + "  ".join(cells).rstrip()

    print(line(t.columns), file=file)
    for row in t.itertuples(index=False):
        print(line(row), file=file)


FLAG_ORDER = ("elevated", "low", "as expected", "not assessed", "suppressed")


def _print_flag_result(res, by_name: str = "groups", file=None) -> None:
    """The flag counts as an aligned table, the flagged groups, over-dispersion in words."""
    import pandas as pd

    file = file or sys.stdout
    t = res.table
    counts = t["flag"].value_counts()
    period = res.period.date() if res.period is not None else MISSING
    print(f"{len(t)} {by_name} ({res.mode}, period {period}):", file=file)
    rows = pd.DataFrame(
        {"flag": [f for f in FLAG_ORDER if f in counts.index]},
    )
    rows[by_name] = [int(counts[f]) for f in rows["flag"]]
    if len(rows):
        rows.loc[rows["flag"] == "suppressed", "flag"] = (
            f"suppressed (under {res.min_group_size} persons)"
        )
    _print_aligned(rows, file=file, indent="  ")
    flagged = res.flagged
    if len(flagged):
        cols = [*res.by, "n_persons"]
        cols += [
            c
            for c in (
                "expected_leavers",
                "exit_share",
                "ratio",
                "observed",
                "expected",
                "oe_ratio",
                "q_value",
                "flag",
            )
            if c in flagged.columns
        ]
        print("Flagged:", file=file)
        _print_aligned(flagged[cols], file=file, indent="  ")
    od = res.overdispersion
    if od:
        applied = od.get("applied", "none")
        words = (
            "the groups vary no more than chance allows"
            if applied == "none"
            else f"the groups vary more than chance allows; {applied} correction applied"
        )
        print(
            f"Over-dispersion: {words} (phi {od.get('phi', float('nan')):.2f}, "
            f"p {od.get('p_value', float('nan')):.3f}).",
            file=file,
        )


def _absent_text(absent) -> str:
    """Why features were not built, by what they need: ``"8 not built: no BAT12 survey
    answers (8)"``; empty when nothing is absent."""
    if not absent:
        return ""
    from turnover_risk.panel import FEATURES

    reasons: dict[str, int] = {}
    for name in absent:
        req = FEATURES[name].requires if name in FEATURES else ()
        need = req[0] if req else name
        if need.startswith("surveys["):
            why = f"no {need[8:-1]} survey answers"
        elif "." in need:
            table, column = need.split(".", 1)
            why = f"no {column} column in {table}"
        else:
            why = f"no {need} table"
        reasons[why] = reasons.get(why, 0) + 1
    parts = ", ".join(f"{why} ({n})" for why, n in reasons.items())
    return f"; {len(absent)} features not built: {parts}"


def _steps(total: int, desc: str):
    """A step progress bar on stderr (a silent stand-in when quiet or not a terminal)."""
    from turnover_risk._progress import bar

    return bar(total=total, desc=desc, unit="steps", unit_scale=False)
