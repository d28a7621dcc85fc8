"""Phone numbers to E.164 at ingestion time.

SQL cannot apply per-country numbering plans, so every phone column lands with two siblings:
``<column>_e164`` (the number in E.164 form, or null when it cannot be read as a valid number)
and ``<column>_is_valid`` (null when the source value is empty). The region used to read a
national number ("601 123 456") comes from the record's country; records without a country
try a short list of fallback regions and take the first under which the number is valid.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import phonenumbers

# The markets the business sells in, in order of volume: a national number without a country
# is tried under each and the first region that makes it valid wins.
DEFAULT_FALLBACK_REGIONS: tuple[str, ...] = ("CZ", "SK", "PL")

# Country names as people type them, folded (lowercase, no accents, single spaces).
_COUNTRY_ALIASES: dict[str, str] = {
    "czech republic": "CZ",
    "czechia": "CZ",
    "cesko": "CZ",
    "ceska republika": "CZ",
    "cr": "CZ",
    "tschechien": "CZ",
    "slovakia": "SK",
    "slovak republic": "SK",
    "slovensko": "SK",
    "slovenska republika": "SK",
    "sr": "SK",
    "poland": "PL",
    "polska": "PL",
    "polsko": "PL",
    "germany": "DE",
    "deutschland": "DE",
    "nemecko": "DE",
    "austria": "AT",
    "osterreich": "AT",
    "rakousko": "AT",
    "hungary": "HU",
    "magyarorszag": "HU",
    "madarsko": "HU",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "united states": "US",
    "usa": "US",
}

PhoneValue = tuple[str | None, bool | None]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(ascii_only.lower().replace(".", " ").split())


@lru_cache(maxsize=1024)
def region_for_country(country: str | None) -> str | None:
    """Map a free-text country ("Czech Republic", "CZ", "Česko") to a phonenumbers region.

    Args:
        country: The country as stored in the source record.

    Returns:
        An ISO 3166-1 alpha-2 region code, or ``None`` when the country is empty or unknown.
    """
    if not country:
        return None
    folded = _fold(str(country))
    if folded in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[folded]
    code = folded.upper()
    if len(code) == 2 and code in phonenumbers.SUPPORTED_REGIONS:
        return code
    return None


@lru_cache(maxsize=200_000)
def to_e164(
    raw: str | None,
    region: str | None = None,
    fallback_regions: tuple[str, ...] = DEFAULT_FALLBACK_REGIONS,
) -> PhoneValue:
    """Normalise one phone number.

    Args:
        raw: The number as typed, e.g. ``"601 123 456"`` or ``"00420601123456"``.
        region: Region of the record (from its country); ``None`` when unknown.
        fallback_regions: Regions tried in order when ``region`` is unknown and the number has
            no international prefix.

    Returns:
        ``(e164, is_valid)``: ``(None, None)`` for an empty value, ``(None, False)`` when the
        number cannot be read as a valid number.
    """
    if raw is None:
        return None, None
    text = str(raw).strip()
    if not text:
        return None, None
    # "00" is the international call prefix in all our markets; phonenumbers wants "+".
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+"):
        candidates: Sequence[str | None] = (None,)
    elif region:
        candidates = (region,)
    else:
        candidates = fallback_regions
    for candidate in candidates:
        try:
            number = phonenumbers.parse(text, candidate)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True
    return None, False


RegionResolver = Callable[[Mapping[str, Any]], str | None]


def country_field(field: str) -> RegionResolver:
    """Build a resolver that reads the region from a free-text country field of the record."""

    def resolve(record: Mapping[str, Any]) -> str | None:
        return region_for_country(record.get(field))

    return resolve


def add_phone_columns(
    columns: Iterable[str],
    region_of: RegionResolver | None = None,
    fallback_regions: tuple[str, ...] = DEFAULT_FALLBACK_REGIONS,
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Build a map function (for ``resource.add_map``) adding ``<col>_e164`` / ``<col>_is_valid``.

    The siblings are always written, even when the phone is missing, so the columns exist in
    the schema from the first load on.

    Args:
        columns: Phone columns of the record (after any flattening).
        region_of: Returns the record's region; ``None`` means "use the fallback regions".
        fallback_regions: Regions tried when the record has no usable country.

    Returns:
        A function that adds the columns to a record in place and returns it.
    """
    cols = tuple(columns)

    def mapper(record: dict[str, Any]) -> dict[str, Any]:
        region = region_of(record) if region_of else None
        for col in cols:
            e164, valid = to_e164(record.get(col), region, fallback_regions)
            record[f"{col}_e164"] = e164
            record[f"{col}_is_valid"] = valid
        return record

    return mapper


def phone_column_hints(columns: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Column hints for the siblings, so an all-null first batch still gets typed columns."""
    hints: dict[str, dict[str, Any]] = {}
    for col in columns:
        hints[f"{col}_e164"] = {"data_type": "text", "nullable": True}
        hints[f"{col}_is_valid"] = {"data_type": "bool", "nullable": True}
    return hints


def add_phone_columns_arrow(
    columns: Iterable[str],
    region_column: str | None = None,
    region_map: Mapping[str, str] | None = None,
    fallback_regions: tuple[str, ...] = DEFAULT_FALLBACK_REGIONS,
) -> Callable[[Any], Any]:
    """The Arrow-table twin of :func:`add_phone_columns` for sources yielding ``pyarrow`` tables.

    Args:
        columns: Phone columns; those absent from a table are skipped.
        region_column: Column holding the record's country (free text or ISO code).
        region_map: Optional mapping of the ``region_column`` value to a region, for tables
            that carry no country but another strong hint (e.g. an order's currency).
        fallback_regions: Regions tried when the record has no usable country.

    Returns:
        A function that takes a ``pyarrow.Table`` and returns it with the sibling columns
        appended (other items pass through unchanged).
    """
    import pyarrow as pa

    cols = tuple(columns)

    def mapper(table: Any) -> Any:
        if not isinstance(table, pa.Table):
            return table
        present = [c for c in cols if c in table.column_names]
        if not present:
            return table
        if region_column and region_column in table.column_names:
            hints = table.column(region_column).to_pylist()
            if region_map is not None:
                regions = [region_map.get(h) if h is not None else None for h in hints]
            else:
                regions = [region_for_country(h) for h in hints]
        else:
            regions = [None] * table.num_rows
        for col in present:
            values = [
                to_e164(raw, region, fallback_regions)
                for raw, region in zip(table.column(col).to_pylist(), regions, strict=True)
            ]
            table = table.append_column(
                pa.field(f"{col}_e164", pa.string()), pa.array([v[0] for v in values], pa.string())
            )
            table = table.append_column(
                pa.field(f"{col}_is_valid", pa.bool_()),
                pa.array([v[1] for v in values], pa.bool_()),
            )
        return table

    return mapper
