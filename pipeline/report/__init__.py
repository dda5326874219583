"""`calllogs report`: one self-contained HTML page of charts per assistant, opened offline.

Read top-down: ``data`` (the ``sql/reports`` queries) → ``charts`` (Vega-Lite specs and their
text alternatives) → ``render`` (SVG, drawn at build time) → ``page`` (the HTML) → ``build``.
"""

from pipeline.errors import ReportError
from pipeline.report.build import ReportResult, build_report

__all__ = ["ReportError", "ReportResult", "build_report"]
