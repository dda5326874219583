"""ISO 8601 parsing: every shape the platform sends and then some, one value or a whole column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.schemas import UTC_TS
from pipeline.timeparse import (
    parse_timestamp,
    parse_timestamp_strings,
    parse_timestamps,
    parse_timestamps_with_errors,
)

NOON = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-20T14:30:00.000Z", datetime(2024, 1, 20, 14, 30, tzinfo=UTC)),
        ("2026-05-01T12:00:00.123000+00:00", NOON.replace(microsecond=123000)),
        ("2025-12-01T10:00:00.123000", datetime(2025, 12, 1, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2026-05-01T12:00:00Z", NOON),
        ("2026-05-01T12:00:00z", NOON),
        ("2026-05-01t12:00:00Z", NOON),
        ("2026-05-01 12:00:00Z", NOON),
        ("2026-05-01T12:00:00", NOON),
        ("2026-05-01T12:00Z", NOON),
        ("2026-05-01T12Z", NOON),
        ("2026-05-01T12", NOON),
        ("20260501T120000Z", NOON),
        ("20260501T1200+0000", NOON),
        ("  2026-05-01T12:00:00Z\n", NOON),
        ("2026-05-01T12:00:00-00:00", NOON),
        ("2026-05-01T12:00:00,5Z", NOON.replace(microsecond=500000)),
    ],
)
def test_parses_every_iso_8601_shape(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


def test_date_only_means_midnight_utc() -> None:
    assert parse_timestamp("2024-01-20") == datetime(2024, 1, 20, tzinfo=UTC)
    assert parse_timestamp("20240120") == datetime(2024, 1, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("2026-05-01T17:30:00+05:30", timedelta(hours=5, minutes=30)),
        ("2026-05-01T17:30:00+0530", timedelta(hours=5, minutes=30)),
        ("2026-05-01T04:00:00-0800", timedelta(hours=-8)),
        ("2026-05-01T04:00:00-08:00", timedelta(hours=-8)),
        ("2026-05-01T15:00:00+03", timedelta(hours=3)),
        ("2026-05-02T11:59:00+23:59", timedelta(hours=23, minutes=59)),
    ],
)
def test_offsets_are_converted_to_utc(text: str, offset: timedelta) -> None:
    parsed = parse_timestamp(text)
    assert parsed is not None
    assert parsed.tzinfo is UTC
    assert parsed == datetime.fromisoformat(text[:19]).replace(tzinfo=timezone(offset))


def test_an_offset_can_move_the_utc_day() -> None:
    assert parse_timestamp("2026-05-01T23:30:00-05:00") == datetime(2026, 5, 2, 4, 30, tzinfo=UTC)
    assert parse_timestamp("2026-05-01T01:00:00+05:30") == datetime(2026, 4, 30, 19, 30, tzinfo=UTC)


@pytest.mark.parametrize("digits", range(7))
def test_zero_to_six_fractional_digits_are_exact(digits: int) -> None:
    fraction = "123456"[:digits]
    text = f"2026-05-01T12:00:00{'.' + fraction if digits else ''}Z"
    expected_micros = int(fraction.ljust(6, "0")) if digits else 0
    assert parse_timestamp(text) == NOON.replace(microsecond=expected_micros)


def test_more_than_six_fractional_digits_are_truncated_not_rounded() -> None:
    assert parse_timestamp("2026-05-01T12:00:00.9999999Z") == NOON.replace(microsecond=999999)
    assert parse_timestamp("2026-05-01T23:59:59.999999999Z") == datetime(
        2026, 5, 1, 23, 59, 59, 999999, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "garbage",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2025-02-29",
        "2026-05-01T24:00:00Z",
        "2026-05-01T23:60:00Z",
        "2026-05-01T23:59:60Z",
        "2026-05-01T12:00:00+24:00",
        "2026-05-01T12:00:00+05:99",
        "2026-05-01T12:00:00.Z",
        "2026-05-01T12:00:00 Z",
        "2026-05-01X12:00:00Z",
        "2026-05-01Z",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:30:00+01:00",
        "9999-12-31T23:00:00-05:00",
        "+2026-05-01T12:00:00Z",
        "\uff12\uff10\uff12\uff16-05-01T12:00:00Z",  # fullwidth digits
        "2026-W18-5",
        "1714564800",
        "2026-05-01T12:00:00Z" + " " * 60,
        "\ud800",
    ],
)
def test_unparseable_text_gives_none(text: str) -> None:
    assert parse_timestamp(text) is None


@pytest.mark.parametrize(
    "value", [None, 1714564800, 1714564800.5, True, b"2026-05-01T12:00:00Z", ["x"], {"a": 1}, NOON]
)
def test_non_strings_give_none(value: object) -> None:
    assert parse_timestamp(value) is None


def test_extreme_but_valid_instants_are_kept() -> None:
    assert parse_timestamp("0001-01-01T00:00:00Z") == datetime(1, 1, 1, tzinfo=UTC)
    assert parse_timestamp("9999-12-31T23:59:59.999999Z") == datetime(
        9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC
    )


# --- the vectorised parser -------------------------------------------------------------------


def test_column_parse_is_timestamp_us_utc_and_tells_absent_from_unparseable() -> None:
    values: list[object] = [
        "2026-05-01T12:00:00Z",
        None,
        "nonsense",
        "2026-05-01T12:00:00",
        17,
        "2026-05-01T17:30:00+05:30",
    ]
    parsed = parse_timestamps_with_errors(values)
    assert parsed.values.type == UTC_TS
    assert parsed.values.to_pylist() == [NOON, None, None, NOON, None, NOON]
    assert parsed.unparseable.to_pylist() == [False, False, True, False, True, False]
    assert parsed.unparseable_positions() == [2, 4]
    assert parse_timestamps(values).equals(parsed.values)


@pytest.mark.parametrize(
    "values",
    [
        ["2026-05-01T12:00:00.000Z"] * 3,  # one cast
        ["2026-05-01T12:00:00.123000+00:00", "2026-05-01T12:00:00Z"],
        ["2025-12-01T10:00:00.123000"] * 3,  # naive: by shape
        ["2026-05-01T12:00:00Z", "2025-12-01T10:00:00.123000", "2026-05-01T17:30:00+05:30"],
        ["2026-05-01T12:00:00Z", "2026-02-30T12:00:00Z"],  # calendar-invalid among usual ones
        ["2026-02-30T12:00:00+05:30", "2026-05-01T17:30:00+05:30"],
        ["2026-02-30T12:00:00", "2026-05-01T17:30:00"],
        ["9999-12-31T23:00:00-05:00", "2026-05-01T12:00:00Z"],
        ["0001-01-01T00:30:00+01:00", "2026-05-01T12:00:00+01:00"],
        ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59"],
        ["2026-05-01T12:00:00.1234567Z", " 2026-05-01T12:00:00Z", "\u30002026-05-01"],
        ["x\ud800", "2026-05-01T12:00:00Z"],
        [None, None],
        [],
    ],
)
def test_column_parse_matches_the_scalar_parser(values: list[object]) -> None:
    assert parse_timestamps(values).to_pylist() == [parse_timestamp(value) for value in values]


def test_string_array_parse_keeps_nulls_null() -> None:
    strings = pa.array(["2026-05-01T12:00:00Z", None, "bad"], type=pa.string())
    assert parse_timestamp_strings(strings).to_pylist() == [NOON, None, None]


_ISO_ALPHABET = "0123456789-:.,TtZz +"
_iso_like = st.one_of(
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.none()
    ).flatmap(
        lambda moment: st.sampled_from(
            [
                moment.isoformat(),
                moment.isoformat(sep=" "),
                moment.isoformat() + "Z",
                moment.isoformat(timespec="milliseconds") + "+05:30",
                moment.isoformat(timespec="seconds") + "-0800",
                moment.date().isoformat(),
                moment.isoformat() + "+00:00",
            ]
        )
    ),
    st.text(alphabet=_ISO_ALPHABET, max_size=40),
    st.from_regex(
        r"\A\d{4}-\d{2}-\d{2}[T ]\d{2}(:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?\Z"
    ),
)


@given(st.lists(st.one_of(_iso_like, st.none(), st.integers(), st.text(max_size=5)), max_size=12))
def test_property_column_parse_equals_scalar_parse(values: list[object]) -> None:
    assert parse_timestamps(values).to_pylist() == [parse_timestamp(value) for value in values]


@given(st.datetimes(timezones=st.just(UTC)))
def test_property_isoformat_round_trips(moment: datetime) -> None:
    assert parse_timestamp(moment.isoformat()) == moment
    assert parse_timestamps([moment.isoformat()]).to_pylist() == [moment]
