"""The peer: the same workload through a dlt ``rest_api`` pipeline into DuckDB.

What a dlt user would write for this API: page-number paging (``page``, ``limit=100``, stop at
``data.pagination.total_pages`` or on an empty page), ``sort_by=started_at`` ascending, one
``start_date``/``end_date`` pair for the whole range, records at ``data.logs``, and a merge on
``room_name`` as the primary key into one ``call_logs`` table (one resource per assistant).
Records without a ``room_name`` are filtered out (a null merge key makes the load fail); they
count as lost.

dlt is not a project dependency: :func:`ensure_dlt` installs it into the running venv on demand
(pinning everything already installed, so the project's own packages cannot move). Run as
``python -m benchmarks.peer_dlt --start D --end D --workdir W`` with ``CALL_LOGS_API_URL``,
``CALL_LOGS_API_KEY`` and ``CALL_LOGS_ASSISTANT_IDS`` set; telemetry is off and every file dlt
writes stays under ``W``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.common import day_bounds, emit_result

DLT_REQUIREMENT = "dlt[duckdb]>=1.31,<2"
INSTALL_TIMEOUT_S = 600.0


def peer_env(workdir: Path) -> dict[str, str]:
    """dlt's settings for a contained, quiet, offline run."""
    return {
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "RUNTIME__LOG_LEVEL": "WARNING",
        "DLT_DATA_DIR": str(workdir / "dlt_data"),
        "DLT_PROJECT_DIR": str(workdir),
    }


# Build tools dlt may need newer than the venv's; the project itself is not a constraint.
UNPINNED = frozenset({"calllogs", "pip", "setuptools", "wheel"})


def ensure_dlt() -> str | None:
    """None when dlt can be imported (installing it if needed); otherwise why it cannot."""
    if importlib.util.find_spec("dlt") is not None:
        return None
    installed = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in importlib.metadata.distributions()
        if dist.metadata["Name"] and dist.metadata["Name"].lower() not in UNPINNED
    )
    print(f"benchmarks: installing {DLT_REQUIREMENT} for the peer row (not a project dependency)")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as pins:
        pins.write("\n".join(installed) + "\n")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--constraint", pins.name,
             DLT_REQUIREMENT],
            capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"installing {DLT_REQUIREMENT} failed: {exc}"
    finally:
        os.unlink(pins.name)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"installing {DLT_REQUIREMENT} failed: {last[:200]}"
    importlib.invalidate_caches()
    if importlib.util.find_spec("dlt") is None:
        return f"{DLT_REQUIREMENT} installed but cannot be imported"
    return None


def run_peer(
    url: str,
    api_key: str,
    assistant_ids: list[str],
    *,
    start_day: date,
    end_day: date,
    workdir: Path,
) -> dict[str, Any]:
    dlt: Any = importlib.import_module("dlt")
    rest_api: Any = importlib.import_module("dlt.sources.rest_api")
    start_date, end_date = day_bounds(start_day, end_day)
    dropped = [0]

    def has_key(record: Any) -> bool:
        # A merge key must not be null (DuckDB refuses the load otherwise): drop such records.
        keep = isinstance(record, dict) and bool(record.get("room_name"))
        dropped[0] += not keep
        return keep

    config: dict[str, Any] = {
        "client": {
            "base_url": url.rstrip("/") + "/",
            "auth": {"type": "bearer", "token": api_key},
            "paginator": {
                "type": "page_number",
                "page_param": "page",
                "base_page": 1,
                "total_path": "data.pagination.total_pages",
                "stop_after_empty_page": True,
            },
        },
        "resources": [
            {
                "name": f"call_logs_{index}",
                "table_name": "call_logs",
                "primary_key": "room_name",
                "write_disposition": "merge",
                "processing_steps": [{"filter": has_key}],
                "endpoint": {
                    "path": f"assistant/call-logs/{assistant_id}",
                    "data_selector": "data.logs",
                    "params": {
                        "limit": 100,
                        "sort_by": "started_at",
                        "sort_order": "asc",
                        "start_date": start_date,
                        "end_date": end_date,
                    },
                },
            }
            for index, assistant_id in enumerate(assistant_ids)
        ],
    }
    database = workdir / "calllogs_peer.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name="calllogs_peer",
        destination=dlt.destinations.duckdb(str(database)),
        dataset_name="peer_data",
        pipelines_dir=str(workdir / "pipelines"),
    )
    began = time.perf_counter()
    pipeline.run(rest_api.rest_api_source(config))
    seconds = time.perf_counter() - began
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        found = con.sql(
            "SELECT count(*), count(DISTINCT room_name) FROM peer_data.call_logs"
        ).fetchall()
    rows, distinct = (int(found[0][0]), int(found[0][1])) if found else (0, 0)
    return {
        "seconds": seconds, "rows": rows, "distinct_calls": distinct, "dropped_no_key": dropped[0]
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args()
    os.environ.update(peer_env(args.workdir))
    env = os.environ
    result = run_peer(
        env["CALL_LOGS_API_URL"],
        env["CALL_LOGS_API_KEY"],
        env["CALL_LOGS_ASSISTANT_IDS"].split(","),
        start_day=args.start,
        end_day=args.end,
        workdir=args.workdir,
    )
    emit_result(result)


if __name__ == "__main__":
    main()
