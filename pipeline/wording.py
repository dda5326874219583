"""Counts in plain English for the lines people read: "1 request", "3 requests", never "(s)"."""

from __future__ import annotations


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, the noun plural unless the number is exactly one."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
