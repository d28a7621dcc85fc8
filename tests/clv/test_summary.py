"""Transactions → summary: what a purchase is, the calibration cut, the holdout, bad input."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from orchestration.clv.errors import ClvInputError
from orchestration.clv.summary import (
    TransactionColumns,
    holdout_purchases,
    load_transactions,
    parse_calibration_end,
    summarise,
)

COLUMNS = TransactionColumns(customer="cust", date="at", value="amount")
TRANSACTIONS = pd.DataFrame(
    {
        "cust": ["a", "a", "a", "a", "a", "b", "c", "c", "c"],
        "at": [
            "2024-01-01 10:00:00",
            "2024-01-01 10:00:00",  # a second line of the first order
            "2024-01-01 18:00:00",  # a second order the same day
            "2024-01-11 04:00:00",
            "2024-02-15 00:00:00",  # after the calibration end: holdout
            "2024-01-31T12:00:00Z",
            "2024-01-20",
            "2024-01-25T12:00:00+02:00",  # 10:00 UTC
            "2024-02-03",
        ],
        "amount": [10.0, 5.0, 30.0, 50.0, 70.0, 20.0, 8.0, 12.0, 40.0],
    }
)


def _summary(
    frame: pd.DataFrame = TRANSACTIONS,
    end: str = "2024-01-31",
    columns: TransactionColumns = COLUMNS,
    **options: object,
) -> pd.DataFrame:
    with duckdb.connect() as con:
        load_transactions(con, frame, columns)
        return summarise(con, parse_calibration_end(end), **options).set_index("customer_id")  # type: ignore[arg-type]


def test_orders_are_purchases_in_continuous_days() -> None:
    summary = _summary()
    a, b, c = summary.loc["a"], summary.loc["b"], summary.loc["c"]
    # a: orders at 01-01 10:00 (two lines, 15), 01-01 18:00 (30), 01-11 04:00 (50).
    assert a["purchases"] == 3
    assert a["frequency"] == 2
    assert a["recency"] == pytest.approx(9.75)
    # "2024-01-31" ends with that day: T runs to midnight of 1 February.
    assert a["T"] == pytest.approx(30 + 14 / 24, abs=1e-6)
    assert a["monetary_value"] == pytest.approx(40.0)  # (30 + 50) / 2; the first is left out
    assert a["total_value"] == pytest.approx(95.0)
    assert b["frequency"] == 0
    assert b["monetary_value"] == 0
    assert b["T"] == pytest.approx(0.5, abs=1e-6)
    # c: a date alone is midnight UTC, an offset is converted.
    assert c["frequency"] == 1
    assert c["recency"] == pytest.approx(5 + 10 / 24)
    assert c["last_purchase_at"] == pd.Timestamp("2024-01-25 10:00:00")


def test_per_day_counts_purchase_days() -> None:
    summary = _summary(per_day=True)
    a = summary.loc["a"]
    assert a["purchases"] == 2  # both orders of 1 January are one purchase day
    assert a["frequency"] == 1
    assert a["recency"] == 10
    assert a["T"] == 30  # whole days from 1 to 31 January
    assert a["monetary_value"] == 50


def test_an_order_column_groups_lines() -> None:
    frame = TRANSACTIONS.assign(order=["o1", "o1", "o1", "o2", "o3", "o4", "o5", "o6", "o7"])
    columns = TransactionColumns("cust", "at", "amount", order="order")
    a = _summary(frame, columns=columns).loc["a"]
    # o1 spans 10:00 and 18:00 and counts once, at its earliest line.
    assert a["purchases"] == 2
    assert a["recency"] == pytest.approx(9.75)
    assert a["monetary_value"] == 50


def test_the_calibration_end_can_be_a_timestamp() -> None:
    summary = _summary(end="2024-01-11T04:00:00Z")
    assert summary.loc["a", "frequency"] == 2  # the purchase at exactly the end counts
    assert summary.loc["a", "T"] == pytest.approx(9.75)
    assert "b" not in summary.index


def test_weeks_divide_days_by_seven() -> None:
    days, weeks = _summary(), _summary(unit="weeks")
    assert weeks["T"].to_numpy() == pytest.approx(days["T"].to_numpy() / 7)
    assert weeks["recency"].to_numpy() == pytest.approx(days["recency"].to_numpy() / 7)


def test_holdout_counts_later_purchases_of_calibration_customers() -> None:
    late = pd.DataFrame({"cust": ["d"], "at": ["2024-02-20"], "amount": [5.0]})
    with duckdb.connect() as con:
        load_transactions(con, pd.concat([TRANSACTIONS, late]), COLUMNS)
        end = parse_calibration_end("2024-01-31")
        frame, stop = holdout_purchases(con, end) or (None, None)
        assert stop == dt.datetime(2024, 2, 20)
        counts = frame.set_index("customer_id")["holdout_purchases"].to_dict()  # type: ignore[union-attr]
        # d only bought after the calibration end: not a calibration customer.
        assert counts == {"a": 1, "b": 0, "c": 1}
        frame, _ = holdout_purchases(con, end, dt.datetime(2024, 2, 10)) or (None, None)
        assert frame.set_index("customer_id")["holdout_purchases"].to_dict() == {  # type: ignore[union-attr]
            "a": 0,
            "b": 0,
            "c": 1,
        }
        assert holdout_purchases(con, parse_calibration_end("2024-03-01")) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"at": "31/01/2024"}, "unparseable or missing dates in at .*'31/01/2024'"),
        ({"amount": "ten"}, "non-numeric or missing values in amount"),
        ({"amount": -5.0}, "negative values in amount"),
        ({"amount": float("nan")}, "non-numeric or missing values in amount"),
        ({"cust": None}, "without a customer"),
        ({"at": None}, "unparseable or missing dates"),
    ],
)
def test_bad_rows_are_named(change: dict[str, object], message: str) -> None:
    frame = TRANSACTIONS.astype(object).copy()
    for column, value in change.items():
        frame.loc[3, column] = value
    with duckdb.connect() as con, pytest.raises(ClvInputError, match=message):
        load_transactions(con, frame, COLUMNS)


def test_missing_columns_and_empty_input_are_refused() -> None:
    with duckdb.connect() as con:
        with pytest.raises(
            ClvInputError, match=r"no value column 'price'.*columns are: cust, at, amount"
        ):
            load_transactions(con, TRANSACTIONS, TransactionColumns("cust", "at", "price"))
        with pytest.raises(ClvInputError, match="no rows"):
            load_transactions(con, TRANSACTIONS.iloc[0:0], COLUMNS)
    with pytest.raises(ClvInputError, match="no purchase at or before"):
        _summary(end="2023-12-31")


def test_calibration_end_must_be_iso() -> None:
    assert parse_calibration_end("2024-06-30").at == dt.datetime(2024, 6, 30, 23, 59, 59, 999999)
    assert parse_calibration_end("2024-06-30T12:00:00+02:00").at == dt.datetime(2024, 6, 30, 10)
    with pytest.raises(ClvInputError, match="cannot read the calibration end"):
        parse_calibration_end("June 2024")
