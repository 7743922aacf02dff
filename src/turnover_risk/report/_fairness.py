"""The report section "Is the model fair, and still valid?" (from the audit and the drift check).

:func:`_fairness_section` runs :func:`~turnover_risk.audit` on the panel's labelled rows (by
gender and age band, when the register has them) and :func:`~turnover_risk.check_drift` on the
latest ``horizon`` periods (the rows a prospective flag scores), then renders the sentences and
tables of :func:`turnover_risk.governance._summary.fairness_summary` as HTML. Only shown groups
appear; groups under ``min_group_size`` are suppressed by the audit.
"""

from __future__ import annotations

import html
import re
import warnings
from typing import Any

import pandas as pd

from turnover_risk.governance import audit as run_audit
from turnover_risk.governance import check_drift
from turnover_risk.governance._summary import fairness_summary
from turnover_risk.panel import panel_spec
from turnover_risk.report._format import _img, _localise_axes, _table

__all__ = ["SECTION_ID", "_audit_parts", "_fairness_section"]

SECTION_ID = "fairness"
AUDIT_BOOT = 200


def _value_then_interval(cell: Any) -> str:
    """A cell of the audit table as HTML: "27.5 % (20.5 %-35.4 %)" may wrap before its
    interval, never inside the value or the interval (the table is wider than the page)."""
    text = str(cell)
    if " (" not in text:
        return html.escape(text)
    value, interval = text.split(" (", 1)
    return (
        f'<span class="nowrap">{html.escape(value)}</span> '
        f'<span class="nowrap">({html.escape(interval)}</span>'
    )


def _named(text: str, lang: str) -> str:
    """Feature code names in ``text`` replaced by their words in ``lang``."""
    from turnover_risk.groups import feature_label
    from turnover_risk.panel import FEATURES

    for name in sorted(FEATURES, key=len, reverse=True):  # longest first: no partial hits
        if name in text:  # whole words only: "fte" is not replaced inside "drifted"
            text = re.sub(rf"\b{re.escape(name)}\b", feature_label(name, lang), text)
    return text


def _latest(panel: pd.DataFrame, horizon: int) -> pd.DataFrame:
    spec = panel_spec(panel)
    periods = pd.Series(panel[spec.period_col].unique()).sort_values()
    return panel[panel[spec.period_col] >= periods.iloc[-min(len(periods), max(1, horizon))]]


def _audit_or_none(model, panel, register, min_group_size, random_state):
    for by in (("gender", "age_band"), ("age_band",), ("gender",)):
        try:
            return run_audit(
                model, panel, by=by, register=register, n_boot=AUDIT_BOOT,
                min_group_size=min_group_size, random_state=random_state,
            )  # fmt: skip
        except (ValueError, KeyError):
            continue
    return None


def _fairness_section(
    model: Any,
    panel: pd.DataFrame,
    register: Any,
    lang: str,
    horizon: int,
    min_group_size: int,
    *,
    audit: Any = None,
    drift: Any = None,
    random_state: int | None = 0,
    audit_parts: list[str] | None = None,
) -> tuple[str, str]:
    """``(title, html body)`` of the section, in ``lang`` ("nb" or "en").

    ``audit_parts``: the audit's part of the body (:func:`_audit_parts`) when written
    elsewhere (the command line's report worker); else the audit is run here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if audit is None and audit_parts is None:
            audit = _audit_or_none(model, panel, register, min_group_size, random_state)
        if drift is None:
            if getattr(model, "input_profile_", None) is None:
                drift = "no_profile"
            else:
                drift = check_drift(model, _latest(panel, horizon))
    if audit_parts is None:
        audit_parts = _audit_parts(audit, lang)
    title = fairness_summary(lang=lang)["title"]
    return title, "\n".join([*audit_parts, *_drift_parts(drift, lang)])


def _audit_parts(audit: Any, lang: str) -> list[str]:
    """The audit's sentences, table and figure (HTML pieces; none without an audit)."""
    s = fairness_summary(audit, None, lang=lang)
    parts = [f"<p>{html.escape(x)}</p>" for x in s["audit_sentences"]]
    if s["audit_table"] is not None:
        t = s["audit_table"]
        rows = [[_value_then_interval(c) for c in row] for row in t["rows"]]
        parts.append(
            _table(
                t["header"],
                rows,
                text_cols=(0,),
                table_id="fairness-audit",
                raw_cols=range(len(t["header"])),
            )
        )
        axes = audit.plot(labels=t["labels"], titles=t["titles"])
        for ax in axes:  # decimal commas in bokmål; the group labels stay as given
            _localise_axes(ax, lang, y=None)
        alt = {
            "nb": "Figur: treffsikkerhet per gruppe (kjønn og aldersgruppe), med intervaller, "
            "sammenlignet med resten av de ansatte.",
            "en": "Figure: accuracy by group (gender and age band), with intervals, compared "
            "with the rest of the staff.",
        }[lang]
        parts.append(_img(axes[0].figure, s["title"], "fairness-plot", alt, lang))
        import matplotlib.pyplot as plt

        plt.close(axes[0].figure)
    return parts


def _drift_parts(drift: Any, lang: str) -> list[str]:
    """The drift check's sentences and table (HTML pieces), feature names in words."""
    s = fairness_summary(None, drift, lang=lang)
    s["drift_sentences"] = [_named(x, lang) for x in s["drift_sentences"]]
    if s["drift_table"] is not None:
        s["drift_table"]["rows"] = [
            [_named(str(r[0]), lang), *r[1:]] for r in s["drift_table"]["rows"]
        ]
    parts = [f"<p>{html.escape(x)}</p>" for x in s["drift_sentences"]]
    if s["drift_table"] is not None and s["drift_table"]["rows"]:
        t = s["drift_table"]
        parts.append(_table(t["header"], t["rows"], text_cols=(0, 2, 5), table_id="fairness-drift"))
        if t.get("note"):
            parts.append(f'<p class="note">{html.escape(t["note"])}</p>')
    return parts
