"""Assets: API → lake (``raw_call_logs``), then lake → warehouse tables and metrics (one step).

When a run materialises both, the extraction step already loads each partition into the warehouse
as it writes it to the lake (``pipeline.streamed``), and the warehouse step loads only what is not
loaded at that lake version yet, then records the outcome, the metadata and the checks.

Both are daily-partitioned with a single-run backfill policy, so a backfill of a range is one run
that pages the whole range per assistant instead of one run (and one request burst) per day.
API-calling and warehouse-writing steps sit in pools (``call_logs_api``, ``warehouse``) whose
limits the instance sets (``dagster.yaml``): one extraction and one writer at a time.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import date, timedelta
from typing import Any

import dagster as dg

from dagster_project.resources import CallLogsResource
from dagster_project.run_plan import SyncRunConfig, plan_of_run
from pipeline import checks
from pipeline.checks import CheckOutcome
from pipeline.client import make_client
from pipeline.load import load_lake_into_warehouse
from pipeline.outcome import (
    FAILED,
    AssistantOutcome,
    day_statuses,
    from_table,
    planned_pairs,
    to_table,
    with_status,
)
from pipeline.sqlfiles import read_sql
from pipeline.streamed import Loader, loading_as_stored
from pipeline.sync import ExtractReport, extract_to_lake
from pipeline.warehouse import LoadStats, Warehouse
from pipeline.wording import count

API_POOL = "call_logs_api"
WAREHOUSE_POOL = "warehouse"
GROUP = "call_logs"
STALE_AFTER = timedelta(hours=6)
FRESH_WITHIN = timedelta(hours=3)

progress_log = logging.getLogger("calllogs.progress")

WAREHOUSE_TABLES = ("call_logs", "transcripts", "rejected_logs")
METRIC_TABLES = (
    "daily_assistant_metrics",
    "sip_failures",
    "call_end_reasons",
    "call_transcript_stats",
    "call_status_history",
)
# What each DuckDB table is computed from, as the asset graph shows it: the loaded tables come from
# the lake, each metric from the tables its sql/metrics/<name>.sql reads (a test keeps them equal).
READS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(WAREHOUSE_TABLES, ("raw_call_logs",)),
    "daily_assistant_metrics": ("call_logs",),
    "sip_failures": ("call_logs",),
    "call_end_reasons": ("call_logs",),
    "call_transcript_stats": ("call_logs", "transcripts"),
    # merged from each load's incoming versions (their fetched_at), so it reads the lake
    "call_status_history": ("raw_call_logs",),
}


class BufferedRunLog:
    """Window lines reach the run log in batches: each log call is a write to the event log."""

    def __init__(self, write: Callable[[str], None], every_s: float = 5.0) -> None:
        self._write = write
        self._every = every_s
        self._lines: list[str] = []
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def add(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
            if time.monotonic() - self._last < self._every:
                return
        self.flush()

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
            self._last = time.monotonic()
        if lines:
            self._write("\n".join(lines))


def partition_days(context: dg.AssetExecutionContext) -> tuple[date, date]:
    window = context.partition_time_window
    return window.start.date(), window.end.date()


def check_result(outcome: CheckOutcome, asset: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=outcome.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.WARN if outcome.warn_only else dg.AssetCheckSeverity.ERROR,
        description=outcome.description,
        metadata={
            "failing": dg.MetadataValue.int(outcome.failing),
            "sample": dg.MetadataValue.json(
                [{k: str(v) for k, v in row.items()} for row in outcome.sample]
            ),
        },
    )


def _extract_metadata(report: ExtractReport) -> dict[str, Any]:
    return {
        "assistants": dg.MetadataValue.int(len(report.assistants)),
        "calls": dg.MetadataValue.int(report.total("calls")),
        "utterances": dg.MetadataValue.int(report.total("utterances")),
        "rejected": dg.MetadataValue.int(report.total("rejected")),
        "api_total": dg.MetadataValue.int(report.total("api_total")),
        "verified_calls": dg.MetadataValue.int(report.total("verified_calls")),
        "requests": dg.MetadataValue.int(report.requests),
        "retries": dg.MetadataValue.int(report.retries),
        "reread_windows": dg.MetadataValue.int(report.stats.mismatches),
        "unreadable_calls": dg.MetadataValue.int(report.stats.unreadable_calls),
        "window_end": dg.MetadataValue.text(report.window_end.isoformat()),
        "seconds": dg.MetadataValue.float(round(report.seconds, 3)),
        "new_fields": dg.MetadataValue.json(sorted(report.new_fields)),
        "assistants_failed": dg.MetadataValue.int(len(report.failed)),
        "failed_assistants": dg.MetadataValue.json(
            [{"assistant_id": o.assistant_id, "error": o.error} for o in report.failed]
        ),
    }


def raw_call_logs(
    context: dg.AssetExecutionContext, calllogs: CallLogsResource, config: SyncRunConfig
) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
    settings = calllogs.settings()
    start_day, end_day = partition_days(context)
    lake = calllogs.lake()

    progress = BufferedRunLog(context.log.info)

    def on_window(line: str) -> None:
        progress_log.info(line)
        progress.add(line)

    with make_client(settings) as client, _loader_for(context, calllogs) as loader:
        plan = plan_of_run(config, start_day, end_day, settings=settings, client=client)
        report = extract_to_lake(
            settings,
            start_day,
            end_day,
            client=client,
            lake=lake,
            plan=plan,
            progress=on_window,
            on_stored=None if loader is None else loader.put,
        )
    progress.flush()
    if loader is not None:
        context.log.info(f"loaded while extracting: {loader.stats.summary()}")
    lake.write_run_record(context.run_id, to_table(report.outcomes))
    context.log.info(report.summary())
    progress_log.info(report.summary())
    for outcome in report.failed:
        context.log.error(outcome.advice())
    for outcome in report.outcomes:
        if outcome.unreadable:
            context.log.error(outcome.unreadable_advice())
    for day, metadata in _per_day_metadata(report).items():
        context.add_asset_metadata(metadata, partition_key=day.isoformat())
    yield dg.MaterializeResult(metadata=_extract_metadata(report))
    yield check_result(checks.schema_drift(report.new_fields), "raw_call_logs")
    yield check_result(checks.assistants_synced(report.outcomes), "raw_call_logs")


def _loader_for(
    context: dg.AssetExecutionContext, calllogs: CallLogsResource
) -> AbstractContextManager[Loader | None]:
    """When the run also materialises the warehouse tables, a loader that loads each partition
    as it reaches the lake (``warehouse_tables`` then finds them loaded); otherwise none."""
    # A run of a subset says so in asset_selection; an in-process job's own assets are its layer.
    selection = context.run.asset_selection or context.job_def.asset_layer.selected_asset_keys
    if dg.AssetKey("call_logs") not in selection:
        return nullcontext(None)
    return loading_as_stored(calllogs.warehouse())


def _per_day_metadata(report: ExtractReport) -> dict[date, dict[str, Any]]:
    """One metadata dict per planned day: its counts and which assistants synced or failed."""
    names = ("calls", "utterances", "rejected", "api_total", "verified_calls", "requests")
    totals = {name: report.by_day(name) for name in names}
    out: dict[date, dict[str, Any]] = {}
    for day, status in day_statuses(report.outcomes).items():
        metadata: dict[str, Any] = {
            name: dg.MetadataValue.int(totals[name].get(day, 0)) for name in names
        }
        metadata["assistants_synced"] = dg.MetadataValue.int(status.synced)
        metadata["assistants_failed"] = dg.MetadataValue.int(len(status.failed))
        metadata["failed_assistants"] = dg.MetadataValue.text(", ".join(status.failed) or "none")
        out[day] = metadata
    return out


def check_specs(asset: str) -> list[dg.AssetCheckSpec]:
    """The registry's checks of ``asset``, with the description the UI shows."""
    return [
        dg.AssetCheckSpec(check.name, asset=asset, description=check.description)
        for check in checks.checks_of(asset)
    ]


def freshness_checks() -> list[dg.AssetChecksDefinition]:
    """Dagster's own freshness check of call_logs (WARN when no load in FRESH_WITHIN)."""
    return list(
        dg.build_last_update_freshness_checks(
            assets=["call_logs"],
            lower_bound_delta=FRESH_WITHIN,
            severity=dg.AssetCheckSeverity.WARN,
        )
    )


def warehouse_tables(
    context: dg.AssetExecutionContext, calllogs: CallLogsResource
) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
    start_day, end_day = partition_days(context)
    warehouse = calllogs.warehouse()
    lake = calllogs.lake()
    record = lake.read_run_record(context.run_id)
    outcomes = None if record is None else from_table(record)
    stats = load_lake_into_warehouse(
        lake, warehouse, start_day, end_day, outcomes=outcomes, run_id=context.run_id
    )
    context.log.info(stats.summary())
    progress_log.info(stats.summary())
    # Each group of queries shares one connection, closed before Dagster stores the events.
    days = (start_day, end_day)
    with warehouse.reading():
        materializations = _materializations(context, warehouse, stats, days)
    yield from materializations
    with warehouse.reading():
        check_results = _checks(warehouse, outcomes, days)
    yield from check_results
    failed = with_status(outcomes or [], FAILED)
    if failed:
        # Healthy assistants' partitions are loaded above; the run still ends failed.
        raise dg.Failure(
            description=f"{count(len(failed), 'assistant')} not synced: "
            + " | ".join(o.advice() for o in failed),
            metadata={
                "failed_assistants": dg.MetadataValue.json(
                    [{"assistant_id": o.assistant_id, "error": o.error} for o in failed]
                )
            },
            allow_retries=False,
        )


def _materializations(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    stats: LoadStats,
    days: tuple[date, date],
) -> list[dg.MaterializeResult[None]]:
    """Each table's materialisation with its metadata, and the days' plotted numbers."""
    start_day, end_day = days
    params: dict[str, object] = {"start_day": start_day, "end_day": end_day}
    totals = warehouse.query(read_sql("reports/daily_totals.sql"), params).to_pylist()
    for row in totals:
        context.add_asset_metadata(
            _daily_metadata(row),
            asset_key="daily_assistant_metrics",
            partition_key=row["call_date"].isoformat(),
        )
    counts = warehouse.table_counts()
    loaded = {
        "call_logs": stats.calls,
        "transcripts": stats.utterances,
        "rejected_logs": stats.rejected,
    }
    results: list[dg.MaterializeResult[None]] = []
    for table in (*WAREHOUSE_TABLES, *METRIC_TABLES):
        metadata: dict[str, Any] = {
            "table_rows": dg.MetadataValue.int(counts.get(table, 0)),
            "partitions_loaded": dg.MetadataValue.int(stats.partitions),
        }
        if table in loaded:
            metadata["rows_loaded"] = dg.MetadataValue.int(loaded[table])
        results.append(dg.MaterializeResult(asset_key=table, metadata=metadata))
    return results


def _checks(
    warehouse: Warehouse, outcomes: list[AssistantOutcome] | None, days: tuple[date, date]
) -> list[dg.AssetCheckResult]:
    """The warehouse's checks over the run's partitions (the planned ones, when known)."""
    expected = None if outcomes is None else planned_pairs(outcomes)
    partitions = checks.checked_partitions(warehouse, *days, expected)
    found = [
        checks.reconciliation(warehouse, partitions),
        checks.calls_readable(warehouse, partitions),
        *checks.sql_checks(warehouse, partitions, stale_after=STALE_AFTER),
    ]
    return [check_result(outcome, "call_logs") for outcome in found]


_DAILY_COUNTS = (
    "calls",
    "sip_failure_calls",
    "in_progress_calls",
    "outbound_calls",
    "billable_minutes",
    "agent_never_ready_calls",
)


def _daily_metadata(row: dict[str, Any]) -> dict[str, dg.MetadataValue]:
    """One day's plotted numbers (``sql/reports/daily_totals.sql``, all assistants together)."""
    metadata: dict[str, dg.MetadataValue] = {
        name: dg.MetadataValue.int(int(row[name] or 0)) for name in _DAILY_COUNTS
    }
    metadata["answer_rate"] = dg.MetadataValue.float(float(row["answer_rate"] or 0.0))
    metadata["talk_minutes"] = dg.MetadataValue.float(float(row["talk_minutes"] or 0.0))
    if row["outbound_answer_rate"] is not None:  # none without outbound calls: 0.0 would plot
        rate = float(row["outbound_answer_rate"])  # as a collapse
        metadata["outbound_answer_rate"] = dg.MetadataValue.float(rate)
    return metadata


def build_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Both assets over the given daily partitions (built when the definitions load)."""
    extract = dg.asset(
        name="raw_call_logs",
        group_name=GROUP,
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=API_POOL,
        kinds={"parquet"},
        check_specs=check_specs("raw_call_logs"),
        description=(
            "Every call of every assistant, read from GET /assistant/call-logs/{id} window by "
            "window, verified against the API's total, normalised and written to the Parquet "
            "lake (one atomically replaced partition per day and assistant). In a run that also "
            "materialises the warehouse tables, each partition is loaded into DuckDB as soon as "
            "it is written."
        ),
    )(raw_call_logs)
    load = dg.multi_asset(
        name="warehouse_tables",
        group_name=GROUP,
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        specs=[
            dg.AssetSpec(table, deps=list(READS[table]), kinds={"duckdb"}, group_name=GROUP)
            for table in (*WAREHOUSE_TABLES, *METRIC_TABLES)
        ],
        check_specs=check_specs("call_logs"),
        description=(
            "Loads the run's lake partitions into DuckDB: replaces exactly those (day, assistant) "
            "rows of call_logs, transcripts and rejected_logs, recomputes exactly their rows of "
            "daily_assistant_metrics, sip_failures, call_end_reasons and call_transcript_stats, "
            "and merges what it saw into call_status_history, in one transaction."
        ),
    )(warehouse_tables)
    return [extract, load]
