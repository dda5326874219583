"""normalize_records: raw records -> call_logs, transcripts and rejected_logs, losing nothing."""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from pipeline.lake import Lake
from pipeline.normalize import NormalizedBatch, normalize_records
from pipeline.schemas import (
    CALL_LOGS_SCHEMA,
    CONTRACT_FIELDS,
    PROMOTED_FIELDS,
    REJECTED_LOGS_SCHEMA,
    TRANSCRIPTS_SCHEMA,
)

ASSISTANT = "550e8400-e29b-41d4-a716-446655440000"
OTHER_ASSISTANT = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
DAY = date(2026, 5, 1)
FETCHED = datetime(2026, 5, 2, 3, 4, 5, 678901, tzinfo=UTC)
KEY = b"test-hash-key"


def normalize(records: list[Any], **overrides: Any) -> NormalizedBatch:
    arguments: dict[str, Any] = {
        "assistant_id": ASSISTANT,
        "fallback_day": DAY,
        "fetched_at": FETCHED,
    }
    arguments.update(overrides)
    return normalize_records(records, **arguments)


def call(room_name: str = "room-1", **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "room_name": room_name,
        "assistant_id": ASSISTANT,
        "assistant_name": "Support Bot",
        "to_number": "+919876543210",
        "call_status": "completed",
        "call_status_reason": None,
        "sip_status_code": None,
        "sip_status_text": None,
        "started_at": "2026-05-01T10:00:00.000Z",
        "answered_at": "2026-05-01T10:00:02.000Z",
        "ended_at": "2026-05-01T10:05:00.000Z",
        "call_duration_minutes": 4.966,
        "recording_path": "https://bucket/rec.ogg",
        "transcripts": [
            {"speaker": "agent", "text": "Hello", "timestamp": "2026-05-01T10:00:05.000Z"},
            {"speaker": "user", "text": "Hi", "timestamp": "2026-05-01T10:00:07.000Z"},
        ],
    }
    record.update(fields)
    return record


def only_call(batch: NormalizedBatch) -> dict[str, Any]:
    assert batch.call_logs.num_rows == 1, batch.rejected_logs.to_pylist()
    row: dict[str, Any] = batch.call_logs.to_pylist()[0]
    return row


def extra_of(batch: NormalizedBatch) -> dict[str, Any]:
    extra: dict[str, Any] = json.loads(only_call(batch)["extra"])
    return extra


def assert_schemas_exact(batch: NormalizedBatch) -> None:
    for table, schema in (
        (batch.call_logs, CALL_LOGS_SCHEMA),
        (batch.transcripts, TRANSCRIPTS_SCHEMA),
        (batch.rejected_logs, REJECTED_LOGS_SCHEMA),
    ):
        assert table.schema.equals(schema, check_metadata=True), table.schema
        table.validate(full=True)
        for field in schema:
            if not field.nullable:
                assert table.column(field.name).null_count == 0, field.name


# --- columns ---------------------------------------------------------------------------------


def test_a_documented_record_fills_every_column() -> None:
    batch = normalize([call(sip_status_code=200, billable_duration_minutes=5)])
    assert_schemas_exact(batch)
    row = only_call(batch)
    assert row == {
        "room_name": "room-1",
        "assistant_id": ASSISTANT,
        "assistant_name": "Support Bot",
        "to_number": "+919876543210",
        "call_status": "completed",
        "call_status_reason": None,
        "sip_status_code": 200,
        "sip_status_text": None,
        "started_at": datetime(2026, 5, 1, 10, 0, tzinfo=UTC),
        "answered_at": datetime(2026, 5, 1, 10, 0, 2, tzinfo=UTC),
        "ended_at": datetime(2026, 5, 1, 10, 5, tzinfo=UTC),
        "call_duration_minutes": 4.966,
        "billable_duration_minutes": 5,
        "recording_path": "https://bucket/rec.ogg",
        "call_date": DAY,
        "is_final": True,
        "transcript_turns": 2,
        "extra": "{}",
        "fetched_at": FETCHED,
        **dict.fromkeys(PROMOTED_FIELDS),
    }


def test_the_platforms_extra_fields_fill_their_typed_columns() -> None:
    platform_fields: dict[str, Any] = {
        "call_type": "outbound",
        "call_service": "exotel",
        "call_end_reason": "natural",
        "agent_ready_at": "2026-05-01T10:00:02.750000Z",
        "queue_id": "q-7",
        "platform_number": "+918000000001",
        "is_passthrough": False,
    }
    row = only_call(normalize([call(**platform_fields, recording_egress_id="EG_1")]))
    assert {name: row[name] for name in PROMOTED_FIELDS} == {
        **platform_fields,
        "agent_ready_at": datetime(2026, 5, 1, 10, 0, 2, 750000, tzinfo=UTC),
    }
    assert json.loads(row["extra"]) == {"recording_egress_id": "EG_1"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("is_passthrough", 1),
        ("is_passthrough", "true"),
        ("agent_ready_at", "soon"),
        ("call_type", ["outbound"]),
    ],
)
def test_a_platform_field_that_does_not_fit_its_column_is_kept_uncoerced(
    field: str, value: Any
) -> None:
    batch = normalize([call("room-1", **{field: value})])
    assert only_call(batch)[field] is None
    assert extra_of(batch) == {"_uncoerced": {field: value}}


@pytest.mark.parametrize(
    ("started_at", "expected"),
    [
        ("2026-05-01T10:00:00.000Z", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("2026-05-01T10:00:00.123000+00:00", datetime(2026, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2026-05-01T10:00:00.123000", datetime(2026, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2026-05-01T15:30:00+05:30", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("2026-05-01T02:00:00-0800", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("2026-05-01", datetime(2026, 5, 1, tzinfo=UTC)),
    ],
)
def test_every_timestamp_shape_becomes_utc(started_at: str, expected: datetime) -> None:
    row = only_call(normalize([call(started_at=started_at, answered_at=started_at)]))
    assert row["started_at"] == expected
    assert row["answered_at"] == expected


def test_call_date_is_the_utc_day_of_started_at() -> None:
    late_in_new_york = call(started_at="2026-04-30T22:30:00-04:00")
    early_in_kolkata = call("room-2", started_at="2026-05-02T01:00:00+05:30")
    batch = normalize([late_in_new_york, early_in_kolkata])
    assert batch.call_logs.column("call_date").to_pylist() == [DAY, DAY]


def test_mixed_timestamp_shapes_in_one_batch_all_parse() -> None:
    shapes = ["2026-05-01T10:00:00.000Z", "2026-05-01T11:00:00+00:00", "2026-05-01T12:00:00"]
    batch = normalize([call(f"room-{i}", started_at=shape) for i, shape in enumerate(shapes)])
    assert [moment.hour for moment in batch.call_logs.column("started_at").to_pylist()] == [
        10,
        11,
        12,
    ]


@pytest.mark.parametrize(
    ("field", "sent", "stored"),
    [
        ("sip_status_code", "486", 486),
        ("sip_status_code", " 486 ", 486),
        ("sip_status_code", 486.0, 486),
        ("sip_status_code", "486.0", 486),
        ("billable_duration_minutes", "3", 3),
        ("billable_duration_minutes", -2, -2),
        ("call_duration_minutes", "5.5", 5.5),
        ("call_duration_minutes", 5, 5.0),
        ("call_duration_minutes", "1e2", 100.0),
        ("assistant_name", 42, "42"),
        ("to_number", 919876543210, "919876543210"),
    ],
)
def test_values_are_coerced_where_the_meaning_is_clear(
    field: str, sent: object, stored: object
) -> None:
    overrides: dict[str, Any] = {field: sent}
    batch = normalize([call(**overrides)])
    row = only_call(batch)
    assert row[field] == stored
    assert type(row[field]) is type(stored)
    assert "_uncoerced" not in extra_of(batch)


@pytest.mark.parametrize(
    ("field", "sent"),
    [
        ("sip_status_code", True),
        ("sip_status_code", False),
        ("sip_status_code", "busy"),
        ("sip_status_code", 486.5),
        ("sip_status_code", "4.5e0"),
        ("sip_status_code", 2**31),
        ("sip_status_code", -(2**31) - 1),
        ("sip_status_code", 2**70),
        ("sip_status_code", "nan"),
        ("sip_status_code", [486]),
        ("billable_duration_minutes", {"minutes": 3}),
        ("call_duration_minutes", True),
        ("call_duration_minutes", "five"),
        ("call_duration_minutes", "inf"),
        ("call_duration_minutes", "1e999"),
        ("call_duration_minutes", "1_000"),
        ("call_duration_minutes", "٣"),
        ("assistant_name", True),
        ("assistant_name", 1.5),
        ("call_status", ["completed"]),
        ("recording_path", {"url": "x"}),
        ("answered_at", "yesterday"),
        ("ended_at", 1714564800),
    ],
)
def test_an_uncoercible_value_is_null_and_kept_in_extra(field: str, sent: object) -> None:
    overrides: dict[str, Any] = {field: sent}
    batch = normalize([call(**overrides)])
    assert only_call(batch)[field] is None
    assert extra_of(batch) == {"_uncoerced": {field: sent}}


def test_huge_integers_are_kept_exactly_in_extra() -> None:
    batch = normalize([call(sip_status_code=2**80, queue_depth=-(2**70))])
    assert extra_of(batch) == {"queue_depth": -(2**70), "_uncoerced": {"sip_status_code": 2**80}}


def test_large_integers_become_the_nearest_float() -> None:
    batch = normalize([call(call_duration_minutes=2**60 + 1)])
    assert only_call(batch)["call_duration_minutes"] == float(2**60)


def test_one_bad_value_does_not_disturb_the_rest_of_the_column() -> None:
    records = [call("a", sip_status_code=486), call("b", sip_status_code="x"), call("c")]
    batch = normalize(records)
    codes = dict(
        zip(
            batch.call_logs.column("room_name").to_pylist(),
            batch.call_logs.column("sip_status_code").to_pylist(),
            strict=True,
        )
    )
    assert codes == {"a": 486, "b": None, "c": None}


def test_is_final_follows_the_terminal_statuses() -> None:
    statuses = ["completed", "busy", "no_answer", "failed", "initiated", "answered", "weird", None]
    batch = normalize([call(f"r{i}", call_status=status) for i, status in enumerate(statuses)])
    finals = dict(
        zip(
            batch.call_logs.column("call_status").to_pylist(),
            batch.call_logs.column("is_final").to_pylist(),
            strict=True,
        )
    )
    assert finals == {
        "completed": True,
        "busy": True,
        "no_answer": True,
        "failed": True,
        "initiated": False,
        "answered": False,
        "weird": False,
        None: False,
    }


def test_extra_holds_every_undocumented_field_with_nested_objects_as_is() -> None:
    usage = {"estimated_cost_usd": "0.0123", "tokens": {"in": 10, "out": [1, 2]}}
    batch = normalize([call(usage=usage, recording_egress_id="EG_1", note="नमस्ते 👋")])
    assert extra_of(batch) == {"usage": usage, "recording_egress_id": "EG_1", "note": "नमस्ते 👋"}
    assert only_call(batch)["extra"].index('"note"') < only_call(batch)["extra"].index(
        '"recording_egress_id"'
    )  # keys sorted


def test_extra_is_an_empty_object_when_nothing_is_extra() -> None:
    assert only_call(normalize([call()]))["extra"] == "{}"


def test_a_field_named_uncoerced_is_filed_under_uncoerced() -> None:
    batch = normalize([call(_uncoerced="mine", sip_status_code="x")])
    assert extra_of(batch) == {"_uncoerced": {"_uncoerced": "mine", "sip_status_code": "x"}}


def test_new_fields_report_schema_drift_but_not_known_extras() -> None:
    batch = normalize([call(queue_id="q", usage={}, brand_new=1), call("b", another=None)])
    assert batch.new_fields == frozenset({"brand_new", "another"})


def test_fetched_at_and_assistant_id_come_from_the_arguments() -> None:
    naive_fetch = datetime(2026, 5, 2, 3, 4, 5)
    batch = normalize([call(assistant_id=None)], fetched_at=naive_fetch)
    row = only_call(batch)
    assert row["fetched_at"] == naive_fetch.replace(tzinfo=UTC)
    assert row["assistant_id"] == ASSISTANT


def test_assistant_id_matches_ignoring_case_and_whitespace() -> None:
    batch = normalize([call(assistant_id=f" {ASSISTANT.upper()} ")])
    assert only_call(batch)["assistant_id"] == ASSISTANT


def test_call_logs_are_sorted_by_started_at_then_room_name() -> None:
    records = [
        call("b", started_at="2026-05-01T10:00:00Z"),
        call("c", started_at="2026-05-01T09:00:00Z"),
        call("a", started_at="2026-05-01T10:00:00Z"),
    ]
    assert normalize(records).call_logs.column("room_name").to_pylist() == ["c", "a", "b"]


def test_an_empty_input_gives_three_empty_tables() -> None:
    batch = normalize([])
    assert_schemas_exact(batch)
    assert batch.call_logs.num_rows == batch.transcripts.num_rows == 0
    assert batch.rejected_logs.num_rows == 0
    assert batch.days == []


def test_non_dict_mappings_are_accepted() -> None:
    batch = normalize([MappingProxyType(call())])
    assert only_call(batch)["room_name"] == "room-1"


# --- transcripts -----------------------------------------------------------------------------


def test_utterances_become_rows_in_order() -> None:
    utterances = [
        {"speaker": "assistant", "text": "नमस्ते! 😀", "timestamp": "2026-05-01T10:00:05.000Z"},
        {"speaker": "user", "text": 'say "hi"\nnow', "timestamp": "2026-05-01T15:30:06+05:30"},
        {"speaker": "agent", "text": "", "timestamp": "2026-05-01T10:00:07"},
    ]
    batch = normalize([call(transcripts=utterances)])
    assert_schemas_exact(batch)
    assert batch.transcripts.to_pylist() == [
        {
            "room_name": "room-1",
            "call_date": DAY,
            "assistant_id": ASSISTANT,
            "turn_index": 0,
            "speaker": "assistant",
            "role": "agent",
            "text": "नमस्ते! 😀",
            "spoken_at": datetime(2026, 5, 1, 10, 0, 5, tzinfo=UTC),
        },
        {
            "room_name": "room-1",
            "call_date": DAY,
            "assistant_id": ASSISTANT,
            "turn_index": 1,
            "speaker": "user",
            "role": "user",
            "text": 'say "hi"\nnow',
            "spoken_at": datetime(2026, 5, 1, 10, 0, 6, tzinfo=UTC),
        },
        {
            "room_name": "room-1",
            "call_date": DAY,
            "assistant_id": ASSISTANT,
            "turn_index": 2,
            "speaker": "agent",
            "role": "agent",
            "text": "",
            "spoken_at": datetime(2026, 5, 1, 10, 0, 7, tzinfo=UTC),
        },
    ]
    assert only_call(batch)["transcript_turns"] == 3


@pytest.mark.parametrize(
    ("speaker", "role"),
    [
        ("assistant", "agent"),
        ("Agent", "agent"),
        ("  ASSISTANT\n", "agent"),
        ("user", "user"),
        (" User ", "user"),
        ("bot", "other"),
        ("", "other"),
        (None, "other"),
    ],
)
def test_roles_are_derived_from_the_speaker(speaker: str | None, role: str) -> None:
    batch = normalize([call(transcripts=[{"speaker": speaker, "text": "x"}])])
    assert batch.transcripts.column("role").to_pylist() == [role]
    assert batch.transcripts.column("speaker").to_pylist() == [speaker]


def test_odd_utterances_keep_their_row_and_content() -> None:
    utterances: list[object] = [
        "just text",
        None,
        42,
        ["speaker", "user"],
        [["speaker", "user"]],
        {"speaker": 7, "text": {"rich": True}, "timestamp": "whenever"},
        {"text": 3.5, "timestamp": 1714564800},
        {},
    ]
    batch = normalize([call(transcripts=utterances)])
    rows = batch.transcripts.select(["turn_index", "speaker", "role", "text", "spoken_at"])
    assert rows.to_pylist() == [
        {
            "turn_index": 0,
            "speaker": None,
            "role": "other",
            "text": '"just text"',
            "spoken_at": None,
        },
        {"turn_index": 1, "speaker": None, "role": "other", "text": "null", "spoken_at": None},
        {"turn_index": 2, "speaker": None, "role": "other", "text": "42", "spoken_at": None},
        {
            "turn_index": 3,
            "speaker": None,
            "role": "other",
            "text": '["speaker","user"]',
            "spoken_at": None,
        },
        {
            "turn_index": 4,
            "speaker": None,
            "role": "other",
            "text": '[["speaker","user"]]',
            "spoken_at": None,
        },
        {
            "turn_index": 5,
            "speaker": "7",
            "role": "other",
            "text": '{"rich":true}',
            "spoken_at": None,
        },
        {"turn_index": 6, "speaker": None, "role": "other", "text": "3.5", "spoken_at": None},
        {"turn_index": 7, "speaker": None, "role": "other", "text": None, "spoken_at": None},
    ]
    assert only_call(batch)["transcript_turns"] == len(utterances)


@pytest.mark.parametrize("transcripts", [None, []])
def test_null_or_empty_transcripts_give_no_utterances(transcripts: object) -> None:
    batch = normalize([call(transcripts=transcripts)])
    assert batch.transcripts.num_rows == 0
    assert only_call(batch)["transcript_turns"] == 0
    assert extra_of(batch) == {}


def test_missing_transcripts_give_no_utterances() -> None:
    record = call()
    del record["transcripts"]
    batch = normalize([record])
    assert batch.transcripts.num_rows == 0
    assert only_call(batch)["transcript_turns"] == 0


@pytest.mark.parametrize("transcripts", ["hello", {"speaker": "user"}, 5, True])
def test_transcripts_that_are_not_a_list_are_kept_in_extra(transcripts: object) -> None:
    batch = normalize([call(transcripts=transcripts)])
    assert batch.transcripts.num_rows == 0
    assert only_call(batch)["transcript_turns"] == 0
    assert extra_of(batch) == {"_uncoerced": {"transcripts": transcripts}}


def test_transcripts_follow_the_call_order_then_turn() -> None:
    records = [
        call("b", transcripts=[{"text": "b0"}, {"text": "b1"}]),
        call("a", transcripts=[{"text": "a0"}], started_at="2026-05-01T11:00:00Z"),
        call("c", transcripts=None),
        call("d", transcripts=[{"text": "d0"}, {"text": "d1"}], started_at="2026-05-01T09:00:00Z"),
    ]
    batch = normalize(records)
    assert batch.call_logs.column("room_name").to_pylist() == ["d", "b", "c", "a"]
    assert batch.transcripts.column("text").to_pylist() == ["d0", "d1", "b0", "b1", "a0"]
    assert batch.transcripts.column("turn_index").to_pylist() == [0, 1, 0, 1, 0]
    turns = dict(
        zip(
            batch.call_logs.column("room_name").to_pylist(),
            batch.call_logs.column("transcript_turns").to_pylist(),
            strict=True,
        )
    )
    assert turns == {"a": 1, "b": 2, "c": 0, "d": 2}


def test_a_tie_out_of_room_order_is_put_in_order() -> None:
    records = [
        call("c", started_at="2026-05-01T09:00:00Z", transcripts=[{"text": "c0"}]),
        call("b", transcripts=[{"text": "b0"}]),
        call("a", transcripts=[{"text": "a0"}, {"text": "a1"}]),
    ]
    batch = normalize(records)
    assert batch.call_logs.column("room_name").to_pylist() == ["c", "a", "b"]
    assert batch.call_logs.column("transcript_turns").to_pylist() == [1, 2, 1]
    assert batch.transcripts.column("text").to_pylist() == ["c0", "a0", "a1", "b0"]


def test_a_null_utterance_among_plain_ones_still_gets_its_row() -> None:
    utterances = [{"speaker": "user", "text": "hi"}, None, {"speaker": "agent", "text": "yo"}]
    batch = normalize([call(transcripts=utterances)])
    rows = batch.transcripts.select(["turn_index", "speaker", "role", "text"]).to_pylist()
    assert rows == [
        {"turn_index": 0, "speaker": "user", "role": "user", "text": "hi"},
        {"turn_index": 1, "speaker": None, "role": "other", "text": "null"},
        {"turn_index": 2, "speaker": "agent", "role": "agent", "text": "yo"},
    ]


def test_big_batches_build_transcripts_beside_extra_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records = [
        call(
            f"room-{index:03d}",
            started_at=f"2026-05-01T10:{index % 60:02d}:00Z",
            transcripts=[{"speaker": "user", "text": f"{index}-{turn}"} for turn in range(3)],
            queue_id=f"q-{index}",
        )
        for index in range(120)
    ]
    monkeypatch.setattr("pipeline.normalize.calls._UTTERANCES_WORTH_A_THREAD", 10**9)
    inline = normalize(records)
    monkeypatch.setattr("pipeline.normalize.calls._UTTERANCES_WORTH_A_THREAD", 1)
    threaded = normalize(records)
    assert threaded.call_logs.equals(inline.call_logs)
    assert threaded.transcripts.equals(inline.transcripts)
    assert threaded.transcripts.num_rows == 360


def test_extra_keys_that_look_like_code_or_need_escaping_are_plain_keys() -> None:
    odd: dict[str, Any] = {'a"b\\c': 1, "__import__('os').getcwd()": 2, "": 3, "line\nbreak": 4}
    batch = normalize([{**call(), **odd}, {**call("room-2"), **odd}])
    for row in batch.call_logs.to_pylist():
        assert json.loads(row["extra"]) == odd


def test_concatenated_batches_keep_the_call_order() -> None:
    late = normalize([call("a", transcripts=[{"text": "a0"}], started_at="2026-05-01T11:00:00Z")])
    early = normalize(
        [
            call("z", transcripts=[{"text": "z0"}, {"text": "z1"}]),
            call("b", transcripts=[{"text": "b0"}], started_at="2026-05-01T12:00:00Z"),
        ]
    )
    both = NormalizedBatch.concat([late, early])
    assert both.call_logs.column("room_name").to_pylist() == ["z", "a", "b"]
    assert both.transcripts.column("text").to_pylist() == ["z0", "z1", "a0", "b0"]


def test_hundreds_of_turns_are_numbered_from_zero() -> None:
    utterances = [{"speaker": "user", "text": str(turn)} for turn in range(500)]
    batch = normalize([call(transcripts=utterances)])
    assert batch.transcripts.column("turn_index").to_pylist() == list(range(500))
    assert batch.transcripts.column("text").to_pylist() == [str(turn) for turn in range(500)]


# --- rejections ------------------------------------------------------------------------------


def rejected(batch: NormalizedBatch) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = batch.rejected_logs.to_pylist()
    return rows


@pytest.mark.parametrize("record", [None, 5, "text", ["room_name", "x"], True, 1.5])
def test_a_record_that_is_not_an_object_is_rejected(record: object) -> None:
    batch = normalize([record])
    assert_schemas_exact(batch)
    assert rejected(batch) == [
        {
            "assistant_id": ASSISTANT,
            "call_date": DAY,
            "reason": "record is not a JSON object",
            "raw": json.dumps(record, separators=(",", ":")),
            "fetched_at": FETCHED,
        }
    ]


@pytest.mark.parametrize("room_name", [None, "", "   ", 17, ["room"], {"id": 1}])
def test_a_missing_or_unusable_room_name_is_rejected(room_name: object) -> None:
    batch = normalize([call(room_name=room_name)])  # type: ignore[arg-type]
    assert batch.call_logs.num_rows == 0
    [row] = rejected(batch)
    assert row["reason"] == "missing room_name"
    assert row["call_date"] == DAY  # started_at parses
    assert json.loads(row["raw"]) == call(room_name=room_name)  # type: ignore[arg-type]


def test_a_record_without_room_name_key_is_rejected() -> None:
    record = call()
    del record["room_name"]
    assert [row["reason"] for row in rejected(normalize([record]))] == ["missing room_name"]


def test_an_unparseable_started_at_is_rejected_with_the_value_and_the_fallback_day() -> None:
    batch = normalize([call(started_at="31/12/2025 10:00")], fallback_day=date(2025, 12, 31))
    [row] = rejected(batch)
    assert row["reason"] == "unparseable started_at: '31/12/2025 10:00'"
    assert row["call_date"] == date(2025, 12, 31)


def test_a_long_unparseable_started_at_is_shown_truncated() -> None:
    [row] = rejected(normalize([call(started_at="x" * 500)]))
    assert row["reason"].startswith("unparseable started_at: 'xxx")
    assert len(row["reason"]) < 120


@pytest.mark.parametrize("started_at", [None, 1714564800, {"at": "now"}])
def test_missing_or_non_text_started_at_is_rejected(started_at: object) -> None:
    [row] = rejected(normalize([call(started_at=started_at)]))
    assert row["reason"].startswith(("missing started_at", "unparseable started_at: "))


def test_a_missing_started_at_key_is_rejected() -> None:
    record = call()
    del record["started_at"]
    assert [row["reason"] for row in rejected(normalize([record]))] == ["missing started_at"]


@pytest.mark.parametrize("claimed", [OTHER_ASSISTANT, "", 5, ["x"]])
def test_a_record_of_another_assistant_is_rejected(claimed: object) -> None:
    [row] = rejected(normalize([call(assistant_id=claimed)]))
    assert row["reason"].startswith("assistant_id mismatch: record has ")
    assert ASSISTANT in row["reason"]
    assert row["call_date"] == DAY


def test_the_last_duplicate_room_name_wins_and_earlier_ones_are_rejected() -> None:
    first = call("dup", call_status="initiated", started_at="2026-05-01T10:00:00Z")
    second = call("dup", call_status="answered", started_at="2026-05-01T10:00:00Z")
    third = call("dup", call_status="completed", started_at="2026-05-01T10:00:00Z")
    batch = normalize([first, call("other"), second, third])
    statuses = dict(
        zip(
            batch.call_logs.column("room_name").to_pylist(),
            batch.call_logs.column("call_status").to_pylist(),
            strict=True,
        )
    )
    assert statuses == {"dup": "completed", "other": "completed"}
    rows = rejected(batch)
    assert [row["reason"] for row in rows] == ["superseded duplicate of room_name 'dup'"] * 2
    assert [json.loads(row["raw"])["call_status"] for row in rows] == ["initiated", "answered"]


def test_an_invalid_later_duplicate_does_not_displace_a_valid_earlier_one() -> None:
    valid = call("dup")
    broken = call("dup", started_at="garbage")
    batch = normalize([valid, broken])
    assert only_call(batch)["room_name"] == "dup"
    assert [row["reason"] for row in rejected(batch)] == ["unparseable started_at: 'garbage'"]


def test_rejected_rows_keep_input_order_and_raw_with_sorted_keys() -> None:
    records = [call("a", started_at="bad"), 7, call("", zebra=1)]
    rows = rejected(normalize(records))
    assert [row["reason"] for row in rows] == [
        "unparseable started_at: 'bad'",
        "record is not a JSON object",
        "missing room_name",
    ]
    raw = rows[2]["raw"]
    keys = list(json.loads(raw))
    assert keys == sorted(keys)


def test_raw_of_a_non_json_value_uses_its_text() -> None:
    [row] = rejected(normalize([call(started_at=None, when=datetime(2026, 1, 1), big=2**70)]))
    raw = json.loads(row["raw"])
    assert raw["when"] == "2026-01-01T00:00:00"
    assert raw["big"] == 2**70


def test_lone_surrogates_and_odd_keys_never_raise() -> None:
    records: list[Any] = [
        call(
            "s\ud800",
            text_field="\udfff",
            transcripts=[{"speaker": "\ud83d", "text": "a\ud800"}],
        ),
        {"room_name": "k", "started_at": "2026-05-01T10:00:00Z", 1: "int key", (2, 3): "tuple"},
        {"room_name": "\ud800", "started_at": "\ud800"},
    ]
    batch = normalize(records)
    assert_schemas_exact(batch)
    assert batch.call_logs.num_rows + batch.rejected_logs.num_rows == 3
    assert "s\ufffd" in batch.call_logs.column("room_name").to_pylist()


def test_a_mapping_that_cannot_be_read_is_rejected() -> None:
    class Broken(Mapping[str, Any]):
        def __getitem__(self, key: str) -> Any:
            raise RuntimeError("broken")

        def __iter__(self) -> Any:
            raise RuntimeError("broken")

        def __len__(self) -> int:
            return 1

    [row] = rejected(normalize([Broken()]))
    assert row["reason"] == "record is not a JSON object"


# --- phone numbers ---------------------------------------------------------------------------


def test_phone_numbers_are_hashed_everywhere_when_a_key_is_given() -> None:
    number = "+919876543210"
    records = [
        call("a", to_number=number),
        call("b", to_number=number),
        call("c", to_number={"number": number}),
        call("d", to_number=number, started_at="bad"),
        call("a", to_number=number),  # supersedes the first
    ]
    batch = normalize(records, phone_hash_key=KEY)
    hashed = batch.call_logs.column("to_number").to_pylist()
    assert hashed[0] == hashed[1]
    assert hashed[0] is not None and hashed[0].startswith("h:") and len(hashed[0]) == 34
    for table in (batch.call_logs, batch.transcripts, batch.rejected_logs):
        for column in table.columns:
            if pa.types.is_string(column.type):
                assert not any(number in (value or "") for value in column.to_pylist())
                assert not any("919876543210" in (value or "") for value in column.to_pylist())
    uncoerced = json.loads(batch.call_logs.to_pylist()[2]["extra"])["_uncoerced"]
    assert uncoerced["to_number"].startswith("h:")
    assert [json.loads(row["raw"])["to_number"] for row in rejected(batch)] == [hashed[0]] * 2


def test_the_same_number_hashes_the_same_across_batches_and_keys_matter() -> None:
    once = normalize([call(to_number="+1555")], phone_hash_key=KEY)
    again = normalize([call(to_number="+1555")], phone_hash_key=KEY)
    other_key = normalize([call(to_number="+1555")], phone_hash_key=b"another")
    assert only_call(once)["to_number"] == only_call(again)["to_number"]
    assert only_call(once)["to_number"] != only_call(other_key)["to_number"]


def test_without_a_key_numbers_are_kept_as_sent() -> None:
    assert only_call(normalize([call(to_number="+1555")]))["to_number"] == "+1555"


# --- per day ---------------------------------------------------------------------------------


def test_for_day_and_days_split_a_batch_by_call_date() -> None:
    records = [
        call("a", started_at="2026-05-01T23:59:59.999Z"),
        call("b", started_at="2026-05-02T00:00:00Z"),
        call("c", started_at="not a time"),  # rejected on the fallback day
        call("d", started_at="2026-05-03T00:00:00Z", assistant_id=OTHER_ASSISTANT),
    ]
    batch = normalize(records, fallback_day=date(2026, 4, 30))
    assert batch.days == [date(2026, 4, 30), DAY, date(2026, 5, 2), date(2026, 5, 3)]
    first = batch.for_day(DAY)
    assert first.call_logs.column("room_name").to_pylist() == ["a"]
    assert first.transcripts.column("room_name").to_pylist() == ["a", "a"]
    assert first.rejected_logs.num_rows == 0
    assert_schemas_exact(first)
    assert batch.for_day(date(2026, 5, 3)).rejected_logs.num_rows == 1
    assert batch.for_day(date(2026, 4, 30)).rejected_logs.num_rows == 1
    assert batch.for_day(date(2020, 1, 1)).call_logs.num_rows == 0


# --- properties ------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
good_timestamps = st.sampled_from(
    [
        "2026-05-01T10:00:00.000Z",
        "2026-05-01T23:59:59.999999+00:00",
        "2026-05-02T00:00:00.123000",
        "2026-05-01T04:00:00-0800",
        "2026-05-01T05:30:00+05:30",
        "2026-05-01",
    ]
)


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` four times in five: keeps most generated records valid enough to be kept."""
    return st.integers(min_value=0, max_value=4).flatmap(lambda roll: bad if roll == 4 else good)


timestamps = mostly(
    good_timestamps,
    st.one_of(
        st.sampled_from(["2026-02-30T00:00:00Z", "soon", "", "2026-05-01T10:00:00.1234567Z"]),
        json_values,
    ),
)
numbers = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["486", "3", "5.5", " 7 ", "x", "", "486.0", "1e3"]),
    st.booleans(),
    json_values,
)
texts = st.one_of(st.text(max_size=10), json_values)
utterances = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "speaker": st.one_of(st.sampled_from(["user", "assistant", "agent", " AGENT "]), texts),
            "text": texts,
            "timestamp": timestamps,
            "extra": json_values,
        },
    ),
    json_values,
)
room_names = mostly(
    st.one_of(st.sampled_from([f"r{number}" for number in range(10)]), st.text(max_size=10)),
    texts,
)
KEY_FIELDS = ["room_name", "started_at", "assistant_id"]
records = st.fixed_dictionaries(
    {
        "room_name": room_names,
        "started_at": timestamps,
        "assistant_id": mostly(
            st.sampled_from([ASSISTANT, None, ASSISTANT.upper()]),
            st.one_of(st.just(OTHER_ASSISTANT), json_values),
        ),
    },
    optional={
        "answered_at": timestamps,
        "ended_at": timestamps,
        "assistant_name": texts,
        "to_number": st.one_of(st.just("+919876543210"), texts),
        "call_status": st.one_of(st.sampled_from(["completed", "initiated", "busy"]), texts),
        "call_status_reason": texts,
        "sip_status_code": numbers,
        "sip_status_text": texts,
        "call_duration_minutes": numbers,
        "billable_duration_minutes": numbers,
        "recording_path": texts,
        "transcripts": st.one_of(st.lists(utterances, max_size=4), json_values),
        "usage": json_values,
        "queue_id": json_values,
        "surprise": json_values,
        "_uncoerced": json_values,
    },
).flatmap(
    lambda record: st.tuples(
        st.dictionaries(st.text(max_size=8), json_values, max_size=2),
        mostly(st.just(frozenset()), st.frozensets(st.sampled_from(KEY_FIELDS))),
        mostly(st.just({}), st.dictionaries(st.sampled_from(KEY_FIELDS), json_values)),
    ).map(
        lambda extras: {
            key: value
            for key, value in {**extras[0], **record, **extras[2]}.items()
            if key not in extras[1]
        }
    )
)
inputs = st.tuples(st.lists(records, max_size=8), st.lists(json_values, max_size=2)).flatmap(
    lambda parts: st.permutations([*parts[0], *parts[1]])
)

TAG = "_test_tag"


def tagged(items: list[object]) -> list[object]:
    return [
        {**item, TAG: index} if isinstance(item, dict) else item for index, item in enumerate(items)
    ]


@given(inputs)
def test_property_every_record_lands_exactly_once_and_nothing_raises(items: list[object]) -> None:
    batch = normalize(tagged(items))
    event(f"calls kept: {min(batch.call_logs.num_rows, 3)}+")
    assert_schemas_exact(batch)
    kept = [json.loads(extra)[TAG] for extra in batch.call_logs.column("extra").to_pylist()]
    raws = [json.loads(raw) for raw in batch.rejected_logs.column("raw").to_pylist()]
    rejected_tags = [raw[TAG] for raw in raws if isinstance(raw, dict) and TAG in raw]
    objects = [index for index, item in enumerate(items) if isinstance(item, dict)]
    assert sorted(kept + rejected_tags) == objects
    reasons = batch.rejected_logs.column("reason").to_pylist()
    assert reasons.count("record is not a JSON object") == len(items) - len(objects)
    assert batch.call_logs.column("room_name").unique().to_pylist().__len__() == len(kept)
    assert sum(batch.call_logs.column("transcript_turns").to_pylist()) == batch.transcripts.num_rows


@given(inputs)
def test_property_no_value_of_a_kept_call_is_lost(items: list[object]) -> None:
    records_in = tagged(items)
    batch = normalize(records_in)
    for row in batch.call_logs.to_pylist():
        extra = json.loads(row["extra"])
        original = records_in[extra.pop(TAG)]
        assert isinstance(original, dict)
        uncoerced = extra.pop("_uncoerced", {})
        expected_extra = {
            key: value
            for key, value in original.items()
            if key not in CONTRACT_FIELDS and key not in {TAG, "_uncoerced"}
        }
        assert extra == expected_extra
        if "_uncoerced" in original:
            assert uncoerced.pop("_uncoerced") == original["_uncoerced"]
        for field, value in uncoerced.items():
            assert same_json(value, original[field])
            assert field == "transcripts" or row[field] is None
        for field in CONTRACT_FIELDS - {"assistant_id", "transcripts"}:
            if original.get(field) is not None:
                assert row[field] is not None or field in uncoerced, field
        transcripts = original.get("transcripts")
        if isinstance(transcripts, list):
            assert row["transcript_turns"] == len(transcripts)
        elif transcripts is not None:
            assert same_json(uncoerced["transcripts"], transcripts)


def same_json(left: object, right: object) -> bool:
    """Equal as JSON values (floats compared exactly, -0.0 == 0.0 as JSON does)."""
    if isinstance(left, float) and isinstance(right, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


@settings(max_examples=max(10, settings().max_examples // 3))  # a lake write per example
@given(inputs)
def test_property_a_lake_round_trip_keeps_every_value(items: list[object]) -> None:
    batch = normalize(tagged(items), phone_hash_key=KEY)
    with tempfile.TemporaryDirectory() as directory:
        assert_round_trip(Lake(str(Path(directory) / "lake")), batch)


def assert_round_trip(lake: Lake, batch: NormalizedBatch) -> None:
    for day in batch.days:
        lake.write_batch(day, ASSISTANT, batch)
        expected = batch.for_day(day)
        for name in ("call_logs", "transcripts", "rejected_logs"):
            stored = lake.read_partition(name, day, ASSISTANT)
            assert stored is not None
            original = getattr(expected, name)
            assert stored.schema.equals(original.schema)
            assert stored.equals(original), name
        for stored_text, original_text in zip(
            lake.read_partition("call_logs", day, ASSISTANT).column("extra").to_pylist(),  # type: ignore[union-attr]
            expected.call_logs.column("extra").to_pylist(),
            strict=True,
        ):
            assert json.loads(stored_text) == json.loads(original_text)
        for stored_text, original_text in zip(
            lake.read_partition("rejected_logs", day, ASSISTANT).column("raw").to_pylist(),  # type: ignore[union-attr]
            expected.rejected_logs.column("raw").to_pylist(),
            strict=True,
        ):
            assert json.loads(stored_text) == json.loads(original_text)


def test_deep_nesting_and_unprintable_objects_never_raise() -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no text")

        __repr__ = __str__

    deep: object = "bottom"
    for _ in range(2000):
        deep = [deep]
    records: list[Any] = [
        call("deep", usage=deep, sip_status_code=deep, transcripts=[deep]),
        call("odd", queue_id=Unprintable(), started_at=Unprintable()),
        call(Unprintable()),  # type: ignore[arg-type]
    ]
    batch = normalize(records)
    assert_schemas_exact(batch)
    assert batch.call_logs.column("room_name").to_pylist() == ["deep"]
    assert batch.rejected_logs.num_rows == 2
    assert "nested too deeply" in only_call(batch)["extra"]
