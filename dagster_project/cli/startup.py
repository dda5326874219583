"""What a sync process does before its imports: keep pandas out of it.

pyarrow imports pandas (0.4-0.8 s and ~40 MB here) the first time it converts a Python list, only
to ask whether that list is a pandas object; the normaliser converts lists, and no sync ever hands
pyarrow a pandas object. :func:`skip_pandas_probe` answers that one question with "no pandas": it
lets pyarrow's first probe find pandas unavailable, then makes pandas importable again. pyarrow
tries the import afresh whenever pandas is really asked for (``to_pandas()``), so nothing is lost.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType


class _NoPandas:
    """A meta-path finder that makes ``import pandas`` fail while it is installed."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError(f"{name} is held back while pyarrow probes for it")
        return None


def skip_pandas_probe() -> None:
    """Let pyarrow's first pandas probe of this process find no pandas (no-op once imported)."""
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0])  # the probe: pyarrow notes "pandas unavailable" and stops asking
    finally:
        sys.meta_path.remove(finder)
