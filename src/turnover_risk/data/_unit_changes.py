"""Units renamed or merged: follow each unit to its latest id (private; public function
:func:`follow_unit_changes`).

The optional ``unit_changes`` table (``old_unit_id``, ``new_unit_id``, ``date``) records that a
unit continued under another id from ``date`` on: a rename (U12 -> U12A) or a merge (U3 and U4
-> U34). The rates and the panel read every spell's unit through :func:`follow_unit_changes`,
so a person whose spell in U12 ends the day before the change and whose spell in U12A starts on
it stays in the same unit: no exit, no hire, and the unit's features and rates continue under
its latest id over its whole history.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["follow_unit_changes"]


def _latest(changes: pd.DataFrame) -> dict[str, str]:
    """old id -> latest id, following chains (U1 -> U2 -> U3); loops are left where they
    close (validation reports them)."""
    rows = changes[["old_unit_id", "new_unit_id"]].dropna().astype(str)
    step = dict(zip(rows["old_unit_id"], rows["new_unit_id"], strict=True))
    out = {}
    for old in step:
        seen, unit = {old}, step[old]
        while unit in step and unit not in seen:
            seen.add(unit)
            unit = step[unit]
        out[old] = unit
    return out


def follow_unit_changes(unit_ids: pd.Series, unit_changes: pd.DataFrame | None) -> pd.Series:
    """Each unit id replaced by the latest id the ``unit_changes`` table leads it to.

    Parameters
    ----------
    unit_ids : Series
        Unit ids (e.g. ``register.employment["unit_id"]``).
    unit_changes : DataFrame or None
        ``old_unit_id``, ``new_unit_id`` (and ``date``); None or empty changes nothing.

    Returns
    -------
    Series
        The ids, same index and dtype; ids without a change are unchanged.

    Examples
    --------
    >>> import pandas as pd
    >>> from turnover_risk.data import follow_unit_changes
    >>> changes = pd.DataFrame({"old_unit_id": ["U12", "U12A"], "new_unit_id": ["U12A", "U1"],
    ...                         "date": pd.to_datetime(["2022-09-01", "2023-01-01"])})
    >>> follow_unit_changes(pd.Series(["U12", "U14", "U12A"]), changes).tolist()
    ['U1', 'U14', 'U1']
    """
    if unit_changes is None or len(unit_changes) == 0:
        return unit_ids
    missing = {"old_unit_id", "new_unit_id"} - set(unit_changes.columns)
    if missing:
        raise ValueError(
            f"the unit_changes table lacks columns {sorted(missing)}; it needs old_unit_id, "
            "new_unit_id and date."
        )
    latest = _latest(unit_changes)
    codes, uniques = pd.factorize(unit_ids)
    mapped = pd.Index(uniques).astype(str).map(lambda u: latest.get(u, u))
    new = pd.Index(uniques).where(~pd.Index(uniques).astype(str).isin(list(latest)), mapped)
    out = pd.Series(new.take(codes), index=unit_ids.index, name=unit_ids.name)
    out[codes < 0] = pd.NA
    return out.astype(unit_ids.dtype)
