"""Formatting for the report: numbers, dates and percentages in bokmål or English, HTML
tables, and figures as inline PNG images.

Numbers follow the language (``nb``: decimal comma, minus sign, no-break space between
thousands; ``en``: as Python writes them); a missing value shows as a dash. ``_table``
writes an HTML table (text or number cells, optional row classes), ``_figure`` makes a
Matplotlib figure without pyplot and ``_img`` embeds it as a base64 PNG, after translating
the English texts of the library's plots for ``lang="nb"``.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import pandas as pd

from turnover_risk.report._labels import PLOT_TEXT_NB


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots()


def _localise(fig, lang: str) -> None:
    """Translate the English texts the library's plot methods draw (axis labels, titles,
    legends) for ``lang="nb"``."""
    if lang != "nb":
        return
    keys = sorted(PLOT_TEXT_NB, key=len, reverse=True)

    def tr(text: str) -> str:
        for k in keys:
            if text.startswith(k):
                rest = text[len(k) :]
                return PLOT_TEXT_NB[k] + rest.replace(".", ",")
        return text

    for ax in fig.axes:
        ax.set_xlabel(tr(ax.get_xlabel()))
        ax.set_ylabel(tr(ax.get_ylabel()))
        ax.set_title(tr(ax.get_title()))
        legend = ax.get_legend()
        if legend is not None:
            for t in legend.get_texts():
                t.set_text(tr(t.get_text()))


def _img(fig, caption: str, img_id: str, lang: str = "en") -> str:
    _localise(fig, lang)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = html.escape(caption)
    return (
        f'<figure><img id="{img_id}" alt="{cap}" src="data:image/png;base64,{data}">'
        f"<figcaption>{cap}</figcaption></figure>"
    )


def _table(header, rows, *, text_cols=(), table_id=None, row_classes=None, raw_cols=()) -> str:
    tid = f' id="{table_id}"' if table_id else ""
    head = "".join(
        f'<th class="{"text" if i in text_cols else "num"}">{html.escape(str(h))}</th>'
        for i, h in enumerate(header)
    )
    body = []
    for k, r in enumerate(rows):
        cls = f' class="{html.escape(str(row_classes[k]))}"' if row_classes else ""
        cells = "".join(
            f'<td class="{"text" if i in text_cols else "num"}">'
            f"{v if i in raw_cols or str(v).startswith('<span') else html.escape(str(v))}</td>"
            for i, v in enumerate(r)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table{tid}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _missing(x) -> bool:
    return (
        x is None
        or (isinstance(x, float) and np.isnan(x))
        or x is pd.NA
        or (not isinstance(x, str) and pd.isna(x))
    )


def _num(x, lang, digits=2, signed=False) -> str:
    if _missing(x):
        return "–"
    s = f"{float(x):+.{digits}f}" if signed else f"{float(x):.{digits}f}"
    return s.replace(".", ",").replace("-", "−") if lang == "nb" else s


def _int(x, lang) -> str:
    if _missing(x):
        return "–"
    s = f"{int(round(float(x))):,}"
    return s.replace(",", "\u00a0") if lang == "nb" else s


def _pct(x, lang) -> str:
    return "–" if _missing(x) else _num(100 * float(x), lang, 1) + " %"


def _interval(lo, hi, lang, digits) -> str:
    if _missing(lo) or _missing(hi):
        return "–"
    return f"{_num(lo, lang, digits)}–{_num(hi, lang, digits)}"


def _date(x) -> str:
    return "–" if _missing(x) else pd.Timestamp(x).date().isoformat()


def _key(row, by) -> str:
    return " / ".join(str(row[c]) for c in by)


def _flag(flag: str, L) -> str:
    label = html.escape(L.get(f"flag_{flag}", flag))
    return f'<span class="flag-{html.escape(flag.replace(" ", "-"))}">{label}</span>'
