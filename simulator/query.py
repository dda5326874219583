"""Query semantics of the platform: validation, the started_at filter, sorting, ties and paging.

Everything here mirrors api-behaviour.md: inclusive bounds on started_at only, offset paging with a
fresh count per request, an unchecked ``sort_by``, and tie groups whose order changes per request.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from simulator.config import to_us
from simulator.data import CallPlan
from simulator.records import TIMESTAMP_FIELDS
from simulator.store import CallStore

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
DEFAULT_SORT = "started_at"


class ValidationFailed(Exception):
    """The request's parameters are invalid; ``errors`` are FastAPI-style error objects."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(e["msg"]) for e in errors))
        self.errors = errors

    def body(self) -> bytes:
        summary = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in self.errors)
        message = f"Validation Error: {summary}"
        return orjson.dumps({"success": False, "message": message, "data": {"errors": self.errors}})


@dataclass(frozen=True)
class Paging:
    page: int
    limit: int

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.limit

    def meta(self, total: int) -> dict[str, int]:
        pages = math.ceil(total / self.limit) if total else 0
        return {"total": total, "page": self.page, "limit": self.limit, "total_pages": pages}


@dataclass(frozen=True)
class CallLogQuery:
    paging: Paging
    start_us: int | None
    end_us: int | None
    sort_by: str
    descending: bool

    @property
    def lo_ms(self) -> int:
        """Smallest started_ms inside the inclusive lower bound."""
        return -(10**18) if self.start_us is None else -(-self.start_us // 1000)

    @property
    def hi_ms(self) -> int:
        """Largest started_ms inside the inclusive upper bound."""
        return 10**18 if self.end_us is None else self.end_us // 1000


def _last(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _int_param(
    params: Mapping[str, Sequence[str]],
    name: str,
    *,
    default: int,
    low: int,
    high: int | None,
    errors: list[dict[str, Any]],
) -> int:
    raw = _last(params, name)
    if raw is None:
        return default
    loc = ["query", name]
    try:
        value = int(raw.strip())
    except ValueError:
        errors.append(
            {
                "type": "int_parsing",
                "loc": loc,
                "input": raw,
                "msg": "Input should be a valid integer, unable to parse string as an integer",
            }
        )
        return default
    if value < low:
        errors.append(
            {
                "type": "greater_than_equal",
                "loc": loc,
                "input": raw,
                "ctx": {"ge": low},
                "msg": f"Input should be greater than or equal to {low}",
            }
        )
    elif high is not None and value > high:
        errors.append(
            {
                "type": "less_than_equal",
                "loc": loc,
                "input": raw,
                "ctx": {"le": high},
                "msg": f"Input should be less than or equal to {high}",
            }
        )
    return value


def parse_instant(raw: str) -> datetime:
    """ISO 8601 date or datetime; a date means midnight and a value without offset means UTC."""
    text = raw.strip()
    if not text:
        raise ValueError("empty")
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _date_param(
    params: Mapping[str, Sequence[str]], name: str, errors: list[dict[str, Any]]
) -> int | None:
    raw = _last(params, name)
    if raw is None:
        return None
    try:
        return to_us(parse_instant(raw))
    except ValueError:
        errors.append(
            {
                "type": "datetime_from_date_parsing",
                "loc": ["query", name],
                "input": raw,
                "msg": "Input should be a valid datetime or date, invalid character or format",
            }
        )
        return None


def parse_paging(params: Mapping[str, Sequence[str]], errors: list[dict[str, Any]]) -> Paging:
    page = _int_param(params, "page", default=1, low=1, high=None, errors=errors)
    limit = _int_param(params, "limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT, errors=errors)
    return Paging(page=page, limit=limit)


def parse_call_log_query(params: Mapping[str, Sequence[str]]) -> CallLogQuery:
    errors: list[dict[str, Any]] = []
    paging = parse_paging(params, errors)
    start_us = _date_param(params, "start_date", errors)
    end_us = _date_param(params, "end_date", errors)
    if errors:
        raise ValidationFailed(errors)
    sort_by = _last(params, "sort_by")
    if sort_by is None:
        sort_by = DEFAULT_SORT
    sort_order = _last(params, "sort_order")
    descending = sort_order is None or sort_order == "desc"
    return CallLogQuery(paging, start_us, end_us, sort_by, descending)


# --- selecting a page ---------------------------------------------------------------------------


def _shuffle_runs(
    plans: list[CallPlan],
    same: Callable[[CallPlan, CallPlan], bool],
    rng_factory: Callable[[], random.Random],
) -> None:
    """Permute, in place, every run of consecutive plans that ``same`` says tie."""
    rng: random.Random | None = None
    start = 0
    for i in range(1, len(plans) + 1):
        if i < len(plans) and same(plans[i - 1], plans[i]):
            continue
        if i - start > 1:
            rng = rng or rng_factory()
            run = plans[start:i]
            rng.shuffle(run)
            plans[start:i] = run
        start = i


def _same_start(a: CallPlan, b: CallPlan) -> bool:
    return a.started_ms == b.started_ms


def _sort_key(field_name: str, doc: Mapping[str, Any]) -> tuple[int, Any]:  # noqa: PLR0911
    """Order across types like a document database: null < numbers < strings < objects < ..."""
    value = doc.get(field_name)
    if value is None:
        return (0, 0)
    if field_name in TIMESTAMP_FIELDS and isinstance(value, str):
        try:
            return (7, to_us(parse_instant(value)))
        except ValueError:
            return (2, value)
    if isinstance(value, bool):
        return (6, value)
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, dict):
        return (3, orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
    return (4, orjson.dumps(value))


def select_page(
    store: CallStore,
    index: int,
    query: CallLogQuery,
    now_ms: int,
    rng_factory: Callable[[], random.Random],
) -> tuple[int, list[CallPlan]]:
    """(total matching, the calls of the requested page in served order).

    The total counts phantoms while the pages are cut from the real calls alone, so paging through
    serves every call exactly as without phantoms and only the count disagrees.
    """
    paging = query.paging
    if query.sort_by == DEFAULT_SORT:
        with store.lock:
            view = store.view(index, query.lo_ms, query.hi_ms, now_ms)
            phantoms = store.phantom_count(index, query.lo_ms, query.hi_ms, now_ms)
            total = view.size
            if query.descending:
                asc_lo, asc_hi = total - paging.skip - paging.limit, total - paging.skip
            else:
                asc_lo, asc_hi = paging.skip, paging.skip + paging.limit
            asc_lo, asc_hi = max(0, asc_lo), min(total, asc_hi)
            if asc_lo >= asc_hi:
                return total + phantoms, []
            ext_lo, ext_hi = view.tie_bounds(asc_lo, asc_hi)
            window = view.plans(ext_lo, ext_hi)
        if query.descending:
            window.reverse()
            offset = ext_hi - asc_hi
        else:
            window = list(window)
            offset = asc_lo - ext_lo
        _shuffle_runs(window, _same_start, rng_factory)
        return total + phantoms, window[offset : offset + asc_hi - asc_lo]
    with store.lock:
        view = store.view(index, query.lo_ms, query.hi_ms, now_ms)
        plans = view.plans(0, view.size)
        phantoms = store.phantom_count(index, query.lo_ms, query.hi_ms, now_ms)
    total = len(plans) + phantoms
    # An unchecked sort_by: a missing (or dotted) field sorts nothing, so the order is arbitrary.
    field_name = "" if "." in query.sort_by else query.sort_by
    keyed = [(_sort_key(field_name, store.version(p, now_ms).doc), p) for p in plans]
    rng_factory().shuffle(keyed)
    keyed.sort(key=lambda pair: pair[0], reverse=query.descending)
    return total, [p for _, p in keyed[paging.skip : paging.skip + paging.limit]]
