"""Keys for any input: the same normalisation as the dbt models, and mappings that fail clearly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from orchestration import environment
from orchestration.identity.keys import (
    FOLD_FROM,
    FOLD_TO,
    KeyedInput,
    build_keyed_input,
    name_key,
    person_name_key,
    postal_code_key,
    text_key,
)
from orchestration.identity.mapping import (
    ColumnMapping,
    IdentityInputError,
    MappingError,
    load_mapping,
    parse_mapping,
)

MAPPING: dict[str, Any] = {
    "record_id": "id",
    "source": "crm",
    "default_phone_region": "CZ",
    "columns": {
        "first_name": "first_name",
        "last_name": "last_name",
        "full_name": "full_name",
        "email": ["email", "email2"],
        "phone": "phone",
        "birth_date": "birth_date",
        "postal_code": "postal_code",
        "country": "country",
        "created_at": "created_at",
    },
    "identifiers": {"login": "login"},
}
COLUMNS = [
    "id",
    "first_name",
    "last_name",
    "full_name",
    "email",
    "email2",
    "phone",
    "birth_date",
    "postal_code",
    "country",
    "created_at",
    "login",
]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(":memory:") as connection:
        yield connection


def _scalar(con: duckdb.DuckDBPyConnection, expr: str, value: str | None) -> Any:
    return con.execute(f"select {expr} from (select ?::varchar as v)", [value]).fetchall()[0][0]


def _keyed(
    con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], mapping: ColumnMapping | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.DataFrame([{c: row.get(c) for c in COLUMNS} for row in rows], dtype=object)
    con.register("rows_frame", frame)
    con.execute(
        "create or replace temp table raw_input as select "
        + ", ".join(f"cast({c} as varchar) as {c}" for c in COLUMNS)
        + " from rows_frame"
    )
    keyed: KeyedInput = build_keyed_input(con, "raw_input", mapping or parse_mapping(MAPPING))
    records = con.sql(f"select * from {keyed.records} order by input_row").df()
    identifiers = con.sql(f"select * from {keyed.identifiers}").df()
    return records, identifiers


def _value(frame: pd.DataFrame, column: str, row: int = 0) -> Any:
    value = frame[column].iloc[row]
    return None if pd.isna(value) else value


def test_folding_strings_are_the_dbt_macros() -> None:
    macro = (environment.DBT_PROJECT_DIR / "macros" / "identity.sql").read_text(encoding="utf-8")
    assert f"'{FOLD_FROM}'" in macro
    assert f"'{FOLD_TO}'" in macro
    assert len(FOLD_FROM) == len(FOLD_TO)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Łukasz", "lukasz"),
        ("WIŚNIEWSKI", "wisniewski"),
        ("Nováková-Malá", "novakovamala"),
        ("  Šťastná ", "stastna"),
        ("Dvořák", "dvorak"),
        ("Żółć", "zolc"),
        ("Jürgen", "jurgen"),
        ("O'Brien", "obrien"),
        ("123", None),
        ("", None),
        (None, None),
    ],
)
def test_name_key(con: duckdb.DuckDBPyConnection, raw: str | None, key: str | None) -> None:
    assert _scalar(con, name_key("v"), raw) == key


def test_an_address_in_a_name_field_names_nobody(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(con, person_name_key("v"), "karel.maly@centrum.cz") is None
    assert _scalar(con, person_name_key("v"), "Karel") == "karel"


@pytest.mark.parametrize(
    ("raw", "key"),
    [("602 00", "60200"), ("31-147", "31147"), ("sw1a 1aa", "SW1A1AA"), (" ", None)],
)
def test_postal_code_key(con: duckdb.DuckDBPyConnection, raw: str, key: str | None) -> None:
    assert _scalar(con, postal_code_key("v"), raw) == key


def test_text_key(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(con, text_key("v"), "Veveří 12/3a") == "veveri123a"
    assert _scalar(con, text_key("v"), "ul. Długa 5") == "uldluga5"


@pytest.mark.parametrize(
    ("email", "canonical"),
    [
        ("Jan.Novak@gmail.com", "jannovak@gmail.com"),
        ("jan.novak+eshop@googlemail.com", "jannovak@gmail.com"),
        ("j.a.n.novak@gmial.com", "jannovak@gmail.com"),
        ("petra.svobodova+news@seznam.cz", "petra.svobodova@seznam.cz"),
        ("petra.svobodova@sezam.cz", "petra.svobodova@seznam.cz"),
        ("zofia@wpp.pl", "zofia@wp.pl"),
        (" TEST@test.com ", "test@test.com"),
        ("not-an-address", "not-an-address"),
        ("   ", None),
    ],
)
def test_email_canonical(con: duckdb.DuckDBPyConnection, email: str, canonical: str | None) -> None:
    records, identifiers = _keyed(con, [{"id": "1", "email": email}])
    assert _value(records, "email_canonical") == canonical
    emails = identifiers[identifiers["identifier_type"] == "email"]["identifier_value"].tolist()
    assert emails == ([canonical] if canonical else [])


@pytest.mark.parametrize(
    ("phone", "country", "e164"),
    [
        ("601 123 456", None, "+420601123456"),
        ("00420 601 123 456", None, "+420601123456"),
        ("+48 512 345 678", "CZ", "+48512345678"),
        ("512 345 678", "Polska", "+48512345678"),
        ("12345", None, None),
        ("000000000", "CZ", None),
        ("", None, None),
    ],
)
def test_phone_e164(
    con: duckdb.DuckDBPyConnection, phone: str, country: str | None, e164: str | None
) -> None:
    records, identifiers = _keyed(con, [{"id": "1", "phone": phone, "country": country}])
    assert _value(records, "phone_e164") == e164
    phones = identifiers[identifiers["identifier_type"] == "phone"]["identifier_value"].tolist()
    assert phones == ([e164] if e164 else [])


def test_national_numbers_need_a_region(con: duckdb.DuckDBPyConnection) -> None:
    mapping = parse_mapping({k: v for k, v in MAPPING.items() if k != "default_phone_region"})
    rows = [{"id": "1", "phone": "601 123 456"}, {"id": "2", "phone": "+420 601 123 456"}]
    records, _ = _keyed(con, rows, mapping)
    assert records["phone_e164"].tolist()[1] == "+420601123456"
    assert pd.isna(records["phone_e164"].tolist()[0])


def test_country_codes_and_dates(con: duckdb.DuckDBPyConnection) -> None:
    rows = [
        {"id": "1", "country": "Česko", "birth_date": "31.1.1990"},
        {"id": "2", "country": "pl", "birth_date": "1990-01-31"},
        {"id": "3", "country": "Atlantis", "birth_date": "31/01/1990"},
        {"id": "4", "birth_date": "31.2.1990"},
        {"id": "5", "birth_date": "someday"},
    ]
    records, _ = _keyed(con, rows)
    assert records["country_code"].tolist()[:2] == ["CZ", "PL"]
    assert pd.isna(records["country_code"].tolist()[2])
    dates = [None if pd.isna(d) else str(d)[:10] for d in records["birth_date"]]
    assert dates == ["1990-01-31", "1990-01-31", "1990-01-31", None, None]


def test_full_name_fills_empty_name_columns(con: duckdb.DuckDBPyConnection) -> None:
    rows = [
        {"id": "1", "full_name": "Jana  Nováková Malá"},
        {"id": "2", "full_name": "Jana Nováková", "first_name": "Janička"},
        {"id": "3", "full_name": "karel.maly@centrum.cz"},
        {"id": "4", "full_name": "Madonna"},
    ]
    records, _ = _keyed(con, rows)
    assert records["first_name_key"].tolist()[:2] == ["jana", "janicka"]
    assert records["last_name_key"].tolist()[:2] == ["novakovamala", "novakova"]
    assert pd.isna(records["first_name_key"].iloc[2])
    assert records["first_name_key"].iloc[3] == "madonna"
    assert pd.isna(records["last_name_key"].iloc[3])


def test_identifiers_and_record_keys(con: duckdb.DuckDBPyConnection) -> None:
    rows = [
        {
            "id": "7",
            "email": "a.b@gmail.com",
            "email2": "ab@seznam.cz",
            "login": " ab ",
            "created_at": "2024-01-01T10:00:00+02:00",
        }
    ]
    records, identifiers = _keyed(con, rows)
    assert records["record_key"].tolist() == ["crm:7"]
    assert str(records["created_at"].iloc[0]) == "2024-01-01 08:00:00"
    got = set(
        identifiers[["identifier_type", "identifier_value", "identifier_priority"]].itertuples(
            index=False, name=None
        )
    )
    assert got == {("email", "ab@gmail.com", 5), ("email", "ab@seznam.cz", 5), ("login", "ab", 2)}


def test_repeated_or_empty_record_ids_are_refused(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(IdentityInputError, match="crm:1"):
        _keyed(con, [{"id": "1"}, {"id": "1"}])
    with pytest.raises(IdentityInputError, match="empty record id"):
        _keyed(con, [{"id": " "}])


def test_mapping_errors_say_what_to_change(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"'firstname'.*allowed: first_name"):
        parse_mapping({**MAPPING, "columns": {"firstname": "fn"}})
    with pytest.raises(MappingError, match="'colums'"):
        parse_mapping({**MAPPING, "colums": {}})
    with pytest.raises(MappingError, match="record_id"):
        parse_mapping({k: v for k, v in MAPPING.items() if k != "record_id"})
    with pytest.raises(MappingError, match="exactly one of 'source'"):
        parse_mapping({**MAPPING, "source_column": "system"})
    with pytest.raises(MappingError, match="under 'columns'"):
        parse_mapping({**MAPPING, "identifiers": {"email": "email"}})
    with pytest.raises(MappingError, match="'passport'"):
        parse_mapping({**MAPPING, "identifiers": {"passport": "pass_no"}})
    with pytest.raises(MappingError, match="XX"):
        parse_mapping({**MAPPING, "default_phone_region": "xx"})
    with pytest.raises(MappingError, match="nothing to match on"):
        parse_mapping({"record_id": "id", "source": "crm"})
    mapping = parse_mapping(MAPPING)
    with pytest.raises(MappingError, match=r"no column\(s\) 'email2'.*columns are: id, first_name"):
        mapping.check_columns([c for c in COLUMNS if c != "email2"])
    path = tmp_path / "m.yml"
    path.write_text("record_id: [", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(path)
    with pytest.raises(MappingError, match="cannot read"):
        load_mapping(tmp_path / "missing.yml")


def test_fast_duckdb_folding_matches_the_portable_translate() -> None:
    # The DuckDB macro uses strip_accents for speed; on every letter of the portable map
    # (and its capitals) it must give what translate() gives on the other warehouses.
    import duckdb

    from orchestration.identity.keys import fold_diacritics

    text = FOLD_FROM + FOLD_FROM.upper() + " Łódź ŁUKASZ Šťastný Ďurčová"
    con = duckdb.connect()
    fast, portable = con.execute(
        f"select {fold_diacritics('$1')}, translate(lower(trim($1)), $2, $3)",
        [text, FOLD_FROM, FOLD_TO],
    ).fetchall()[0]
    assert fast == portable
