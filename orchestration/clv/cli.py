"""``closedloop clv``: fit BG/NBD + Gamma-Gamma to any transaction file and score its customers.

Analysts check the model on their own history: calibrate up to a date, and if the file goes
on beyond it, the later purchases become a holdout the predictions are compared with.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import time
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orchestration.clv.errors import ClvFitError, ClvInputError

if TYPE_CHECKING:
    import pandas as pd

    from orchestration.clv.scoring import ClvModel

console = Console()
clv_app = typer.Typer(
    help="Customer lifetime value (BG/NBD + Gamma-Gamma) for any transaction file.",
    no_args_is_help=True,
)


class TimeUnit(StrEnum):
    """Time unit of recency, T and the fitted rates."""

    days = "days"
    weeks = "weeks"


@contextlib.contextmanager
def _clv_errors() -> Iterator[None]:
    """Bad input → one red line and exit code 2; a failed fit → exit code 1."""
    try:
        yield
    except ClvInputError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from error
    except ClvFitError as error:
        console.print(f"[red]The fit failed:[/] {error}")
        raise typer.Exit(1) from error


def _json_ready(value: Any) -> Any:
    """NaN and infinities become null: JSON has no spelling for them."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _params_table(model: ClvModel) -> Table:
    table = Table(title="Fitted parameters (± standard error)")
    table.add_column("model")
    table.add_column("parameter")
    table.add_column("estimate", justify="right")
    table.add_column("± s.e.", justify="right")
    derived = {
        "BG/NBD": ("a/(a+b)", f"{model.bgnbd.params.mean_dropout:.4f}"),
        "Gamma-Gamma": ("mean order value", f"{model.gamma_gamma.params.mean_order_value:,.2f}"),
    }
    for label, fit in (("BG/NBD", model.bgnbd), ("Gamma-Gamma", model.gamma_gamma)):
        for name, value in fit.params.as_dict().items():
            table.add_row(label, name, f"{value:,.4g}", f"{fit.std_errors[name]:,.2g}")
        table.add_row(label, *derived[label], "")
        table.add_row(label, "log-likelihood", f"{fit.log_likelihood:,.1f}", "", end_section=True)
    return table


def _holdout_table(report: pd.DataFrame, length_days: float) -> Table:
    table = Table(
        title=f"Holdout check: repeat purchases in the {length_days:,.0f} days after calibration"
    )
    for column in ("repeat purchases in calibration", "customers", "actual mean", "predicted mean"):
        table.add_column(column, justify="right")
    for row in report.itertuples(index=False):
        table.add_row(
            str(row.frequency_bucket),
            f"{row.customers:,}",
            f"{row.actual_mean:.3f}",
            f"{row.predicted_mean:.3f}",
        )
    return table


@clv_app.command("fit")
def fit(
    transactions: Annotated[
        Path,
        typer.Argument(help="Transactions: a .csv or .parquet file, one row per order or line."),
    ],
    customer_col: Annotated[str, typer.Option(help="Column with the customer ID.")],
    date_col: Annotated[
        str,
        typer.Option(
            help="Column with the purchase time: ISO date or timestamp (UTC unless it has an "
            "offset), or a date/timestamp column."
        ),
    ],
    value_col: Annotated[str, typer.Option(help="Column with the purchase value (>= 0).")],
    calibration_end: Annotated[
        str,
        typer.Option(
            help="Fit on purchases up to here (ISO date = end of that day, or timestamp). "
            "Later purchases are not fitted: they become the holdout check."
        ),
    ],
    unit: Annotated[
        TimeUnit, typer.Option(help="Time unit of recency, T and the fitted rates.")
    ] = TimeUnit.days,
    order_col: Annotated[
        str | None,
        typer.Option(
            help="Column with the order ID: rows of one customer and order are one purchase "
            "(values summed). Without it, rows with the same customer and timestamp are."
        ),
    ] = None,
    per_day: Annotated[
        bool,
        typer.Option(
            "--per-day",
            help="Count purchase days instead of orders: all purchases of a customer on one "
            "calendar day are one purchase, values summed (the CDNOW/lifetimes convention).",
        ),
    ] = False,
    holdout_end: Annotated[
        str | None,
        typer.Option(help="End of the holdout (default: the last purchase in the file)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("clv_fit"),
    settings_file: Annotated[
        Path | None,
        typer.Option(
            "--settings",
            help="Settings CSV (default: the project's seeds/marketing/clv_settings.csv).",
        ),
    ] = None,
    discount_rate: Annotated[
        float | None,
        typer.Option(help="Monthly discount rate of the CLV (overrides the settings)."),
    ] = None,
    horizon_months: Annotated[
        int | None, typer.Option(help="Months counted in the CLV (overrides the settings).")
    ] = None,
) -> None:
    """Fit BG/NBD + Gamma-Gamma to a transaction file and score every customer.

    A purchase is one order (see --order-col; --per-day counts days instead). Purchases after
    --calibration-end are left out of the fit; when there are any, they are compared with
    the predictions by calibration frequency (holdout check). Writes params.json,
    predictions.parquet and predictions.csv (and holdout.csv) to --out.
    """
    import duckdb

    from orchestration.clv.scoring import fit_summary, holdout_report, score
    from orchestration.clv.settings import load_settings
    from orchestration.clv.summary import (
        TransactionColumns,
        holdout_purchases,
        load_transactions,
        parse_calibration_end,
        summarise,
        unit_days,
    )

    started = time.perf_counter()
    unit_name = str(unit.value)
    with _clv_errors():
        days = unit_days(unit_name)
        settings = load_settings(settings_file).replace(
            monthly_discount_rate=discount_rate, clv_horizon_months=horizon_months
        )
        end = parse_calibration_end(calibration_end)
        stop = parse_calibration_end(holdout_end).at if holdout_end else None
        if stop is not None and stop <= end.at:
            raise ClvInputError("--holdout-end must be after --calibration-end")
        columns = TransactionColumns(customer_col, date_col, value_col, order_col)
        with duckdb.connect() as con:
            rows = load_transactions(con, transactions, columns)
            summary = summarise(con, end, unit_name, per_day)
            holdout = holdout_purchases(con, end, stop, per_day)
        model = fit_summary(summary, unit_name, settings)
        predictions = score(
            summary, model.bgnbd.params, model.gamma_gamma.params, settings, unit_name
        )
        result = summary.join(predictions)
        report = None
        if holdout is not None:
            frame, holdout_stop = holdout
            length = (holdout_stop - end.at).total_seconds() / 86400.0 / days
            report = holdout_report(summary, frame, model.bgnbd.params, length)
            result = result.merge(
                frame[["customer_id", "holdout_purchases"]], on="customer_id", how="left"
            )

    out.mkdir(parents=True, exist_ok=True)
    params: dict[str, Any] = {
        "fitted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "input": str(transactions),
        "rows_read": rows,
        "calibration_end": end.at.isoformat(),
        "purchase": "calendar day" if per_day else ("order" if order_col else "timestamp"),
        **model.as_dict(),
        "settings": settings.__dict__,
        "holdout": None,
    }
    if report is not None:
        params["holdout"] = {
            "end": holdout_stop.isoformat(),
            "length": length,
            "by_frequency": report.to_dict(orient="records"),
        }
        report.to_csv(out / "holdout.csv", index=False)
    (out / "params.json").write_text(json.dumps(_json_ready(params), indent=2, default=str) + "\n")
    result.to_parquet(out / "predictions.parquet", index=False)
    result.to_csv(out / "predictions.csv", index=False)

    console.print(_params_table(model))
    ind = model.independence
    verdict = "[green]holds[/]" if ind.holds else "[yellow]questionable[/]"
    console.print(
        f"Frequency/value independence (Gamma-Gamma assumption): Pearson r = "
        f"{ind.correlation:.3f} over {ind.n_repeat_customers:,} repeat customers → {verdict} "
        f"(threshold |r| ≤ {ind.max_abs_correlation})."
    )
    for label, fit_ in (("BG/NBD", model.bgnbd), ("Gamma-Gamma", model.gamma_gamma)):
        if not fit_.converged or fit_.at_bound:
            console.print(
                f"[yellow]{label}: converged={fit_.converged}, parameters at the search bound: "
                f"{', '.join(fit_.at_bound) or 'none'}[/]"
            )
    if report is not None:
        console.print(_holdout_table(report, length * days))
    else:
        console.print("No purchase after the calibration end: no holdout check.")
    bands = result["churn_risk_band"].value_counts().to_dict()
    console.print(
        f"{model.n_customers:,} customers ({model.n_repeat_customers:,} repeat) from {rows:,} "
        f"rows, calibrated to {end.at:%Y-%m-%d %H:%M:%S}, unit {unit_name}; churn risk "
        + ", ".join(f"{band} {bands.get(band, 0):,}" for band in ("high", "medium", "low"))
        + f". Written to {out} in {time.perf_counter() - started:.1f} s."
    )
