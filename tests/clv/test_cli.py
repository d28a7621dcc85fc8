"""``closedloop clv fit`` on CSV and Parquet files, and its refusals (exit code 2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from orchestration.cli import app
from orchestration.clv.models import BgNbdParams, GammaGammaParams
from orchestration.clv.simulate import simulate_customers

runner = CliRunner()
CALIBRATION_END = pd.Timestamp("2025-12-31 23:59:59")
START = pd.Timestamp("2023-01-01")


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    """3,000 customers of the BG/NBD + Gamma-Gamma process, 900 days at most, 180-day holdout."""
    return simulate_customers(
        3000,
        BgNbdParams(0.6, 55.0, 0.9, 3.6),
        GammaGammaParams(6.0, 3.5, 500.0),
        max_age=900.0,
        holdout=180.0,
        seed=4,
    )


@pytest.fixture(scope="module")
def transactions(customers: pd.DataFrame) -> pd.DataFrame:
    """The customers' purchases as order lines, up to the calibration end and beyond.

    Each customer's calibration purchases are spread evenly between the first and the last
    (only x, t_x and T matter to the model); a purchase is one or two lines of one timestamp.
    """
    rng = np.random.default_rng(4)
    rows = []
    for c in customers.itertuples():
        first = CALIBRATION_END - pd.Timedelta(days=c.T)
        repeat = np.linspace(0, c.recency, c.frequency + 1)[1:]
        later = np.sort(rng.uniform(0, 180, c.holdout_purchases))
        times = [first, *(first + pd.to_timedelta(repeat, "D"))]
        times += list(CALIBRATION_END + pd.to_timedelta(later, "D"))
        for t in times:
            value = round(float(rng.gamma(6.0, 200.0)), 2)
            lines = [value / 2, value / 2] if rng.random() < 0.3 else [value]
            rows += [(f"C{c.customer_id:05d}", t.floor("s").isoformat(), line) for line in lines]
    return pd.DataFrame(rows, columns=["customer", "ordered_at", "amount"])


def _fit(path: Path, out: Path, *extra: str) -> Result:
    return runner.invoke(
        app,
        [
            "clv",
            "fit",
            str(path),
            "--customer-col",
            "customer",
            "--date-col",
            "ordered_at",
            "--value-col",
            "amount",
            "--calibration-end",
            "2025-12-31",
            "--out",
            str(out),
            *extra,
        ],
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_fit_writes_parameters_and_predictions(
    customers: pd.DataFrame, transactions: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"orders{suffix}"
    if suffix == ".csv":
        transactions.to_csv(path, index=False)
    else:
        transactions.assign(ordered_at=pd.to_datetime(transactions["ordered_at"])).to_parquet(path)
    result = _fit(path, tmp_path / "out")
    assert result.exit_code == 0, result.output
    params = json.loads((tmp_path / "out" / "params.json").read_text())
    predictions = pd.read_parquet(tmp_path / "out" / "predictions.parquet")
    assert params["n_customers"] == 3000 == len(predictions)
    assert params["unit"] == "days"
    assert params["calibration_end"].startswith("2025-12-31T23:59:59")
    bg = params["bgnbd"]["params"]
    # 3,000 customers: the generating parameters within a loose margin.
    assert bg["r"] == pytest.approx(0.6, rel=0.2)
    assert bg["alpha"] == pytest.approx(55.0, rel=0.25)
    assert params["bgnbd"]["mean_dropout"] == pytest.approx(0.2, rel=0.3)
    assert params["gamma_gamma"]["mean_order_value"] == pytest.approx(1200.0, rel=0.1)
    assert params["independence"]["holds"] is True
    # Lines of one timestamp are one purchase: frequencies are the simulated ones.
    expected = customers.set_index(customers["customer_id"].map(lambda i: f"C{i:05d}"))
    by_customer = predictions.set_index("customer_id")
    assert (by_customer["frequency"] == expected["frequency"].loc[by_customer.index]).all()
    assert (
        by_customer["holdout_purchases"] == expected["holdout_purchases"].loc[by_customer.index]
    ).all()
    holdout = params["holdout"]["by_frequency"]
    overall = next(row for row in holdout if row["frequency_bucket"] == "all")
    assert overall["predicted_mean"] == pytest.approx(overall["actual_mean"], rel=0.2)
    assert (tmp_path / "out" / "predictions.csv").exists()
    assert (tmp_path / "out" / "holdout.csv").exists()
    assert set(predictions["churn_risk_band"]) == {"high", "medium", "low"}
    assert "Holdout check" in result.output
    assert "independence" in result.output


def test_weeks_per_day_and_overrides(transactions: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    transactions.to_csv(path, index=False)
    days = _fit(path, tmp_path / "days")
    weeks = _fit(
        path, tmp_path / "weeks", "--unit", "weeks", "--per-day", "--discount-rate", "0.02"
    )
    assert days.exit_code == 0, days.output
    assert weeks.exit_code == 0, weeks.output
    in_days = json.loads((tmp_path / "days" / "params.json").read_text())
    in_weeks = json.loads((tmp_path / "weeks" / "params.json").read_text())
    assert in_weeks["unit"] == "weeks"
    assert in_weeks["purchase"] == "calendar day"
    assert in_weeks["settings"]["monthly_discount_rate"] == 0.02
    # α is a time scale: in weeks it is about a seventh of the value in days.
    ratio = in_days["bgnbd"]["params"]["alpha"] / in_weeks["bgnbd"]["params"]["alpha"]
    assert ratio == pytest.approx(7, rel=0.05)


def test_no_holdout_without_later_purchases(transactions: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    early = transactions[pd.to_datetime(transactions["ordered_at"]) <= CALIBRATION_END]
    early.to_parquet(path)
    result = _fit(path, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out" / "params.json").read_text())["holdout"] is None
    assert "no holdout check" in result.output


def test_the_sub_app_is_registered() -> None:
    result = runner.invoke(app, ["clv", "fit", "--help"])
    assert result.exit_code == 0
    assert "--calibration-end" in result.output


@pytest.mark.parametrize(
    ("edit", "extra", "message"),
    [
        (lambda df: df.rename(columns={"amount": "price"}), (), "no value column 'amount'"),
        (lambda df: df.assign(ordered_at="last tuesday"), (), "unparseable or missing dates"),
        (lambda df: df.assign(amount=-df["amount"]), (), "negative values"),
        (lambda df: df.iloc[0:0], (), "has no rows"),
        (lambda df: df.drop_duplicates("customer"), (), "no customer bought twice"),
        (lambda df: df, ("--calibration-end", "someday"), "cannot read the calibration end"),
        (lambda df: df, ("--holdout-end", "2025-01-01"), "--holdout-end must be after"),
    ],
)
def test_bad_input_exits_with_code_2(
    transactions: pd.DataFrame, tmp_path: Path, edit, extra: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "orders.csv"
    edit(transactions).to_csv(path, index=False)
    result = _fit(path, tmp_path / "out", *extra)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_unreadable_files_exit_with_code_2(tmp_path: Path) -> None:
    missing = _fit(tmp_path / "nope.csv", tmp_path / "out")
    assert missing.exit_code == 2
    assert "does not exist" in " ".join(missing.output.split())
    odd = tmp_path / "orders.xlsx"
    odd.write_text("x")
    assert "use .csv or .parquet" in " ".join(_fit(odd, tmp_path / "out").output.split())
    unit = _fit(tmp_path / "nope.csv", tmp_path / "out", "--unit", "months")
    assert unit.exit_code == 2
