"""Chart specs: one assistant's numbers → a Vega-Lite spec per metric, with its text alternative.

A :class:`Chart` carries the spec (None when the metric has nothing to show in the window) and the
same numbers as a small table, which the page puts under the chart for screen readers and anyone
who wants the values; ``summary`` is the one-line alternative of the picture itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pipeline.report.data import AssistantData, ReportWindow, Row

Spec = dict[str, Any]

WIDTH, HEIGHT = 470, 160
CALL_KINDS = ("outbound", "inbound", "web", "other")
SIP_CLASSES = {4: "4xx client", 5: "5xx server", 6: "6xx global"}


@dataclass(frozen=True)
class Chart:
    key: str  # the metric, stable: the page's and the tests' handle on it
    title: str
    summary: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    spec: Spec | None  # None: nothing to draw; ``empty`` says why
    empty: str = ""


def count_text(value: int) -> str:
    return f"{value:,}"


def percent_text(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}"


def seconds_text(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:.1f}"


def assistant_charts(assistant: AssistantData, window: ReportWindow) -> list[Chart]:
    """Every metric's chart for one assistant, in page order."""
    return [build(assistant, window) for build in CHARTS]


def _period(window: ReportWindow) -> str:
    return f"{window.first_day} to {window.last_day}"


def _base(title: str, window: ReportWindow) -> Spec:
    # The page's figcaption is the visible title; Arial (Liberation Sans where there is no Arial)
    # keeps the browser's text as wide as the text Vega measured when it laid the chart out.
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "config": {
            "font": "Arial, 'Liberation Sans', Helvetica, sans-serif",
            "view": {"stroke": None},
            "legend": {"orient": "top", "title": None},
            "axis": {"labelFontSize": 11, "titleFontSize": 11},
        },
        "description": f"{title}, {_period(window)}",
    }


def _day_axis(window: ReportWindow) -> Spec:
    """Every daily chart spans the whole window, so the charts of a page line up day by day."""

    def moment(day: date) -> Spec:
        return {"year": day.year, "month": day.month, "date": day.day, "utc": True}

    return {
        "field": "day",
        "type": "temporal",
        "timeUnit": "utcyearmonthdate",
        "title": None,
        "scale": {"domain": [moment(window.first_day), moment(window.last_day + timedelta(1))]},
        "axis": {"format": "%b %d", "labelOverlap": True, "grid": False},
    }


def daily_calls(assistant: AssistantData, window: ReportWindow) -> Chart:
    title = "Calls per day, by direction"
    values: list[Row] = []
    rows: list[tuple[str, ...]] = []
    for day in assistant.daily:
        kinds = {
            "outbound": day["outbound_calls"] or 0,
            "inbound": day["inbound_calls"] or 0,
            "web": day["web_calls"] or 0,
        }
        kinds["other"] = day["calls"] - sum(kinds.values())
        values += [
            {"day": day["call_date"].isoformat(), "kind": kind, "order": CALL_KINDS.index(kind),
             "calls": calls}
            for kind, calls in kinds.items() if calls
        ]  # fmt: skip
        rows.append(
            (
                day["call_date"].isoformat(),
                count_text(day["calls"]),
                *(count_text(kinds[kind]) for kind in CALL_KINDS),
            )
        )
    total = sum(day["calls"] for day in assistant.daily)
    busiest = max(assistant.daily, key=lambda day: day["calls"], default=None)
    summary = f"{title}, {_period(window)}: {count_text(total)} calls"
    if busiest is not None:
        summary += f"; most on {busiest['call_date']} ({count_text(busiest['calls'])})"
    spec = _base(title, window) | {
        "data": {"values": values},
        "mark": {"type": "bar", "tooltip": True, "width": {"band": 0.85}},
        "encoding": {
            "x": _day_axis(window),
            "y": {"field": "calls", "type": "quantitative", "aggregate": "sum", "title": "calls"},
            "color": {"field": "kind", "type": "nominal", "sort": list(CALL_KINDS)},
            "order": {"field": "order"},
        },
    }
    return Chart(
        "daily_calls",
        title,
        summary,
        ("day", "calls", *CALL_KINDS),
        tuple(rows),
        spec if values else None,
        "No calls in these days.",
    )


def outbound_answer_rate(assistant: AssistantData, window: ReportWindow) -> Chart:
    title = "Outbound answer rate per day"
    days = [day for day in assistant.daily if day["outbound_calls"]]
    outbound = sum(day["outbound_calls"] for day in days)
    answered = sum(day["outbound_answered_calls"] for day in days)
    rate = answered / outbound if outbound else None
    spec = _base(title, window) | {
        "data": {
            "values": [
                {"day": day["call_date"].isoformat(), "answer_rate": day["outbound_answer_rate"]}
                for day in days
            ]
        },
        "mark": {"type": "line", "point": True, "tooltip": True},
        "encoding": {
            "x": _day_axis(window) | {"bandPosition": 0.5},
            "y": {
                "field": "answer_rate",
                "type": "quantitative",
                "title": "answered",
                "scale": {"domain": [0, 1]},
                "axis": {"format": "%"},
            },
        },
    }
    return Chart(
        "outbound_answer_rate",
        title,
        f"{title}, {_period(window)}: {percent_text(rate)} % of {count_text(outbound)} outbound "
        "calls answered",
        ("day", "outbound calls", "answered", "answer rate %"),
        tuple(
            (
                day["call_date"].isoformat(),
                count_text(day["outbound_calls"]),
                count_text(day["outbound_answered_calls"]),
                percent_text(day["outbound_answer_rate"]),
            )
            for day in days
        ),
        spec if days else None,
        "No outbound calls in these days.",
    )


def sip_failures(assistant: AssistantData, window: ReportWindow) -> Chart:
    title = "SIP failures by class"
    rows = [
        (SIP_CLASSES.get(row["sip_class"], f"{row['sip_class']}xx"), row["calls"])
        for row in assistant.sip_classes
    ]
    spec = _base(title, window) | {
        "height": 24 * max(len(rows), 1),
        "data": {"values": [{"class": label, "calls": calls} for label, calls in rows]},
        "mark": {"type": "bar", "tooltip": True, "color": "#c0392b"},
        "encoding": {
            "y": {"field": "class", "type": "nominal", "title": None, "sort": None},
            "x": {"field": "calls", "type": "quantitative", "title": "calls"},
        },
    }
    total = sum(calls for _, calls in rows)
    return Chart(
        "sip_failures",
        title,
        f"{title}, {_period(window)}: {count_text(total)} calls failed with SIP code 400 or above"
        + "".join(f"; {label} {count_text(calls)}" for label, calls in rows),
        ("class", "calls"),
        tuple((label, count_text(calls)) for label, calls in rows),
        spec if rows else None,
        "No SIP failures in these days.",
    )


def end_reasons(assistant: AssistantData, window: ReportWindow) -> Chart:
    title = "End reasons"
    reasons = assistant.end_reasons
    spec = _base(title, window) | {
        "height": 20 * max(len(reasons), 1),
        "data": {
            "values": [{"reason": row["call_end_reason"], "calls": row["calls"]} for row in reasons]
        },
        "mark": {"type": "bar", "tooltip": True, "color": "#6c5ce7"},
        "encoding": {
            "y": {"field": "reason", "type": "nominal", "title": None, "sort": "-x"},
            "x": {"field": "calls", "type": "quantitative", "title": "calls"},
        },
    }
    top = reasons[0] if reasons else None
    summary = f"{title}, {_period(window)}: {count_text(sum(r['calls'] for r in reasons))} calls"
    if top is not None:
        summary += (
            f"; most often {top['call_end_reason']} ({percent_text(top['share_of_calls'])} %)"
        )
    return Chart(
        "end_reasons",
        title,
        summary,
        ("reason", "calls", "share %"),
        tuple(
            (row["call_end_reason"], count_text(row["calls"]), percent_text(row["share_of_calls"]))
            for row in reasons
        ),
        spec if reasons else None,
        "No call reported an end reason in these days.",
    )


def _percentile_lines(
    key: str, title: str, prefix: str, empty: str
) -> Callable[[AssistantData, ReportWindow], Chart]:
    """A chart of the daily p50 and p90 of ``{prefix}`` (seconds), from daily_assistant_metrics."""
    p50, p90 = f"p50_seconds_to_{prefix}", f"p90_seconds_to_{prefix}"

    def build(assistant: AssistantData, window: ReportWindow) -> Chart:
        days = [day for day in assistant.daily if day[p50] is not None]
        values = [
            {"day": day["call_date"].isoformat(), "percentile": name, "seconds": day[column]}
            for day in days
            for name, column in (("p50", p50), ("p90", p90))
            if day[column] is not None
        ]
        spec = _base(title, window) | {
            "data": {"values": values},
            "mark": {"type": "line", "point": True, "tooltip": True},
            "encoding": {
                "x": _day_axis(window) | {"bandPosition": 0.5},
                "y": {"field": "seconds", "type": "quantitative", "title": "seconds"},
                "color": {"field": "percentile", "type": "nominal", "sort": ["p50", "p90"]},
            },
        }
        medians = sorted(day[p50] for day in days)
        summary = f"{title}, {_period(window)}"
        if medians:
            summary += (
                f": daily p50 from {seconds_text(medians[0])} to {seconds_text(medians[-1])} s"
            )
        return Chart(
            key,
            title,
            summary,
            ("day", "p50 s", "p90 s"),
            tuple(
                (day["call_date"].isoformat(), seconds_text(day[p50]), seconds_text(day[p90]))
                for day in days
            ),
            spec if days else None,
            empty,
        )

    return build


def dead_air(assistant: AssistantData, window: ReportWindow) -> Chart:
    title = "Dead air: answered, agent never ready"
    values = [
        {"day": day["call_date"].isoformat(), "calls": day["agent_never_ready_calls"] or 0}
        for day in assistant.daily
    ]
    spec = _base(title, window) | {
        "data": {"values": values},
        "mark": {"type": "bar", "tooltip": True, "color": "#e67e22", "width": {"band": 0.85}},
        "encoding": {
            "x": _day_axis(window),
            "y": {"field": "calls", "type": "quantitative", "title": "calls"},
        },
    }
    total = sum(value["calls"] for value in values)
    return Chart(
        "dead_air",
        title,
        f"{title}, {_period(window)}: {count_text(total)} calls answered whose agent never joined",
        ("day", "dead-air calls"),
        tuple((value["day"], count_text(value["calls"])) for value in values),
        spec if values else None,
        "No calls in these days.",
    )


CHARTS: Sequence[Callable[[AssistantData, ReportWindow], Chart]] = (
    daily_calls,
    outbound_answer_rate,
    sip_failures,
    end_reasons,
    _percentile_lines(
        "time_to_answer",
        "Time to answer (started → answered)",
        "answer",
        "No answered calls in these days.",
    ),
    _percentile_lines(
        "time_to_agent_ready",
        "Time to agent ready (answered → agent ready)",
        "agent_ready",
        "No call has both an answer and an agent-ready time in these days.",
    ),
    dead_air,
)

CHART_KEYS = (
    "daily_calls",
    "outbound_answer_rate",
    "sip_failures",
    "end_reasons",
    "time_to_answer",
    "time_to_agent_ready",
    "dead_air",
)
