"""Formatting for the report: numbers, dates and percentages in bokmål or English, HTML
tables, and figures as inline PNG images with alt text and a readable legend.

Numbers follow the language: ``nb`` writes a decimal comma, the minus sign and a narrow
no-break space between thousands (``1 234,5``), ``en`` a decimal point and a thousands comma;
a missing value shows as a dash. The same rules format the tick labels of every figure
(:func:`_localise_axes`). ``_table`` writes an HTML table (text or number cells, optional row
classes), ``_figure`` makes a Matplotlib figure without pyplot and ``_img`` embeds it as a
base64 SVG image inside a ``<figure>`` whose caption also lists the figure's legend entries, so a
reader of the page (or a test) sees every line that is drawn.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import pandas as pd

THIN = "\u202f"
"""Narrow no-break space: the thousands separator of bokmål (``1 234``)."""

NBSP = "\u00a0"

OKABE_ITO: dict[str, str] = {
    # colour-blind-safe palette (Okabe & Ito 2008)
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
SERIES = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
"""Line colours in order (Okabe–Ito, dark ones first)."""

MONTHS_NB = (
    "januar februar mars april mai juni juli august september oktober november desember".split()
)
MONTHS_EN = (
    "January February March April May June July August September October November December".split()
)


def _missing(x) -> bool:
    return (
        x is None
        or (isinstance(x, float) and np.isnan(x))
        or x is pd.NA
        or (not isinstance(x, str) and pd.isna(x))
    )


def _num(x, lang, digits=2, signed=False) -> str:
    """``1234.5 -> "1 234,5"`` (nb) or ``"1,234.5"`` (en); a dash when missing."""
    if _missing(x):
        return "–"
    value = float(x)
    if round(value, digits) == 0:
        value = 0.0  # no "-0,0"
    s = f"{value:+,.{digits}f}" if signed else f"{value:,.{digits}f}"
    if lang == "nb":
        s = s.replace(",", THIN).replace(".", ",").replace("-", "−")
    return s


def _int(x, lang) -> str:
    return "–" if _missing(x) else _num(round(float(x)), lang, 0)


def _pct(x, lang, digits=1) -> str:
    """A share as a percentage: ``0.183 -> "18,3 %"`` (nb) or ``"18.3%"`` (en)."""
    if _missing(x):
        return "–"
    return _num(100 * float(x), lang, digits) + (f"{NBSP}%" if lang == "nb" else "%")


def _pp(x, lang, digits=1) -> str:
    """Percentage points from a share difference, signed: ``0.05 -> "+5,0 prosentpoeng"``."""
    unit = "prosentpoeng" if lang == "nb" else "percentage points"
    return f"{_num(100 * float(x), lang, digits, signed=True)}{NBSP}{unit}"


def _interval(lo, hi, lang, digits) -> str:
    if _missing(lo) or _missing(hi):
        return "–"
    return f"{_num(lo, lang, digits)}–{_num(hi, lang, digits)}"


def _date(x, lang="en", long=False) -> str:
    """ISO date, or in words: ``"1. januar 2025"`` (nb) / ``"1 January 2025"`` (en)."""
    if _missing(x):
        return "–"
    d = pd.Timestamp(x)
    if not long:
        return d.date().isoformat()
    if lang == "nb":
        return f"{d.day}. {MONTHS_NB[d.month - 1]} {d.year}"
    return f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}"


def _under(min_group_size: int, lang: str) -> str:
    """What a suppressed count shows instead of its value: "hidden", never a number (a group
    under ``min_group_size``, or one the privacy layer hides so it cannot be subtracted out)."""
    return "skjult" if lang == "nb" else "hidden"


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------


def _figure(width: float, height: float, *, left=0.7, bottom=0.45, right=0.15, top=0.12):
    """A figure with one axes and fixed margins in inches (a layout engine would double the
    time it takes to draw); ``bottom`` leaves room for a legend under the axes when needed."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height
    )
    ax = fig.subplots()
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, color="#e3e7ea", lw=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _tick_formatter(lang: str, kind: str = "num", digits: int | None = None):
    """A Matplotlib formatter writing tick values as the language does (decimal comma, thin
    thousands space and minus sign in bokmål); ``kind="pct"`` for shares shown as percent."""
    from matplotlib.ticker import FuncFormatter

    def fmt(value, _pos=None):
        if kind == "pct":
            v = 100 * value
            d = digits if digits is not None else (0 if abs(v - round(v)) < 1e-9 else 1)
            return _num(v, lang, d) + (f"{NBSP}%" if lang == "nb" else "%")
        d = digits
        if d is None:
            d = (
                0
                if abs(value - round(value)) < 1e-9
                else (1 if abs(value * 10 - round(value * 10)) < 1e-9 else 2)
            )
        return _num(value, lang, d)

    return FuncFormatter(fmt)


def _localise_axes(ax, lang: str, *, x: str | None = "num", y: str | None = "num") -> None:
    """Tick labels in the language's number format (``None`` keeps an axis as is)."""
    if x:
        ax.xaxis.set_major_formatter(_tick_formatter(lang, x))
    if y:
        ax.yaxis.set_major_formatter(_tick_formatter(lang, y))


def _legend_labels(fig) -> list[str]:
    labels: list[str] = []
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None:
            labels += [t.get_text() for t in legend.get_texts()]
    return labels


def _img(fig, caption: str, img_id: str, alt: str, lang: str = "en") -> str:
    """The figure as an inline PNG with alt text; the caption lists the legend entries.

    The number of legend entries is written as ``data-legend-entries`` and the number of
    drawn, labelled elements (lines and point sets) as ``data-drawn``, so a test can check that
    every element of the figure is in its legend.
    """
    legend = _legend_labels(fig)
    drawn = 0
    for ax in fig.axes:
        items = list(ax.get_lines()) + list(ax.collections)
        drawn += sum(1 for a in items if a.get_visible() and not str(a.get_label()).startswith("_"))
    import matplotlib

    buf = io.BytesIO()
    # SVG: sharp on screen and on paper, and quicker to write than a PNG; text stays text
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": img_id}):
        fig.savefig(
            buf, format="svg", metadata=dict.fromkeys(("Date", "Creator", "Format", "Type"))
        )
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    key = "Forklaring" if lang == "nb" else "Legend"
    legend_html = (
        f' <span class="legend-list">{key}: '
        + "; ".join(f'<span class="legend-entry">{html.escape(t)}</span>' for t in legend)
        + ".</span>"
        if legend
        else ""
    )
    return (
        f'<figure data-legend-entries="{len(legend)}" data-drawn="{drawn}">'
        f'<img id="{img_id}" alt="{html.escape(alt)}" src="data:image/svg+xml;base64,{data}">'
        f"<figcaption>{html.escape(caption)}{legend_html}</figcaption></figure>"
    )


# ---------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------


def _table(header, rows, *, text_cols=(), table_id=None, row_classes=None, raw_cols=()) -> str:
    tid = f' id="{table_id}"' if table_id else ""
    head = "".join(
        f'<th scope="col" class="{"text" if i in text_cols else "num"}">{html.escape(str(h))}</th>'
        for i, h in enumerate(header)
    )
    body = []
    for k, r in enumerate(rows):
        cls = f' class="{html.escape(str(row_classes[k]))}"' if row_classes else ""
        cells = "".join(
            f'<td class="{"text" if i in text_cols else "num"}">'
            f"{v if i in raw_cols else html.escape(str(v))}</td>"
            for i, v in enumerate(r)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table{tid}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _details(summary: str, body: str, details_id: str | None = None) -> str:
    """A collapsible block (``<details>``), closed by default."""
    did = f' id="{details_id}"' if details_id else ""
    return f"<details{did}><summary>{html.escape(summary)}</summary>\n{body}\n</details>"


def _flag(flag: str, L) -> str:
    label = html.escape(L.get(f"flag_{flag}", flag))
    return f'<span class="flag-{html.escape(flag.replace(" ", "-"))}">{label}</span>'
