"""The end of the report: the data and validation table (collapsed) and the glossary."""

from __future__ import annotations

import html

from turnover_risk.report._format import _date, _details, _int, _table
from turnover_risk.report._phrases import GLOSSARY


def _data_block(register, L, lang) -> str:
    """The register's tables and the validation result, collapsed."""
    from turnover_risk.data import validate

    summary = register.summary()
    rows = [
        [
            r.table,
            _int(r.rows, lang),
            _int(r.persons, lang),
            _date(r.first_date),
            _date(r.last_date),
        ]
        for r in summary.itertuples(index=False)
    ]
    parts = [
        _table(
            [L["table"], L["rows"], L["persons"], L["first_date"], L["last_date"]],
            rows,
            text_cols=(0,),
            table_id="data-summary",
        )
    ]
    report = validate(register)
    if report.ok:
        total = int(report.counts["rows_read"].sum()) if len(report.counts) else 0
        parts.append(f'<p class="ok">{L["validation_ok"].format(rows=_int(total, lang))}</p>')
    else:
        parts.append(f'<p class="bad">{L["validation_bad"].format(n=_int(len(report), lang))}</p>')
        s = report.summary()  # counts per table and rule only: no values, no ids
        parts.append(
            _table(
                [L["table"], L["rule"], L["problems"], L["rows"]],
                [
                    [r.table, r.rule, _int(r.problems, lang), _int(r.rows, lang)]
                    for r in s.itertuples(index=False)
                ],
                text_cols=(0, 1),
            )
        )
    return _details(L["data_table"], "\n".join(parts), "data-details")


def _glossary(lang) -> str:
    items = "".join(
        f"<dt>{html.escape(term)}</dt><dd>{html.escape(text)}</dd>" for term, text in GLOSSARY[lang]
    )
    return f'<dl class="glossary">{items}</dl>'
