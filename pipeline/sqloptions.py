"""How ``calllogs sql`` writes results; light to import, so the CLI can parse its flags quickly."""

from __future__ import annotations

from dataclasses import dataclass

FORMATS = ("table", "csv", "json")
DEFAULT_MAX_ROWS = 200


@dataclass
class Output:
    """``output``: one of FORMATS (json is JSON Lines); ``max_rows``: rows a table shows, 0 all."""

    output: str = "table"
    max_rows: int = DEFAULT_MAX_ROWS
