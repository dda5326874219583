"""Throughput of ``normalize_records`` on realistic records.

Run: ``.venv/bin/python -m benchmarks.normalize_throughput [--calls N] [--runs R] [--hash]``.

Generates calls shaped like the platform's (about 1.4 KB of JSON each, 5 utterances on average in
Latin, Devanagari and emoji, all three timestamp shapes with the server's current one dominating,
now and then an integer-looking string, a nested ``usage`` object, one record in a thousand to
quarantine) and hands them over as the extractor does: decoded from JSON pages of 100, in the
API's ``started_at`` order. Warms up once, then reports the best and median of several timed runs
of one ``normalize_records`` call over all of them, and the median of normalising them again in
pieces of ``--piece`` calls (the extractor normalises each verified window piece on its own).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from pipeline.normalize import normalize_records

ASSISTANT_ID = "550e8400-e29b-41d4-a716-446655440000"
DAY = date(2026, 5, 1)
_STATUSES = ["completed"] * 12 + ["busy", "no_answer", "rejected", "failed", "timeout", "answered"]
_SIP = {"busy": 486, "no_answer": 480, "rejected": 603, "failed": 500, "timeout": None}
_PHRASES = (
    "Hello, this is the clinic calling about your appointment.",
    "नमस्ते, क्या आप बात कर सकते हैं?",
    "Sure, go ahead. 👍",
    "Could you confirm your date of birth?",
    'He said "call me after 5".\nOkay.',
    "Thanks, you are booked. Goodbye!",
)


def _timestamp(moment: datetime, shape: int) -> str:
    if shape == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if shape == 1:
        return moment.isoformat(timespec="microseconds")
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds")


def make_records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    midnight = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    records: list[dict[str, Any]] = []
    # the API's order: sort_by=started_at ascending (ties in no particular order)
    moments = sorted(rng.randrange(86_400_000) for _ in range(count))
    for index, offset in enumerate(moments):
        shape = rng.choices((0, 1, 2), weights=(2, 97, 1))[0]  # mostly the server's current shape
        started = midnight + timedelta(milliseconds=offset)
        status = rng.choice(_STATUSES)
        answered = started + timedelta(seconds=rng.uniform(2, 20))
        ended = answered + timedelta(seconds=rng.uniform(10, 400))
        turns = rng.randint(0, 10)
        sip = _SIP.get(status)
        record: dict[str, Any] = {
            "room_name": f"{ASSISTANT_ID}_{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}",
            "assistant_id": ASSISTANT_ID,
            "assistant_name": "Appointment Reminder Bot",
            "to_number": f"+9198{rng.randrange(10**8):08d}",
            "call_status": status,
            "call_status_reason": None if status == "completed" else "remote party",
            "sip_status_code": (str(sip) if rng.random() < 0.05 else sip) if sip else None,
            "sip_status_text": "Busy Here" if sip == 486 else None,
            "started_at": _timestamp(started, shape),
            "answered_at": _timestamp(answered, shape) if status == "completed" else None,
            "ended_at": _timestamp(ended, shape),
            "call_duration_minutes": round((ended - answered).total_seconds() / 60, 3),
            "billable_duration_minutes": rng.randint(1, 7),
            "recording_path": f"https://rec.example.com/{index:08d}.ogg",
            "transcripts": [
                {
                    "speaker": "assistant" if turn % 2 == 0 else "user",
                    "text": rng.choice(_PHRASES),
                    "timestamp": _timestamp(answered + timedelta(seconds=3 * turn), shape),
                }
                for turn in range(turns)
            ],
            "queue_id": f"q-{rng.randrange(50)}",
            "is_passthrough": False,
            "agent_ready_at": _timestamp(started, shape),
            "call_end_reason": "hangup",
            "recording_egress_id": f"EG_{rng.getrandbits(48):012x}",
            "created_by_email": "ops@example.com",
            "call_type": "outbound",
            "call_service": rng.choice(["exotel", "twilio"]),
            "platform_number": "+918000000000",
            "usage": {"estimated_cost_usd": f"{rng.uniform(0, 0.2):.4f}"},
        }
        if index % 1000 == 999:
            record["started_at"] = "not a time"  # quarantined, as the real feed now and then needs
        records.append(record)
    return records


def as_decoded(records: list[dict[str, Any]], page_size: int = 100) -> list[dict[str, Any]]:
    """``records`` as the extractor holds them: decoded from JSON pages, one page after another.

    (Where a decoder puts the objects in memory matters: reading them in that order is about
    twice as fast as reading objects scattered by other work.)
    """
    decoded: list[dict[str, Any]] = []
    for first in range(0, len(records), page_size):
        decoded.extend(orjson.loads(orjson.dumps(records[first : first + page_size])))
    return decoded


@dataclass(frozen=True)
class Throughput:
    records: int
    json_bytes_per_record: float
    calls: int
    utterances: int
    best_seconds: float
    median_seconds: float
    piece_calls: int
    pieces_median_seconds: float  # the same records, normalised piece by piece

    @property
    def calls_per_second(self) -> float:
        return self.calls / self.median_seconds

    @property
    def utterances_per_second(self) -> float:
        return self.utterances / self.median_seconds


def measure(
    calls: int = 100_000, runs: int = 5, *, hash_numbers: bool = False, piece_calls: int = 1_000
) -> Throughput:
    """Time ``normalize_records`` on ``calls`` generated records: one warm-up, then ``runs``."""
    records = as_decoded(make_records(calls))
    json_bytes = sum(len(orjson.dumps(record)) for record in records)
    fetched_at = datetime.now(UTC)
    key = b"benchmark-key" if hash_numbers else None

    def run(piece: int) -> tuple[float, int, int]:
        seconds, kept, utterances = 0.0, 0, 0
        for first in range(0, len(records), piece):
            began = time.perf_counter()
            batch = normalize_records(
                records[first : first + piece],
                assistant_id=ASSISTANT_ID,
                fallback_day=DAY,
                fetched_at=fetched_at,
                phone_hash_key=key,
            )
            seconds += time.perf_counter() - began
            kept += batch.call_logs.num_rows
            utterances += batch.transcripts.num_rows
        return seconds, kept, utterances

    whole = max(1, len(records))
    run(whole)  # warm-up: first-touch memory and lazy imports are not normalisation
    timings = [run(whole) for _ in range(runs)]
    seconds = [timing[0] for timing in timings]
    in_pieces = [run(piece_calls)[0] for _ in range(runs)]
    return Throughput(
        records=len(records),
        json_bytes_per_record=json_bytes / whole,
        calls=timings[0][1],
        utterances=timings[0][2],
        best_seconds=min(seconds),
        median_seconds=statistics.median(seconds),
        piece_calls=piece_calls,
        pieces_median_seconds=statistics.median(in_pieces),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hash", action="store_true", help="hash phone numbers (HMAC-SHA256)")
    parser.add_argument("--piece", type=int, default=1_000, help="calls per piece (default 1000)")
    args = parser.parse_args()
    result = measure(args.calls, args.runs, hash_numbers=args.hash, piece_calls=args.piece)
    print(
        f"normalize: {result.records:,} records ({result.json_bytes_per_record:,.0f} B JSON each), "
        f"{result.calls:,} calls kept, {result.utterances:,} utterances, "
        f"hashing={'on' if args.hash else 'off'}"
    )
    for label, seconds in (("best  ", result.best_seconds), ("median", result.median_seconds)):
        print(
            f"  {label} {seconds:.3f} s: {result.calls / seconds:,.0f} calls/s, "
            f"{result.utterances / seconds:,.0f} utterances/s"
        )
    print(
        f"  in pieces of {result.piece_calls:,}: median {result.pieces_median_seconds:.3f} s, "
        f"{result.calls / result.pieces_median_seconds:,.0f} calls/s"
    )


if __name__ == "__main__":
    main()
