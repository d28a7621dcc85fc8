"""Phone normalisation: countries as typed, numbers in every format the world produces."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipelines._common.phones import (
    add_phone_columns,
    add_phone_columns_arrow,
    country_field,
    region_for_country,
    to_e164,
)


@pytest.mark.parametrize(
    ("country", "region"),
    [
        ("Czech Republic", "CZ"),
        ("CZ", "CZ"),
        ("Česko", "CZ"),
        ("česká republika", "CZ"),
        ("Slovakia", "SK"),
        ("Slovensko", "SK"),
        ("Polska", "PL"),
        ("pl", "PL"),
        ("Atlantis", None),
        ("", None),
        (None, None),
    ],
)
def test_region_for_country(country: str | None, region: str | None) -> None:
    assert region_for_country(country) == region


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+420 601 123 456", None, "+420601123456"),
        ("00420601123456", None, "+420601123456"),
        ("(+420) 601 123 456", "SK", "+420601123456"),
        ("+421 905 123 456", "CZ", "+421905123456"),
        ("601-123-456", "CZ", "+420601123456"),
        ("905 123 456", "SK", "+421905123456"),
        ("601 123 456", "PL", "+48601123456"),
        # no country on the record: the first market where the number is valid
        ("601123456", None, "+420601123456"),
    ],
)
def test_to_e164_reads_every_format(raw: str, region: str | None, expected: str) -> None:
    assert to_e164(raw, region) == (expected, True)


@pytest.mark.parametrize("junk", ["000000000", "0", "n/a", "+420 000 000 000"])
def test_junk_is_flagged_not_guessed(junk: str) -> None:
    assert to_e164(junk, "CZ") == (None, False)


def test_empty_values_stay_null() -> None:
    assert to_e164(None) == (None, None)
    assert to_e164("   ") == (None, None)


def test_record_mapper_uses_the_records_country() -> None:
    mapper = add_phone_columns(["phone", "mobile"], country_field("country"))
    row = mapper({"phone": "601 123 456", "mobile": None, "country": "Polska"})
    assert row["phone_e164"] == "+48601123456"
    assert row["phone_is_valid"] is True
    assert row["mobile_e164"] is None
    assert row["mobile_is_valid"] is None


def test_arrow_mapper_maps_a_hint_column_to_regions() -> None:
    mapper = add_phone_columns_arrow(["phone"], "currency", {"CZK": "CZ", "PLN": "PL"})
    table = pa.table({"phone": ["601123456", "601123456", None], "currency": ["CZK", "PLN", "CZK"]})
    out = mapper(table)
    assert out.column("phone_e164").to_pylist() == ["+420601123456", "+48601123456", None]
    assert out.column("phone_is_valid").to_pylist() == [True, True, None]
