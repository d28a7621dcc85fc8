"""The two input shapes every step reads, and small DuckDB helpers shared by the steps.

``records``: one row per source record — ``record_key`` (unique, stable), ``source_system``,
``first_name_key``, ``last_name_key``, ``birth_date``, ``email_canonical``, ``phone_e164``,
``street_key``, ``city_key``, ``postal_code_key``, ``country_code``, ``created_at``,
``updated_at`` (other columns are carried along and ignored).

``identifiers``: one row per (``record_key``, ``identifier_type``, ``identifier_value``) with
``identifier_priority`` (1 = names one person most strongly).

Steps take relation *names* (tables or views visible on the connection) and return DuckDB
relations, so a dbt Python model can return them as they are and nothing is copied to Python.
"""

from __future__ import annotations

import re

import duckdb

RECORD_COLUMNS: tuple[str, ...] = (
    "record_key",
    "source_system",
    "first_name_key",
    "last_name_key",
    "birth_date",
    "email_canonical",
    "phone_e164",
    "street_key",
    "city_key",
    "postal_code_key",
    "country_code",
    "created_at",
    "updated_at",
)
IDENTIFIER_COLUMNS: tuple[str, ...] = (
    "record_key",
    "identifier_type",
    "identifier_value",
    "identifier_priority",
)

_NAME = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$|^\"[^\"]+\"(\.\"[^\"]+\"){0,2}$"
)


def sql_literal(value: str) -> str:
    """A string as a SQL literal."""
    return "'" + value.replace("'", "''") + "'"


def checked_name(name: str) -> str:
    """A relation name safe to paste into SQL (``schema.table`` or quoted parts).

    Raises:
        ValueError: The name could smuggle SQL.
    """
    if not _NAME.match(name):
        raise ValueError(f"not a plain relation name: {name!r}")
    return name


def require_columns(
    con: duckdb.DuckDBPyConnection, relation: str, columns: tuple[str, ...]
) -> None:
    """Fail with the missing column names rather than a binder error deep inside a step.

    Raises:
        ValueError: Some of ``columns`` are absent from ``relation``.
    """
    present = {
        c.lower() for c in con.sql(f"select * from {checked_name(relation)} limit 0").columns
    }
    missing = [c for c in columns if c.lower() not in present]
    if missing:
        raise ValueError(f"{relation} lacks column(s): {', '.join(missing)}")


def define_macros(con: duckdb.DuckDBPyConnection) -> None:
    """SQL macros used by several steps (temporary: they live as long as the connection).

    ``names_compatible``: could two first-name keys be the same person's? Equal, or one
    typo apart (one edit or transposition, names of 4+ letters) — but not a Slavic
    masculine/feminine pair (Jan/Jana, Petr/Petra), which one edit also turns into each other
    and which is the commonest way two members of one household differ.
    """
    con.execute(
        """
        create or replace temp macro names_compatible(a, b) as
            a = b
            or (
                length(a) >= 4 and length(b) >= 4
                and damerau_levenshtein(a, b) = 1
                and a <> b || 'a' and b <> a || 'a'
            )
        """
    )


def as_view(con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation, name: str) -> str:
    """Expose a relation (e.g. a dbt ``ref``) under a *temporary* view name for the steps.

    Temporary on purpose: a persistent view would outlive the build in the warehouse, and
    one built on a step's temporary macros would fail for every later reader.
    """
    con.execute(f"create or replace temp view {checked_name(name)} as {relation.sql_query()}")
    return name


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """Whether ``schema.name`` is a table or view (a model reading its own previous build)."""
    rows = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    return bool(rows[0][0])


def _one_edit_apart(a: str, b: str) -> bool:
    """Exactly one insertion, deletion, substitution or adjacent transposition apart."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k, (x, y) in enumerate(zip(short, long_, strict=False)) if x != y), len(short))
    return short[i:] == long_[i + 1 :]


def names_compatible(a: str, b: str) -> bool:
    """Python twin of the ``names_compatible`` SQL macro (:func:`define_macros`)."""
    return a == b or (
        len(a) >= 4 and len(b) >= 4 and _one_edit_apart(a, b) and a != b + "a" and b != a + "a"
    )
