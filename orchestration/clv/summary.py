"""Transactions → the per-customer summary the models read (x, t_x, T, zbar).

A *purchase* is one order: the rows of one customer that share an order ID (or, without
an order column, the same timestamp: the lines of one order carry the order's time), their
values summed and timed at the earliest row. Counting orders rather than purchase *days*
is what recovers the generating parameters (``benchmarks/clv.py``: on a 1M-person world,
counting days biased α by +4 % and r by +1.8 %, counting orders by under 0.5 %); the
day-based convention of CDNOW and ``lifetimes`` stays available (``per_day``) for data that
carry dates only.

Times are continuous (fractional days or weeks from the timestamps). Per customer:

- ``frequency`` x = purchases − 1 (repeat purchases),
- ``recency`` t_x = last purchase − first purchase,
- ``T`` = calibration end − first purchase,
- ``monetary_value`` zbar = mean value of the repeat purchases (the first purchase is left
  out: it often differs, e.g. a welcome discount; 0 when x = 0).

Purchases after the calibration end are not part of the summary; :func:`holdout_purchases`
counts them for a holdout check.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.clv.errors import ClvInputError

TIME_UNITS: dict[str, float] = {"days": 1.0, "weeks": 7.0}
SUMMARY_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "purchases",
    "total_value",
    "first_purchase_at",
    "last_purchase_at",
)
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
# Canonical table names on the connection, so every query below reads one shape.
_RAW = "clv_transactions_raw"
_TX = "clv_transactions"


@dataclass(frozen=True)
class TransactionColumns:
    """Which input columns hold what.

    Attributes:
        customer: Customer identifier (any type; compared as text).
        date: Purchase time: ISO-8601 date or timestamp text, or a date/timestamp column.
            Text with a UTC offset is converted to UTC; text without one is taken as UTC.
        value: Purchase value (a number >= 0, one currency).
        order: Optional order identifier: rows with the same customer and order are one
            purchase. Without it, rows with the same customer and timestamp are.
    """

    customer: str
    date: str
    value: str
    order: str | None = None


@dataclass(frozen=True)
class CalibrationEnd:
    """The end of the calibration period.

    Attributes:
        at: Purchases at or before this instant (UTC, naive) are in the calibration period;
            T is measured up to it.
        text: The value as given (for reports).
    """

    at: dt.datetime
    text: str


def parse_calibration_end(text: str) -> CalibrationEnd:
    """A calibration end from text; a date alone means the *end* of that day.

    ``2024-06-30`` includes purchases made on 30 June (the period ends at midnight that
    starts 1 July), which is what an analyst means by "calibrate up to 30 June".

    Raises:
        ClvInputError: The text is not an ISO date or timestamp.
    """
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        parsed = con.execute(
            "select cast(try_cast(? as timestamptz) at time zone 'UTC' as timestamp)", [text]
        ).fetchone()
    if parsed is None or parsed[0] is None:
        raise ClvInputError(
            f"cannot read the calibration end {text!r}: use an ISO date (2024-06-30) or "
            "timestamp (2024-06-30T23:59:59Z)"
        )
    at: dt.datetime = parsed[0]
    if _DATE_ONLY.match(text):
        at = at + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return CalibrationEnd(at=at, text=text)


def unit_days(unit: str) -> float:
    """Days per time unit.

    Raises:
        ClvInputError: Unknown unit.
    """
    try:
        return TIME_UNITS[unit]
    except KeyError:
        raise ClvInputError(
            f"unknown time unit {unit!r}: use one of {sorted(TIME_UNITS)}"
        ) from None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_transactions(
    con: duckdb.DuckDBPyConnection, source: Path | pd.DataFrame, columns: TransactionColumns
) -> int:
    """Read transactions into the connection's ``clv_transactions`` table; returns row count.

    ``clv_transactions`` has ``customer_id`` (text), ``purchased_at`` (UTC timestamp),
    ``value`` (double) and ``order_key`` (text; the timestamp's text without an order column).

    Args:
        con: Connection to load into (its time zone is set to UTC).
        source: A ``.csv`` (also ``.csv.gz``, ``.tsv``) or ``.parquet`` file, or a DataFrame.
        columns: Which columns hold what.

    Raises:
        ClvInputError: Unreadable file, a missing column, empty input, a missing customer,
            an unparseable date or value, or a negative value.
    """
    con.execute("set TimeZone = 'UTC'")
    if isinstance(source, pd.DataFrame):
        con.register("clv_input_frame", source)
        con.execute(f"create or replace temp table {_RAW} as select * from clv_input_frame")
        con.unregister("clv_input_frame")
        label = "the input"
    else:
        path = Path(source)
        label = str(path)
        if not path.exists():
            raise ClvInputError(f"{path} does not exist")
        lowered = path.name.lower()
        if lowered.endswith(".parquet"):
            reader = "read_parquet(?)"
        elif lowered.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
            # All text: dates and numbers are parsed below, where a bad value can be named.
            reader = "read_csv(?, header = true, all_varchar = true)"
        else:
            raise ClvInputError(f"cannot tell how to read {path}: use .csv or .parquet")
        try:
            con.execute(
                f"create or replace temp table {_RAW} as select * from {reader}", [str(path)]
            )
        except duckdb.Error as error:
            raise ClvInputError(f"cannot read {path}: {error}") from error
    available = [row[0] for row in con.execute(f"describe {_RAW}").fetchall()]
    wanted = {"customer": columns.customer, "date": columns.date, "value": columns.value}
    if columns.order:
        wanted["order"] = columns.order
    missing = [f"{role} column {name!r}" for role, name in wanted.items() if name not in available]
    if missing:
        raise ClvInputError(
            f"{label} has no {', '.join(missing)}; its columns are: {', '.join(available)}"
        )
    customer, date, value = (_quote(wanted[k]) for k in ("customer", "date", "value"))
    order_column = (
        f", cast({_quote(columns.order)} as varchar) as order_id" if columns.order else ""
    )
    con.execute(
        f"""
        create or replace temp table clv_parsed as
        select
            nullif(trim(cast({customer} as varchar)), '') as customer_id,
            cast({date} as varchar) as date_text,
            cast(try_cast(cast({date} as varchar) as timestamptz) at time zone 'UTC' as timestamp)
                as purchased_at,
            cast({value} as varchar) as value_text,
            try_cast({value} as double) as value
            {order_column}
        from {_RAW}
        """
    )
    n = int(con.execute("select count(*) from clv_parsed").fetchone()[0])  # type: ignore[index]
    if n == 0:
        raise ClvInputError(f"{label} has no rows")
    checks = [
        ("customer_id is null", f"rows without a customer ({columns.customer})", "null"),
        (
            "purchased_at is null",
            f"unparseable or missing dates in {columns.date} (use ISO 8601, e.g. 2024-06-30 "
            "or 2024-06-30T14:05:00Z)",
            "date_text",
        ),
        (
            "value is null or isnan(value) or isinf(value)",
            f"non-numeric or missing values in {columns.value}",
            "value_text",
        ),
        ("value < 0", f"negative values in {columns.value} (net returns out first)", "value_text"),
    ]
    for condition, message, example in checks:
        bad, sample = con.execute(
            f"select count(*), any_value({example}) from clv_parsed where {condition}"
        ).fetchone()  # type: ignore[misc]
        if bad:
            shown = "" if sample is None else f", e.g. {str(sample)[:40]!r}"
            raise ClvInputError(f"{bad:,} {message}{shown}")
    # Without an order column, the rows of one customer at one instant are one order.
    order_key = "order_id" if columns.order else "cast(purchased_at as varchar)"
    con.execute(
        f"""
        create or replace temp table {_TX} as
        select customer_id, purchased_at, value, {order_key} as order_key
        from clv_parsed
        """
    )
    con.execute(f"drop table {_RAW}")
    con.execute("drop table clv_parsed")
    return n


def _purchases_sql(per_day: bool, where: str) -> str:
    """One row per purchase (``customer_id, purchased_at, value``) of the rows matching ``where``.

    The filter applies to the rows' own times, before any grouping into days.
    """
    if per_day:
        # The CDNOW / lifetimes convention: a calendar day with purchases is one purchase.
        return f"""
            select customer_id, cast(date_trunc('day', purchased_at) as timestamp) as purchased_at,
                   sum(value) as value
            from {_TX} where {where} group by 1, 2
        """
    return f"""
        select customer_id, min(purchased_at) as purchased_at, sum(value) as value
        from {_TX} where {where} group by customer_id, order_key
    """


def summarise(
    con: duckdb.DuckDBPyConnection,
    calibration_end: CalibrationEnd,
    unit: str = "days",
    per_day: bool = False,
) -> pd.DataFrame:
    """The per-customer summary of the loaded transactions up to the calibration end.

    Args:
        con: Connection holding ``clv_transactions`` (:func:`load_transactions`).
        calibration_end: Purchases after it are left out; T is measured to it.
        unit: ``days`` or ``weeks``: the unit of recency and T (and so of the fitted rates).
        per_day: Count purchase days instead of orders (times become whole days; T is
            measured from the first purchase day to the calibration end's day).

    Returns:
        :data:`SUMMARY_COLUMNS`, one row per customer with a purchase in the period, sorted
        by customer.

    Raises:
        ClvInputError: No purchase at or before the calibration end.
    """
    days = unit_days(unit)
    end = calibration_end.at
    if per_day:
        end_expr = "cast(date_trunc('day', cast($end as timestamp)) as timestamp)"
    else:
        end_expr = "cast($end as timestamp)"
    frame = con.execute(
        f"""
        with calibration as (
            select *,
                row_number() over (
                    partition by customer_id order by purchased_at, value
                ) as purchase_number
            from ({_purchases_sql(per_day, "purchased_at <= cast($end as timestamp)")})
        )
        select
            customer_id,
            count(*) - 1 as frequency,
            epoch(max(purchased_at) - min(purchased_at)) / 86400.0 / {days} as recency,
            epoch({end_expr} - min(purchased_at)) / 86400.0 / {days} as "T",
            coalesce(avg(value) filter (where purchase_number > 1), 0) as monetary_value,
            count(*) as purchases,
            sum(value) as total_value,
            min(purchased_at) as first_purchase_at,
            max(purchased_at) as last_purchase_at
        from calibration
        group by customer_id
        order by customer_id
        """,
        {"end": end},
    ).df()
    if frame.empty:
        raise ClvInputError(f"no purchase at or before the calibration end {calibration_end.text}")
    frame["frequency"] = frame["frequency"].astype("int64")
    frame["purchases"] = frame["purchases"].astype("int64")
    return frame[list(SUMMARY_COLUMNS)]


def holdout_purchases(
    con: duckdb.DuckDBPyConnection,
    calibration_end: CalibrationEnd,
    holdout_end: dt.datetime | None = None,
    per_day: bool = False,
) -> tuple[pd.DataFrame, dt.datetime] | None:
    """Purchases after the calibration end, per calibration customer, for a holdout check.

    Args:
        con: Connection holding ``clv_transactions``.
        calibration_end: Start of the holdout (exclusive).
        holdout_end: End of the holdout (inclusive); default the last purchase in the data.
        per_day: Count purchase days, as in :func:`summarise`.

    Returns:
        ``(frame of customer_id, holdout_purchases, holdout_value; holdout end)`` for every
        customer with a calibration purchase (0 where none in the holdout), or None when no
        purchase falls after the calibration end.
    """
    end = calibration_end.at
    after = "purchased_at > cast($end as timestamp)"
    last = con.execute(
        f"select max(purchased_at) from ({_purchases_sql(per_day, after)})", {"end": end}
    ).fetchone()
    if last is None or last[0] is None:
        return None
    stop = holdout_end or last[0]
    if stop <= end:
        return None
    window = f"{after} and purchased_at <= cast($stop as timestamp)"
    frame = con.execute(
        f"""
        with customers as (
            select distinct customer_id from {_TX} where purchased_at <= cast($end as timestamp)
        ),
        holdout as ({_purchases_sql(per_day, window)})
        select
            customers.customer_id,
            count(holdout.purchased_at) as holdout_purchases,
            coalesce(sum(holdout.value), 0) as holdout_value
        from customers
        left join holdout on customers.customer_id = holdout.customer_id
        group by customers.customer_id
        order by customers.customer_id
        """,
        {"end": end, "stop": stop},
    ).df()
    frame["holdout_purchases"] = frame["holdout_purchases"].astype("int64")
    return frame, stop
