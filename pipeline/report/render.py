"""Vega-Lite spec → inline SVG, at build time: the page carries pictures, never JavaScript.

vl-convert runs Vega in an embedded engine (its first chart starts it, ~1.5 s; each chart after
that ~0.1 s). ``allowed_base_urls=[]`` forbids any data URL, so building a report never reads the
network even if a spec asked it to.
"""

from __future__ import annotations

import vl_convert

from pipeline.errors import ReportError
from pipeline.report.charts import Spec


def render_svg(spec: Spec) -> str:
    try:
        svg: str = vl_convert.vegalite_to_svg(spec, allowed_base_urls=[])
    except ValueError as exc:
        message = " ".join(str(exc).split())[:300]
        raise ReportError(f"a chart could not be drawn: {message}") from None
    return svg
