"""Comparison keys for any input: the records and identifiers shapes from a raw file.

The warehouse derives the keys in dbt (``int_identity__records`` with the macros of
``macros/identity.sql`` and ``macros/portable/normalize.sql``); this module renders the same
expressions for DuckDB, so a file resolved by ``closedloop identity resolve`` is keyed exactly
as the warehouse keys it and tuned rules carry over. The folding strings are defined once
here and a test checks the dbt macro carries the same ones.

Phones are the exception: SQL cannot apply numbering plans, so — as at ingestion — they go
through :func:`pipelines._common.phones.to_e164`, once per distinct (number, region).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import phonenumbers
import pyarrow as pa

from orchestration import environment
from orchestration.identity.frames import checked_name, sql_literal
from orchestration.identity.mapping import IDENTIFIER_PRIORITY, ColumnMapping, IdentityInputError
from pipelines._common.phones import to_e164

# Central-European diacritics and their ASCII letters, position by position (the Polish `ł`
# is a letter of its own, which no accent stripping folds). Mirrored by `fold_diacritics` in
# dbt_project/macros/identity.sql.
FOLD_FROM = "áàâäãåąćčçďđéèêëěęíìîïĺľłńňñóòôöõőŕřśšßťúùûüůűýÿźżž"
FOLD_TO = "aaaaaaacccddeeeeeeiiiilllnnnoooooorrssstuuuuuuyyzzz"

SEEDS_DIR = environment.DBT_PROJECT_DIR / "seeds"
EMAIL_DOMAIN_ALIASES_SEED = SEEDS_DIR / "email_domain_aliases.csv"
COUNTRY_CODES_SEED = SEEDS_DIR / "country_codes.csv"
BLOCKLIST_SEED = SEEDS_DIR / "identity_blocklist.csv"

# Values with an offset ("…T10:00:00+02:00", "… UTC") are converted; the rest taken as UTC.
_WITH_OFFSET = "[0-9]:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)? ?([Zz]|UTC|[+-][0-9]{2}(:?[0-9]{2})?)$"


# --- expressions (each mirrors the dbt macro of the same name, rendered for DuckDB) -------


def quote_ident(name: str) -> str:
    """A column name as a quoted SQL identifier (input files name columns freely)."""
    return '"' + name.replace('"', '""') + '"'


def _regex_replace_all(expr: str, pattern: str, replacement: str) -> str:
    return f"regexp_replace({expr}, {sql_literal(pattern)}, {sql_literal(replacement)}, 'g')"


def _split_part(expr: str, delimiter: str, part: int) -> str:
    # dbt-duckdb's split_part: NULL (not '') past the last part.
    return f"string_split({expr}, {sql_literal(delimiter)})[{int(part)}]"


def fold_diacritics(expr: str) -> str:
    """Lower-cased, trimmed text with Central-European diacritics folded to ASCII.

    The DuckDB rendering of the macro (``duckdb__fold_diacritics``): ``strip_accents`` plus
    the letters it leaves alone; same result as ``translate(FOLD_FROM, FOLD_TO)`` on them.
    """
    folded = f"strip_accents(lower(trim({expr})))"
    for letter, ascii_letter in (("ł", "l"), ("đ", "d"), ("ß", "s")):
        folded = f"replace({folded}, {sql_literal(letter)}, {sql_literal(ascii_letter)})"
    return folded


def name_key(expr: str) -> str:
    """A name as a key: folded, letters only, '' → NULL ("Nováková-Malá" → novakovamala)."""
    return f"nullif({_regex_replace_all(fold_diacritics(expr), '[^a-z]', '')}, '')"


def person_name_key(expr: str) -> str:
    """:func:`name_key`, but NULL for an address typed into a name field (it names nobody)."""
    return f"case when {expr} not like '%@%' then {name_key(expr)} end"


def text_key(expr: str) -> str:
    """A street, city or similar free text as a key: folded, letters and digits kept."""
    return f"nullif({_regex_replace_all(fold_diacritics(expr), '[^a-z0-9]', '')}, '')"


def postal_code_key(expr: str) -> str:
    """A postal code as a key: its letters and digits, upper-cased ("602 00" → 60200)."""
    return f"nullif(upper({_regex_replace_all(f'trim({expr})', '[^A-Za-z0-9]', '')}), '')"


def normalize_email(expr: str) -> str:
    """Email as typed, made comparable: trimmed, lower-cased, '' → NULL."""
    return f"nullif(lower(trim({expr})), '')"


def email_canonical(expr: str) -> str:
    """Canonical mailbox: ``+tag`` removed; for Gmail dots removed, googlemail folded in.

    The split is at the last '@'; a value without one is returned normalised but unchanged.
    Domain aliases and typos (:func:`fold_email_domain`) are a second step, as in dbt.
    """
    email = normalize_email(expr)
    local_part = _regex_replace_all(_regex_replace_all(email, "@[^@]*$", ""), "[+].*$", "")
    domain = _regex_replace_all(email, "^.*@", "")
    return (
        f"case when {email} like '%_@_%' then "
        f"case when {domain} in ('gmail.com', 'googlemail.com') "
        f"then replace({local_part}, '.', '') || '@gmail.com' "
        f"else {local_part} || '@' || {domain} end "
        f"else {email} end"
    )


def fold_email_domain(canonical: str, canonical_domain: str) -> str:
    """A canonical email with its domain replaced by the alias seed's ``canonical_domain``.

    Gmail ignores dots, and a typo'd gmail domain (gmial.com) escaped the dot removal of
    :func:`email_canonical`, so the dots go here.
    """
    local = _split_part(canonical, "@", 1)
    return (
        f"case when {canonical_domain} is not null then "
        f"case when {canonical_domain} = 'gmail.com' then replace({local}, '.', '') "
        f"else {local} end || '@' || {canonical_domain} "
        f"else {canonical} end"
    )


def parse_date(expr: str) -> str:
    """ISO ``YYYY-MM-DD`` (optionally with a time) or day-first ``D.M.YYYY``/``DD/MM/YYYY``."""
    value = f"trim(cast({expr} as varchar))"
    dotted = _regex_replace_all(_regex_replace_all(value, " ", ""), "/", ".")
    year = _split_part(dotted, ".", 3)
    month = f"lpad({_split_part(dotted, '.', 2)}, 2, '0')"
    day = f"lpad({_split_part(dotted, '.', 1)}, 2, '0')"
    return (
        f"case when regexp_matches({value}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
        f"then try_cast(substr({value}, 1, 10) as date) "
        f"when regexp_matches({dotted}, '^[0-9]{{1,2}}[.][0-9]{{1,2}}[.][0-9]{{4}}$') "
        f"then try_cast({year} || '-' || {month} || '-' || {day} as date) end"
    )


def to_utc_timestamp(expr: str) -> str:
    """A point in time as a zone-less UTC timestamp, from a timestamp or ISO text."""
    as_text = f"trim(cast({expr} as varchar))"
    return (
        f"case when regexp_matches({as_text}, {sql_literal(_WITH_OFFSET)}) "
        f"then (try_cast({as_text} as timestamp with time zone) at time zone 'UTC') "
        f"else try_cast({as_text} as timestamp) end"
    )


def _text(column: str | None) -> str:
    # Staging's `nullif(trim(x), '')`, on any column type (Parquet keeps ints and dates).
    if column is None:
        return "cast(null as varchar)"
    return f"nullif(trim(cast({quote_ident(column)} as varchar)), '')"


# --- reading input ------------------------------------------------------------------------


def _temp(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def load_input(con: duckdb.DuckDBPyConnection, spec: str, name: str | None = None) -> str:
    """Copy an input into a temporary table; returns its name.

    Args:
        con: Connection to create the table on.
        spec: A ``.csv`` (also ``.csv.gz``, ``.tsv``) or ``.parquet`` file, or a DuckDB table
            as ``path.duckdb::schema.table``. CSV columns are read as text, so ids, phones
            and postcodes keep their leading zeros.
        name: Table name (default: a fresh one).

    The table's ``rowid`` is the row's position in the input (insertion order is kept).

    Raises:
        IdentityInputError: The file is missing, of an unknown kind or unreadable.
    """
    table = checked_name(name or _temp("identity_input"))
    path_text, _, source_table = spec.partition("::")
    path = Path(path_text)
    if not path.exists():
        raise IdentityInputError(f"no such input: {path}")
    lowered = path.name.lower()
    try:
        if source_table:
            try:
                checked_name(source_table)
            except ValueError as error:
                raise IdentityInputError(
                    f"{source_table!r} is not a table name (use schema.table)"
                ) from error
            alias = _temp("identity_src")
            con.execute(f"attach {sql_literal(str(path))} as {alias} (read_only)")
            try:
                con.execute(f"create temp table {table} as select * from {alias}.{source_table}")
            finally:
                con.execute(f"detach {alias}")
        elif lowered.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
            con.execute(
                f"create temp table {table} as select * from "
                f"read_csv({sql_literal(str(path))}, header = true, all_varchar = true)"
            )
        elif lowered.endswith(".parquet"):
            con.execute(
                f"create temp table {table} as select * from read_parquet({sql_literal(str(path))})"
            )
        else:
            raise IdentityInputError(
                f"cannot tell how to read {path}: use .csv, .parquet or path.duckdb::schema.table"
            )
    except duckdb.Error as error:
        raise IdentityInputError(f"cannot read {spec}: {error}") from error
    if any(c.lower() == "rowid" for c in columns_of(con, table)):
        # A column of that name hides DuckDB's rowid, which keeps the rows in input order.
        con.execute(f"drop table {table}")
        raise IdentityInputError(f"{spec} has a column named rowid: rename it to resolve the file")
    return table


def columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    """Column names of a relation, in order."""
    return list(con.sql(f"select * from {checked_name(relation)} limit 0").columns)


def _load_seed(con: duckdb.DuckDBPyConnection, path: Path, columns: tuple[str, ...]) -> str:
    table = _temp("identity_seed")
    try:
        con.execute(
            f"create temp table {table} as select {', '.join(columns)} from "
            f"read_csv({sql_literal(str(path))}, header = true, all_varchar = true)"
        )
    except duckdb.Error as error:
        raise IdentityInputError(
            f"cannot read {path} (need columns {', '.join(columns)}): {error}"
        ) from error
    return table


def load_blocklist(con: duckdb.DuckDBPyConnection, path: Path | str | None = None) -> str:
    """The blocklist seed (or a CSV of the same shape) as a temporary table; returns its name.

    Raises:
        IdentityInputError: The file is missing or lacks the seed's columns.
    """
    p = Path(path) if path else BLOCKLIST_SEED
    if not p.exists():
        raise IdentityInputError(f"no such blocklist: {p}")
    return _load_seed(con, p, ("identifier_type", "match_kind", "blocked_value", "reason"))


# --- building the two shapes --------------------------------------------------------------


@dataclass(frozen=True)
class KeyedInput:
    """Relations built from one input (temporary tables on the connection).

    Attributes:
        records: Records shape (:mod:`.frames`) plus ``input_row`` (the input's ``rowid``).
        identifiers: Identifiers shape.
    """

    records: str
    identifiers: str


def source_sql(mapping: ColumnMapping) -> str:
    """The ``source_system`` expression: the mapping's constant or its source column."""
    if mapping.source is not None:
        return sql_literal(mapping.source)
    return _text(mapping.source_column)


def record_key_sql(mapping: ColumnMapping) -> str:
    """The ``record_key`` expression (``<source>:<record id>``) over an input's columns."""
    return f"{source_sql(mapping)} || ':' || {_text(mapping.record_id)}"


def _phone_lookup(
    con: duckdb.DuckDBPyConnection, phones: str, default_region: str | None
) -> pa.Table:
    """E.164 per distinct (raw phone, country code): phonenumbers is slow per call, and a
    file repeats a household's number and a country many times."""
    pairs = con.sql(f"select distinct raw_phone, country_code from {phones}").fetchall()
    raws: list[str] = []
    countries: list[str | None] = []
    e164s: list[str | None] = []
    for raw, country in pairs:
        region = country if country in phonenumbers.SUPPORTED_REGIONS else default_region
        # No fallback regions: a national number of a row without any region is not guessed.
        e164, _valid = to_e164(raw, region, ())
        raws.append(raw)
        countries.append(country)
        e164s.append(e164)
    return pa.table(
        {
            "raw_phone": pa.array(raws, pa.string()),
            "country_code": pa.array(countries, pa.string()),
            "phone_e164": pa.array(e164s, pa.string()),
        }
    )


def _long(source: str, columns: tuple[str, ...]) -> str:
    """One row per (input row, position, value) of several columns of one kind."""
    if not columns:
        return "select 0 as input_row, 0 as position, cast(null as varchar) as value where false"
    parts = [
        f"select rowid as input_row, {i} as position, {_text(c)} as value from {source}"
        for i, c in enumerate(columns)
    ]
    return " union all ".join(parts)


def build_keyed_input(
    con: duckdb.DuckDBPyConnection,
    source: str,
    mapping: ColumnMapping,
    *,
    email_domain_aliases: Path | str | None = None,
    country_codes: Path | str | None = None,
) -> KeyedInput:
    """Build the records and identifiers relations of ``source`` as ``mapping`` says.

    Args:
        con: Connection holding ``source``.
        source: Input relation (e.g. from :func:`load_input`); its ``rowid`` becomes
            ``input_row``.
        mapping: Which columns hold what; its columns must exist in ``source``.
        email_domain_aliases: Domain alias seed (default: the dbt project's).
        country_codes: Country name seed (default: the dbt project's).

    Returns:
        The two relation names.

    Raises:
        IdentityInputError: Mapped columns are missing, or a record id or source is empty or
            repeated.
    """
    src = checked_name(source)
    mapping.check_columns(columns_of(con, src))
    aliases = _load_seed(
        con, Path(email_domain_aliases or EMAIL_DOMAIN_ALIASES_SEED), ("domain", "canonical_domain")
    )
    countries = _load_seed(
        con, Path(country_codes or COUNTRY_CODES_SEED), ("country_variant", "iso_3166_alpha2")
    )
    tag = uuid.uuid4().hex[:8]
    keyed, phones, records, identifiers = (
        f"identity_{n}_{tag}" for n in ("keyed", "phones", "records", "identifiers")
    )
    full = f"trim({_text(mapping.column('full_name'))})"
    full_first = _split_part(full, " ", 1)
    full_rest = f"nullif(trim(substr({full}, length({full_first}) + 2)), '')"
    country = _text(mapping.column("country"))
    # Like dbt's country_iso2: a scalar lookup that cannot fan out (the variant is unique).
    country_code = (
        f"(select c.iso_3166_alpha2 from {countries} as c "
        f"where c.country_variant = lower(trim({country})))"
    )
    con.execute(
        f"""
        create temp table {keyed} as
        select
            rowid as input_row,
            {record_key_sql(mapping)} as record_key,
            {source_sql(mapping)} as source_system,
            {_text(mapping.record_id)} as source_record_id,
            coalesce({_text(mapping.column("first_name"))}, {full_first}) as first_name,
            coalesce({_text(mapping.column("last_name"))}, {full_rest}) as last_name,
            {_text(mapping.column("birth_date"))} as birth_date_raw,
            {_text(mapping.column("street"))} as street,
            {_text(mapping.column("city"))} as city,
            {_text(mapping.column("postal_code"))} as postal_code,
            {country_code} as country_code,
            {_text(mapping.column("created_at"))} as created_at_raw,
            {_text(mapping.column("updated_at"))} as updated_at_raw
        from {src}
        """
    )
    _check_keys(con, keyed, mapping)

    con.execute(
        f"""
        create temp table {phones} as
        select p.input_row, p.position, p.value as raw_phone, k.country_code
        from ({_long(src, mapping.phones)}) as p
        inner join {keyed} as k using (input_row)
        where p.value is not null
        """
    )
    lookup = _phone_lookup(con, phones, mapping.default_phone_region)
    lookup_name = f"identity_phone_lookup_{tag}"
    con.register(lookup_name, lookup)
    try:
        con.execute(
            f"""
            create temp table {identifiers}_emails as
            with canonical as (
                select input_row, position, {email_canonical("value")} as email_canonical
                from ({_long(src, mapping.emails)})
                where value is not null
            )
            select
                canonical.input_row,
                canonical.position,
                {fold_email_domain("canonical.email_canonical", "a.canonical_domain")}
                    as email_canonical
            from canonical
            left join {aliases} as a
                on {_split_part("canonical.email_canonical", "@", 2)} = a.domain
            """
        )
        con.execute(
            f"""
            create temp table {identifiers}_phones as
            select p.input_row, p.position, l.phone_e164
            from {phones} as p
            inner join {lookup_name} as l
                on p.raw_phone = l.raw_phone
                and p.country_code is not distinct from l.country_code
            where l.phone_e164 is not null
            """
        )
    finally:
        con.unregister(lookup_name)

    con.execute(
        f"""
        create temp table {records} as
        with
        first_email as (
            select input_row, arg_min(email_canonical, position) as email_canonical
            from {identifiers}_emails where email_canonical is not null group by input_row
        ),
        first_phone as (
            select input_row, arg_min(phone_e164, position) as phone_e164
            from {identifiers}_phones group by input_row
        )
        select
            k.record_key,
            k.source_system,
            {person_name_key("k.first_name")} as first_name_key,
            {person_name_key("k.last_name")} as last_name_key,
            {parse_date("k.birth_date_raw")} as birth_date,
            e.email_canonical,
            p.phone_e164,
            {text_key("k.street")} as street_key,
            {text_key("k.city")} as city_key,
            {postal_code_key("k.postal_code")} as postal_code_key,
            k.country_code,
            {to_utc_timestamp("k.created_at_raw")} as created_at,
            {to_utc_timestamp("k.updated_at_raw")} as updated_at,
            k.input_row
        from {keyed} as k
        left join first_email as e using (input_row)
        left join first_phone as p using (input_row)
        order by k.input_row
        """
    )

    extra = [
        f"select {record_key_sql(mapping)}, {sql_literal(kind)}, {_text(column)} from {src}"
        for kind, cols in mapping.identifiers.items()
        for column in cols
    ]
    priority = " ".join(
        f"when {sql_literal(kind)} then {rank}" for kind, rank in IDENTIFIER_PRIORITY.items()
    )
    con.execute(
        f"""
        create temp table {identifiers} as
        with all_identifiers as (
            select k.record_key, 'email' as identifier_type, e.email_canonical as identifier_value
            from {identifiers}_emails as e inner join {keyed} as k using (input_row)
            union
            select k.record_key, 'phone', p.phone_e164
            from {identifiers}_phones as p inner join {keyed} as k using (input_row)
            {"".join(" union " + part for part in extra)}
        )
        select
            record_key,
            identifier_type,
            identifier_value,
            case identifier_type {priority} end as identifier_priority
        from all_identifiers
        where identifier_value is not null
        order by record_key, identifier_priority, identifier_value
        """
    )
    for t in (f"{identifiers}_emails", f"{identifiers}_phones", phones, keyed, aliases, countries):
        con.execute(f"drop table if exists {t}")
    return KeyedInput(records=records, identifiers=identifiers)


def _check_keys(con: duckdb.DuckDBPyConnection, keyed: str, mapping: ColumnMapping) -> None:
    """Every record needs a key of its own: golden IDs are kept per record key."""
    where = f"column {mapping.record_id!r}"
    empty = con.sql(f"select count(*) from {keyed} where source_record_id is null").fetchall()
    if empty[0][0]:
        raise IdentityInputError(f"{empty[0][0]} row(s) have an empty record id ({where})")
    if mapping.source_column:
        no_source = con.sql(f"select count(*) from {keyed} where source_system is null").fetchall()
        if no_source[0][0]:
            raise IdentityInputError(
                f"{no_source[0][0]} row(s) have an empty source (column {mapping.source_column!r})"
            )
    repeated = con.sql(
        f"""
        select record_key, count(*) as n from {keyed}
        group by record_key having count(*) > 1 order by n desc, record_key limit 5
        """
    ).fetchall()
    if repeated:
        examples = ", ".join(f"{key} ({n}×)" for key, n in repeated)
        raise IdentityInputError(
            f"record keys (source:{mapping.record_id}) must be unique; repeated: {examples}"
        )
