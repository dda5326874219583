"""The HTML page: one self-contained file (inline CSS and SVG), from the template beside it.

Everything from the warehouse is escaped by Jinja's autoescape; only the SVG that
:mod:`pipeline.report.render` drew is inserted as markup.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import jinja2
from markupsafe import Markup

from pipeline.report.charts import Chart, count_text, percent_text
from pipeline.report.data import AssistantData, ReportWindow, Totals


@dataclass(frozen=True)
class DrawnChart:
    chart: Chart
    svg: Markup | None  # None: the chart had nothing to draw


@dataclass(frozen=True)
class AssistantSection:
    assistant: AssistantData
    anchor: str
    charts: list[DrawnChart]


@cache
def _template() -> jinja2.Template:
    source = importlib.resources.files("pipeline.report").joinpath("page.html.j2")
    environment = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    environment.filters["count"] = count_text
    environment.filters["percent"] = percent_text
    return environment.from_string(source.read_text(encoding="utf-8"))


def render_page(
    *,
    window: ReportWindow | None,
    requested_days: int,
    totals: Totals,
    sections: list[AssistantSection],
    generated_at: datetime,
    warehouse_name: str,
) -> str:
    return _template().render(
        window=window,
        requested_days=requested_days,
        totals=totals,
        sections=sections,
        generated_at=generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        warehouse_name=warehouse_name,
    )
