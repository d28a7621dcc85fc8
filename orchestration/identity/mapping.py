"""Which input columns hold what: the mapping that lets identity resolution read any file.

A mapping is a small YAML file; only ``record_id`` and a source are required::

    record_id: id              # the column naming a record uniquely within its source
    source: crm                # a constant source name for every row ...
    # source_column: system    # ... or the column holding it (exactly one of the two)
    default_phone_region: CZ   # reads national numbers ("601 123 456") of rows whose
                               # country is empty or unknown; omit it and only
                               # international numbers (+420…, 00420…) are read
    columns:                   # person attributes → input columns, every one optional
      first_name: first_name
      last_name: last_name
      full_name: name          # split into first word / rest where first or last name is empty
      email: email             # one column or a list: the first non-empty one is the record's
      phone: [mobile, phone]   # email (phone); all of them are identifiers
      birth_date: dob          # ISO 2024-01-31 or day-first 31.1.2024, 31/01/2024
      street: street
      city: city
      postal_code: zip
      country: country         # free text or ISO code ("Česko", "CZ", "Polska")
      created_at: created_at   # when the record appeared: anchors new golden IDs
      updated_at: updated_at
    identifiers:               # further columns naming one person: type → column (or list)
      login: login_id
      loyalty: loyalty_card
      shop_customer: customer_id
      order: order_number
      device: anonymous_id

``record_key`` becomes ``<source>:<record id>``. Identifier types are the ones the matching
settings have caps for (:data:`IDENTIFIER_PRIORITY`); emails and phones are mapped under
``columns`` because they are person attributes too (compared by the probabilistic model).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
import yaml

from orchestration import environment

# How strongly one value names one person (1 = strongest); the order of
# int_identity__identifiers, which the deterministic edges and cannot-link splits rely on.
# One source for both: the dbt seed.
IDENTIFIER_TYPES_SEED = environment.DBT_PROJECT_DIR / "seeds" / "identity_identifier_types.csv"


def _identifier_priority() -> dict[str, int]:
    with IDENTIFIER_TYPES_SEED.open(newline="", encoding="utf-8") as seed:
        rows = [(r["identifier_type"], int(r["identifier_priority"])) for r in csv.DictReader(seed)]
    return dict(sorted(rows, key=lambda row: row[1]))


IDENTIFIER_PRIORITY: dict[str, int] = _identifier_priority()

# Types that come from `columns` (email, phone) rather than from `identifiers`.
ATTRIBUTE_IDENTIFIERS: frozenset[str] = frozenset({"email", "phone"})

SINGLE_COLUMNS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "full_name",
    "birth_date",
    "street",
    "city",
    "postal_code",
    "country",
    "created_at",
    "updated_at",
)
MULTI_COLUMNS: tuple[str, ...] = ("email", "phone")
TOP_LEVEL_KEYS: tuple[str, ...] = (
    "record_id",
    "source",
    "source_column",
    "default_phone_region",
    "columns",
    "identifiers",
)


class IdentityInputError(ValueError):
    """Input that identity resolution cannot read; the message says what to change."""


class MappingError(IdentityInputError):
    """A mapping file that is malformed or names columns the input does not have."""


@dataclass(frozen=True)
class ColumnMapping:
    """Where each piece of a person record is in the input.

    Attributes:
        record_id: Column with the record's id (unique within its source).
        source: Constant source name, when ``source_column`` is not given.
        source_column: Column holding the source name, when ``source`` is not given.
        default_phone_region: ISO region for national phone numbers of rows without a
            usable country; ``None``: only international numbers are read.
        columns: Person attribute → input column (``first_name``, ``city``, ...).
        emails: Email columns, the first non-empty one being the record's email.
        phones: Phone columns, likewise.
        identifiers: Identifier type → its columns.
    """

    record_id: str
    source: str | None = None
    source_column: str | None = None
    default_phone_region: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    identifiers: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def column(self, attribute: str) -> str | None:
        """The input column of a single-column attribute, or ``None`` when unmapped."""
        return self.columns.get(attribute)

    def input_columns(self) -> list[str]:
        """Every input column the mapping reads, in mapping order, without repeats."""
        names: list[str] = [self.record_id]
        if self.source_column:
            names.append(self.source_column)
        names.extend(self.columns.values())
        names.extend(self.emails)
        names.extend(self.phones)
        for cols in self.identifiers.values():
            names.extend(cols)
        return list(dict.fromkeys(names))

    def check_columns(self, available: Iterable[str]) -> None:
        """Fail unless every mapped column exists in the input.

        Raises:
            MappingError: Listing the missing columns and the input's columns.
        """
        present = list(available)
        missing = [c for c in self.input_columns() if c not in present]
        if missing:
            raise MappingError(
                f"the input has no column(s) {', '.join(map(repr, missing))}; "
                f"its columns are: {', '.join(present)}"
            )


def _reject_unknown(where: str, given: Iterable[str], allowed: Iterable[str]) -> None:
    allowed_list = list(allowed)
    unknown = [k for k in given if k not in allowed_list]
    if unknown:
        raise MappingError(
            f"unknown key(s) {', '.join(map(repr, unknown))} in {where}; "
            f"allowed: {', '.join(allowed_list)}"
        )


def _column_name(where: str, value: Any) -> str:
    # YAML turns `id: 1` or `zip: 602` into numbers; column names are text.
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise MappingError(f"{where} must be a column name, got {value!r}")
    name = str(value).strip()
    if not name:
        raise MappingError(f"{where} must be a column name, got an empty string")
    return name


def _column_list(where: str, value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise MappingError(f"{where} must name at least one column")
    return tuple(_column_name(f"{where}[{i}]", v) for i, v in enumerate(items))


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    section = data.get(key) or {}
    if not isinstance(section, dict):
        raise MappingError(f"{key!r} must be a mapping of names to columns")
    return section


def parse_mapping(data: Any, origin: str = "mapping") -> ColumnMapping:
    """Validate a mapping already read from YAML (or built in code).

    Args:
        data: The parsed document.
        origin: Where it came from, for messages (a file name).

    Raises:
        MappingError: Unknown keys, a missing record id or source, an unknown identifier
            type or phone region, or nothing to match on.
    """
    if not isinstance(data, dict):
        raise MappingError(f"{origin}: expected a YAML mapping with at least 'record_id'")
    try:
        _reject_unknown("the mapping", data, TOP_LEVEL_KEYS)
        if data.get("record_id") is None:
            raise MappingError("'record_id' is required: the column naming each record")
        record_id = _column_name("record_id", data["record_id"])
        source = data.get("source")
        source_column = data.get("source_column")
        if (source is None) == (source_column is None):
            raise MappingError(
                "give exactly one of 'source' (a constant such as crm) and 'source_column'"
            )
        if source is not None:
            source = _column_name("source", source)
        if source_column is not None:
            source_column = _column_name("source_column", source_column)

        columns_section = _section(data, "columns")
        _reject_unknown("'columns'", columns_section, SINGLE_COLUMNS + MULTI_COLUMNS)
        columns = {
            k: _column_name(f"columns.{k}", v)
            for k, v in columns_section.items()
            if k in SINGLE_COLUMNS
        }
        emails = (
            _column_list("columns.email", columns_section["email"])
            if "email" in columns_section
            else ()
        )
        phones = (
            _column_list("columns.phone", columns_section["phone"])
            if "phone" in columns_section
            else ()
        )

        id_section = _section(data, "identifiers")
        misplaced = [k for k in id_section if k in ATTRIBUTE_IDENTIFIERS]
        if misplaced:
            raise MappingError(
                f"map {', '.join(misplaced)} under 'columns', not 'identifiers' "
                "(they are compared as person attributes too)"
            )
        allowed = [t for t in IDENTIFIER_PRIORITY if t not in ATTRIBUTE_IDENTIFIERS]
        _reject_unknown("'identifiers'", id_section, allowed)
        identifiers = {k: _column_list(f"identifiers.{k}", v) for k, v in id_section.items()}

        region = data.get("default_phone_region")
        if region is not None:
            region = str(region).strip().upper()
            if region not in phonenumbers.SUPPORTED_REGIONS:
                raise MappingError(
                    f"default_phone_region {region!r} is not an ISO 3166 region "
                    "phonenumbers knows (e.g. CZ, SK, PL, DE)"
                )
    except MappingError as error:
        raise MappingError(f"{origin}: {error}") from None

    if not (columns or emails or phones or identifiers):
        raise MappingError(
            f"{origin}: maps nothing to match on; map at least a name, email, phone "
            "or identifier column"
        )
    return ColumnMapping(
        record_id=record_id,
        source=source,
        source_column=source_column,
        default_phone_region=region,
        columns=columns,
        emails=emails,
        phones=phones,
        identifiers=identifiers,
    )


def load_mapping(path: Path | str) -> ColumnMapping:
    """Read and validate a mapping file.

    Raises:
        MappingError: The file is missing, is not YAML, or is not a valid mapping.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as error:
        raise MappingError(f"cannot read mapping {p}: {error.strerror or error}") from error
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise MappingError(f"{p} is not valid YAML: {error}") from error
    return parse_mapping(data, str(p))
