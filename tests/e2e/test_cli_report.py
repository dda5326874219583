"""`calllogs report` as a user runs it: a real process on a warehouse synced from the simulator.

The page is parsed (stdlib HTMLParser) and held to what it promises: a chart per metric for every
assistant, nothing loaded from anywhere (no script, stylesheet, font or image by URL), no secret,
and text alternatives whose numbers equal the warehouse's, recomputed here with SQL of our own.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.warehouse import Warehouse
from simulator import SimulatorConfig, SimulatorServer
from tests.e2e.helpers import warehouse_rows
from tests.e2e.test_cli import run
from tests.simulator_client import FROZEN_NOW
from tests.test_metrics_truth import START, sync_three_days

METRICS = (
    "daily_calls",
    "outbound_answer_rate",
    "sip_failures",
    "end_reasons",
    "time_to_answer",
    "time_to_agent_ready",
    "dead_air",
)
SECRET_KEY = "sk-report-SECRET-5a4b3c2d1e"
HOSTILE_NAME = '<script>alert("x")</script> Sales & Co'
VOID = {"meta", "link", "br", "hr", "img", "input", "source", "col", "wbr", "area", "base"}
EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find_all(self, tag: str) -> list[Node]:
        return [node for node in self.walk() if node.tag == tag]

    def all_text(self) -> str:
        return "".join(self.text) + "".join(child.all_text() for child in self.children)


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].text.append(data)


def parse(page: str) -> Node:
    builder = TreeBuilder()
    builder.feed(page)
    builder.close()
    return builder.root


def table_rows(figure: Node) -> list[list[str]]:
    (details,) = figure.find_all("details")
    (body,) = details.find_all("tbody")
    return [[cell.all_text().strip() for cell in row.find_all("td")] for row in body.find_all("tr")]


def charts_by_assistant(root: Node) -> dict[str, dict[str, Node]]:
    return {
        section.attrs["data-assistant"]: {
            figure.attrs["data-metric"]: figure for figure in section.find_all("figure")
        }
        for section in root.find_all("section")
    }


def external_references(root: Node, page: str) -> list[str]:
    """Everything that would make a browser load something: anything but an <a> link."""
    found: list[str] = []
    for node in root.walk():
        if node.tag == "script":
            found.append(f"<script {node.attrs}>")
        if node.tag == "link" and "stylesheet" in node.attrs.get("rel", "").lower():
            found.append(f"<link {node.attrs}>")
        for name, value in node.attrs.items():
            if name in {"src", "href", "xlink:href", "srcset", "data", "poster", "action"}:
                if node.tag == "a" and name == "href":
                    continue
                if not value.startswith("#"):
                    found.append(f"<{node.tag} {name}={value!r}>")
            if name == "style" and "url(" in value.lower():
                found.append(f"<{node.tag} style={value!r}>")
    styles = " ".join(node.all_text() for node in root.find_all("style"))
    if "@import" in styles or "@font-face" in styles:
        found.append("@import or @font-face in a <style>")
    urls = re.findall(r"url\(\s*['\"]?([^)'\"]*)", page)
    found += [f"url({url})" for url in urls if EXTERNAL.match(url)]
    return found


@dataclass(frozen=True)
class Built:
    data_dir: Path
    warehouse: Path
    env: dict[str, str]
    page: str
    root: Node
    result: subprocess.CompletedProcess[str]
    renamed: str  # the assistant whose /assistant/list name is hostile HTML


def report_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALL_LOGS_", "DAGSTER_"))}
    env.update(CALL_LOGS_DATA_DIR=str(data_dir), CALL_LOGS_API_KEY=SECRET_KEY)
    env.update(CALL_LOGS_API_URL="http://127.0.0.1:9")  # set, and never contacted
    return env


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    data_dir = tmp_path_factory.mktemp("report") / "data"
    config = SimulatorConfig(seed=3, now=FROZEN_NOW, history_days=4, calls_per_day=120)
    with SimulatorServer(config) as sim:
        warehouse = sync_three_days(sim, data_dir)
        renamed = sim.assistant_ids[0]
    con = duckdb.connect(str(warehouse.path))
    try:  # as a sync records an assistant that /assistant/list names
        con.execute(
            "INSERT INTO assistants VALUES (?, ?, now(), now(), 'synced', NULL, NULL)",
            [renamed, HOSTILE_NAME],
        )
    finally:
        con.close()
    env = report_env(data_dir)
    out = data_dir.parent / "report.html"
    result = run(["report", "--out", str(out)], env)
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    return Built(data_dir, warehouse.path, env, page, parse(page), result, renamed)


def rows(built: Built, sql: str, *params: object) -> list[tuple[Any, ...]]:
    return warehouse_rows(built.warehouse, sql, list(params))


def number(value: int) -> str:
    return f"{value:,}"


def percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}"


def seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def test_the_page_has_a_drawn_chart_per_metric_for_every_assistant(built: Built) -> None:
    assistants = {row[0] for row in rows(built, "SELECT assistant_id FROM daily_assistant_metrics")}
    charts = charts_by_assistant(built.root)
    assert set(charts) == assistants and len(assistants) == 4
    for assistant, figures in charts.items():
        assert tuple(figures) == METRICS, assistant
        for metric, figure in figures.items():
            (caption,) = figure.find_all("figcaption")
            assert caption.all_text().strip(), (assistant, metric)
            (chart,) = [node for node in figure.find_all("div") if node.attrs.get("role") == "img"]
            assert chart.attrs["aria-label"].startswith(caption.all_text().strip())
            assert len(chart.find_all("svg")) == 1, (assistant, metric)
            assert table_rows(figure), (assistant, metric)
    assert f"wrote {built.data_dir.parent / 'report.html'}: 4 assistants, 28 charts, " in (
        built.result.stdout
    )
    assert built.result.stderr == ""


def test_the_page_loads_nothing_and_holds_no_secret(built: Built) -> None:
    assert external_references(built.root, built.page) == []
    assert SECRET_KEY not in built.page
    # a name from the API is text on the page, never markup
    assert "<script" not in built.page.lower()
    assert "&lt;script&gt;" in built.page
    names = {
        section.attrs["data-assistant"]: section.find_all("h2")[0].all_text()
        for section in built.root.find_all("section")
    }
    assert names[built.renamed] == HOSTILE_NAME


def test_the_checker_sees_every_kind_of_external_reference() -> None:
    for snippet in (
        '<script src="https://cdn.example/vega.js"></script>',
        "<script>console.log(1)</script>",
        '<link rel="stylesheet" href="https://cdn.example/a.css">',
        "<style>@import 'https://cdn.example/a.css';</style>",
        "<style>body { background: url(http://cdn.example/bg.png) }</style>",
        '<img src="//cdn.example/logo.png">',
        '<svg><image xlink:href="https://cdn.example/x.png"/></svg>',
    ):
        assert external_references(parse(snippet), snippet), snippet
    fine = '<a href="https://recordings.example/1.mp3">rec</a><svg><use xlink:href="#m1"/></svg>'
    assert external_references(parse(fine), fine) == []


def test_the_header_totals_equal_the_warehouse(built: Built) -> None:
    ((calls, answered, outbound, outbound_answered, sip, dead_air, billable),) = rows(
        built,
        "SELECT sum(calls), sum(answered_calls), sum(outbound_calls), "
        "sum(outbound_answered_calls), sum(sip_failure_calls), sum(agent_never_ready_calls), "
        "sum(billable_minutes) FROM daily_assistant_metrics",
    )
    totals = {
        node.attrs["data-total"]: node.all_text().strip()
        for node in built.root.walk()
        if "data-total" in node.attrs
    }
    assert totals == {
        "assistants": "4",
        "calls": number(calls),
        "answer_rate": f"{percent(answered / calls)} %",
        "outbound_answer_rate": f"{percent(outbound_answered / outbound)} %",
        "sip_failure_calls": number(sip),
        "agent_never_ready_calls": number(dead_air),
        "billable_minutes": number(billable),
    }
    ((first, last),) = rows(
        built, "SELECT min(call_date), max(call_date) FROM daily_assistant_metrics"
    )
    assert last == FROZEN_NOW.date() and first == START
    (window,) = [n for n in built.root.walk() if "data-window" in n.attrs]
    assert window.attrs["data-window"] == f"{first}/{last}"  # 30 days asked, 3 present


def test_the_text_alternatives_hold_the_warehouses_numbers(built: Built) -> None:
    charts = charts_by_assistant(built.root)
    for assistant, figures in charts.items():
        daily = rows(
            built,
            "SELECT call_date, calls, outbound_calls, inbound_calls, web_calls, "
            "outbound_answered_calls, outbound_answer_rate, p50_seconds_to_answer, "
            "p90_seconds_to_answer, p50_seconds_to_agent_ready, p90_seconds_to_agent_ready, "
            "agent_never_ready_calls FROM daily_assistant_metrics WHERE assistant_id = ? "
            "ORDER BY call_date",
            assistant,
        )
        assert table_rows(figures["daily_calls"]) == [
            [str(d), number(c), number(o), number(i), number(w), number(c - o - i - w)]
            for d, c, o, i, w, *_ in daily
        ]
        assert table_rows(figures["outbound_answer_rate"]) == [
            [str(r[0]), number(r[2]), number(r[5]), percent(r[6])] for r in daily if r[2]
        ]
        assert table_rows(figures["time_to_answer"]) == [
            [str(r[0]), seconds(r[7]), seconds(r[8])] for r in daily if r[7] is not None
        ]
        assert table_rows(figures["time_to_agent_ready"]) == [
            [str(r[0]), seconds(r[9]), seconds(r[10])] for r in daily if r[9] is not None
        ]
        assert table_rows(figures["dead_air"]) == [[str(r[0]), number(r[11])] for r in daily]

        sip = rows(
            built,
            "SELECT sip_class, sum(calls) FROM sip_failures "
            "WHERE assistant_id = ? GROUP BY sip_class ORDER BY sip_class",
            assistant,
        )
        assert [(label[0], calls) for label, calls in table_rows(figures["sip_failures"])] == [
            (str(sip_class), number(calls)) for sip_class, calls in sip
        ]
        reasons = rows(
            built,
            "SELECT call_end_reason, sum(calls) AS n FROM call_end_reasons "
            "WHERE assistant_id = ? GROUP BY ALL ORDER BY n DESC, call_end_reason",
            assistant,
        )
        with_reason = sum(n for _, n in reasons)
        assert table_rows(figures["end_reasons"]) == [
            [reason, number(n), percent(n / with_reason)] for reason, n in reasons
        ]


def test_days_counts_back_from_the_latest_day_with_calls(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "two.html"
    result = run(["report", "--days", "2", "--out", str(out)], built.env)
    assert result.returncode == 0, result.stderr
    root = parse(out.read_text(encoding="utf-8"))
    last = FROZEN_NOW.date()
    (window,) = [n for n in root.walk() if "data-window" in n.attrs]
    assert window.attrs["data-window"] == f"{last - timedelta(days=1)}/{last}"
    for figures in charts_by_assistant(root).values():
        days = [row[0] for row in table_rows(figures["daily_calls"])]
        assert days == [str(last - timedelta(days=1)), str(last)]


def test_without_a_warehouse_it_says_to_sync_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = run(["report", "--out", str(out)], report_env(tmp_path / "nothing"))
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("calllogs: error: no warehouse at ")
    assert "run `calllogs sync` first" in line and "calllogs demo" in line
    assert not out.exists()


def test_a_warehouse_without_calls_gets_a_page_that_says_so(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    Warehouse(data_dir / "warehouse.duckdb").ensure_schema()
    out = tmp_path / "report.html"
    result = run(["report", "--out", str(out)], report_env(data_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {out}: no calls in the warehouse yet, nothing to chart"
    root = parse(out.read_text(encoding="utf-8"))
    (empty,) = [n for n in root.walk() if n.attrs.get("data-empty") == "no-calls"]
    assert "No calls in the warehouse yet" in empty.all_text()
    assert root.find_all("figure") == [] and root.find_all("svg") == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--days", "0"], 2, "argument --days: '0' is not a number of days from 1 to 3660"),
        (["--days", "x"], 2, "argument --days: 'x' is not a number of days from 1 to 3660"),
        (["--out", "missing/dir/r.html"], 1, "cannot write missing/dir/r.html: the directory "),
    ],
)
def test_bad_arguments_are_one_line(
    built: Built, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    result = run(["report", *args], built.env, cwd=tmp_path)
    assert result.returncode == code
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"calllogs: error: {message}"), line


CHROMIUM = shutil.which("chromium")
WINDOW = (1200, 1600)


def screenshot(url: str, out: Path, profile: Path) -> bytes:
    subprocess.run(
        [CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={out}",
         f"--window-size={WINDOW[0]},{WINDOW[1]}", url],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    return out.read_bytes()


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR", png[:16]
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (`apt-get install chromium`)"
)
def test_a_real_browser_renders_the_page(built: Built, tmp_path: Path) -> None:
    report = built.data_dir.parent / "report.html"
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><title>blank</title>", encoding="utf-8")
    page = screenshot(report.as_uri(), tmp_path / "report.png", tmp_path / "profile")
    empty = screenshot(blank.as_uri(), tmp_path / "blank.png", tmp_path / "profile")
    assert png_size(page) == WINDOW == png_size(empty)
    # a blank window compresses to almost nothing; text, tables and charts do not
    assert len(page) > max(10 * len(empty), 60_000), (len(page), len(empty))
