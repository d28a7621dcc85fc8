"""The cross-engine checksum: value normalisation and order independence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from tests.dbt.compare import fingerprint, normalise


def test_instants_compare_in_utc_whatever_their_zone() -> None:
    prague = dt.datetime(2026, 1, 1, 11, 0, 0, tzinfo=ZoneInfo("Europe/Prague"))
    utc = dt.datetime(2026, 1, 1, 10, 0, 0, tzinfo=dt.UTC)
    assert normalise(prague) == normalise(utc) == "2026-01-01T10:00:00.000000"


def test_numbers_compare_rounded_to_six_places_whatever_their_type() -> None:
    assert normalise(Decimal("12.50")) == normalise(12.5) == normalise(Decimal("12.5000000"))
    assert normalise(7) == normalise(Decimal("7.000000")) == "7.000000"
    assert normalise(0.1 + 0.2) == normalise(Decimal("0.3"))
    assert normalise(-0.0000001) == normalise(0)


def test_null_empty_string_and_booleans_stay_distinct() -> None:
    values = [normalise(None), normalise(""), normalise(False), normalise(0), normalise("false")]
    assert len({repr(v) for v in values}) == len(values)


def test_checksum_ignores_row_order_but_counts_duplicates() -> None:
    rows = [("a", 1), ("b", 2), ("c", None)]
    assert fingerprint(["x", "y"], [rows]) == fingerprint(["x", "y"], [list(reversed(rows))])
    assert (
        fingerprint(["x", "y"], [rows]).checksum
        != fingerprint(["x", "y"], [[*rows, ("a", 1)]]).checksum
    )
    assert fingerprint(["x", "y"], [rows[:2], rows[2:]]) == fingerprint(["x", "y"], [rows])
