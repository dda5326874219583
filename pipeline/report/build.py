"""`calllogs report`: warehouse → numbers → chart specs → SVG → one HTML file, written whole."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import reduce
from pathlib import Path

from markupsafe import Markup

from pipeline.errors import ReportError
from pipeline.report.charts import Chart, assistant_charts
from pipeline.report.data import AssistantData, ReportWindow, Totals, load_assistants, report_window
from pipeline.report.page import AssistantSection, DrawnChart, render_page
from pipeline.report.render import render_svg
from pipeline.warehouse import Warehouse
from pipeline.wording import count


@dataclass(frozen=True)
class ReportResult:
    path: Path
    window: ReportWindow | None
    assistants: int
    charts: int  # charts drawn; a metric with nothing to show in the window is a note, not a chart
    seconds: float

    def summary(self) -> str:
        if self.window is None:
            return f"wrote {self.path}: no calls in the warehouse yet, nothing to chart"
        return (
            f"wrote {self.path}: {count(self.assistants, 'assistant')}, "
            f"{count(self.charts, 'chart')}, {self.window.first_day} .. {self.window.last_day} "
            f"in {self.seconds:.1f}s"
        )


def build_report(
    warehouse: Warehouse, out: Path, *, days: int, now: datetime | None = None
) -> ReportResult:
    """Write the report of the last ``days`` days of data present to ``out``."""
    started = time.perf_counter()
    window = report_window(warehouse, days)
    assistants = load_assistants(warehouse, window) if window is not None else []
    sections = _sections(assistants, window) if window is not None else []
    page = render_page(
        window=window,
        requested_days=days,
        totals=reduce(lambda a, b: a + b, (a.totals for a in assistants), Totals()),
        sections=sections,
        generated_at=now or datetime.now(UTC),
        warehouse_name=warehouse.path.name,
    )
    _write_atomically(out, page)
    drawn = sum(1 for section in sections for chart in section.charts if chart.svg is not None)
    return ReportResult(out, window, len(sections), drawn, time.perf_counter() - started)


def _sections(assistants: list[AssistantData], window: ReportWindow) -> list[AssistantSection]:
    return [
        AssistantSection(
            assistant,
            f"assistant-{index}",
            [_drawn(chart) for chart in assistant_charts(assistant, window)],
        )
        for index, assistant in enumerate(assistants, 1)
    ]


def _drawn(chart: Chart) -> DrawnChart:
    if chart.spec is None:
        return DrawnChart(chart, None)
    # Vega wrote this SVG and escaped every text it holds; the page inserts it as markup.
    return DrawnChart(chart, Markup(render_svg(chart.spec)))  # noqa: S704


def _write_atomically(out: Path, text: str) -> None:
    """A reader (or a browser reloading) sees the old page or the new one, never half of one."""
    directory = out.parent if str(out.parent) else Path(".")
    if not directory.is_dir():
        raise ReportError(f"cannot write {out}: the directory {directory} does not exist")
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=directory)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(temporary, 0o644)
            os.replace(temporary, out)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ReportError(f"cannot write {out}: {exc.strerror or exc}") from None
