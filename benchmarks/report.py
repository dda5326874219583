"""The results table: rows of medians, their ratio to the floor, targets and verdicts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from tabulate import tabulate

from benchmarks.common import MB

HEADERS = ("#", "measurement", "median", "x floor", "target", "verdict")


@dataclass(frozen=True)
class Row:
    number: str
    what: str
    value: str
    vs_floor: str = ""
    target: str = ""
    verdict: str = ""


@dataclass
class Report:
    title: str
    notes: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(f"  [{row.number}] {row.what}: {row.value} {row.vs_floor} {row.verdict}", flush=True)

    def table(self) -> str:
        return str(
            tabulate(
                [(r.number, r.what, r.value, r.vs_floor, r.target, r.verdict) for r in self.rows],
                headers=HEADERS,
                tablefmt="github",
                disable_numparse=True,
            )
        )

    def markdown(self) -> str:
        parts = [f"# {self.title}", ""]
        parts += [f"- {note}" for note in self.notes]
        parts += ["", self.table(), ""]
        parts += [f"{note}" for note in self.footnotes]
        return "\n".join(parts).rstrip() + "\n"

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.markdown(), encoding="utf-8")


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def megabytes(value: float) -> str:
    return f"{value / MB:.0f} MB"


def ratio(value: float, floor: float) -> str:
    if floor <= 0 or math.isnan(value):
        return ""
    shown = value / floor
    return f"{shown:.2f}x" if shown < 10 else f"{shown:.0f}x"


def rate(count: int, elapsed: float, unit: str) -> str:
    return f"{count / elapsed:,.0f} {unit}/s" if elapsed > 0 else "n/a"


def verdict(ok: bool) -> str:
    return "met" if ok else "**NOT met**"
