"""The funnel plots drawn by the report worker (``cli/_report_worker.py``).

The command sends the flags' table (Arrow, ``cli/_report_inputs.pack``) and the few other
attributes a plot reads (JSON); :func:`draw` answers the plot's HTML, drawn by the report's
own function (``report/_group_sections.py``) from the same values, so the page is the same as
when the command draws it.
"""

from __future__ import annotations

from turnover_risk.cli import _report_inputs

FIGURE = "report-figure"
FIGURES = {
    "funnel": ("info", "alpha", "fdr"),  # the prospective flags' funnel plot
    "retro": ("overdispersion",),  # the backtest's
}
"""The funnel plots the worker draws, and the attributes of the flags they need (besides the
table)."""


def draw(head: dict, body: bytes) -> tuple[dict, bytes]:
    """The worker's answer to a :data:`FIGURE` request: the funnel plot's HTML, drawn by the
    report's own function (``report/_group_sections.py``) from the flags' table and
    attributes."""
    import warnings
    from types import SimpleNamespace

    from threadpoolctl import threadpool_limits

    name = head.get("name")
    answer = {"job": f"{FIGURE}-{name}"}
    try:
        from turnover_risk.report._group_sections import _funnel_part, _retro_part
        from turnover_risk.report._labels import LABELS

        if name not in FIGURES or set(head["attrs"]) != set(FIGURES[name]):
            raise ValueError(f"no funnel plot {name!r}")
        table = _report_inputs.unpack(head["frames"], body)["table"]
        flags = SimpleNamespace(table=table, **head["attrs"])
        part_of = _funnel_part if name == "funnel" else _retro_part
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            part = part_of(flags, head["by"], LABELS[head["lang"]], head["lang"])
        return {**answer, "ok": True}, part.encode("utf-8")
    except Exception as err:  # the report draws it
        return {**answer, "ok": False, "error": f"{type(err).__name__}: {err}"}, b""
