"""From a customer summary to fitted models, per-customer predictions and a holdout check.

Shared by ``closedloop clv fit`` and the dbt models ``clv_model_params`` / ``customer_clv``,
so a file checked with the CLI is scored exactly as the warehouse is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestration.clv.errors import ClvInputError
from orchestration.clv.models import (
    BgNbdParams,
    Fit,
    GammaGammaParams,
    IndependenceCheck,
    check_summary,
    discounted_clv,
    expected_order_value,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    independence_check,
    median_time_to_next_purchase,
    p_alive,
    probability_no_purchase,
)
from orchestration.clv.settings import ClvSettings
from orchestration.clv.summary import unit_days

# Fixed horizons of the published columns, in days whatever the model's unit.
SHORT_HORIZON_DAYS = 90
YEAR_DAYS = 365
CHURN_BANDS: tuple[str, ...] = ("high", "medium", "low")
FREQUENCY_BUCKETS = 7  # holdout rows 0, 1, …, 6 and "7+" repeat purchases


@dataclass(frozen=True)
class ClvModel:
    """Both fits on one summary, and the check of their independence assumption.

    Attributes:
        bgnbd: The BG/NBD fit (all customers).
        gamma_gamma: The Gamma-Gamma fit (repeat customers).
        independence: Correlation of frequency and mean repeat-order value.
        unit: Time unit of the fit (``days`` or ``weeks``).
        n_customers: Customers in the summary.
        n_repeat_customers: Customers with at least one repeat purchase.
    """

    bgnbd: Fit[BgNbdParams]
    gamma_gamma: Fit[GammaGammaParams]
    independence: IndependenceCheck
    unit: str
    n_customers: int
    n_repeat_customers: int

    def as_dict(self) -> dict[str, object]:
        """JSON-ready parameters, log-likelihoods, standard errors and the check."""

        def fit_dict(fit: Fit[BgNbdParams] | Fit[GammaGammaParams]) -> dict[str, object]:
            return {
                "params": fit.params.as_dict(),
                "std_errors": fit.std_errors,
                "log_likelihood": fit.log_likelihood,
                "n_customers": fit.n_customers,
                "iterations": fit.iterations,
                "converged": fit.converged,
                "at_bound": list(fit.at_bound),
            }

        bg = fit_dict(self.bgnbd)
        bg["mean_dropout"] = self.bgnbd.params.mean_dropout
        gg = fit_dict(self.gamma_gamma)
        gg["mean_order_value"] = self.gamma_gamma.params.mean_order_value
        ind = self.independence
        return {
            "unit": self.unit,
            "n_customers": self.n_customers,
            "n_repeat_customers": self.n_repeat_customers,
            "bgnbd": bg,
            "gamma_gamma": gg,
            "independence": {
                "pearson_r": ind.correlation,
                "p_value": ind.p_value,
                "n_repeat_customers": ind.n_repeat_customers,
                "max_abs_correlation": ind.max_abs_correlation,
                "holds": ind.holds,
            },
        }


def _columns(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    missing = [c for c in ("frequency", "recency", "T", "monetary_value") if c not in summary]
    if missing:
        raise ClvInputError(f"the summary lacks the columns {missing}")
    x, t_x, age = check_summary(summary["frequency"], summary["recency"], summary["T"])
    return x, t_x, age, summary["monetary_value"].to_numpy(dtype=float)


def fit_summary(summary: pd.DataFrame, unit: str, settings: ClvSettings) -> ClvModel:
    """Fit BG/NBD and Gamma-Gamma to a summary (:data:`summary.SUMMARY_COLUMNS`).

    Raises:
        ClvInputError: An unusable summary, or no repeat customer (nothing to learn spend
            or dropout from).
        ClvFitError: A search that produced no finite optimum.
    """
    unit_days(unit)
    x, t_x, age, zbar = _columns(summary)
    repeaters = int((x > 0).sum())
    if repeaters == 0:
        raise ClvInputError(
            "no customer bought twice before the calibration end: dropout and spend per "
            "order cannot be estimated (move the calibration end later)"
        )
    # Gamma-Gamma describes positive spend: repeat customers whose repeat orders were all
    # free carry no information on it (they are still scored, at the spend formula's limit).
    spend = (x > 0) & (zbar > 0)
    if not spend.any():
        raise ClvInputError("no repeat customer has a positive mean repeat-order value")
    return ClvModel(
        bgnbd=fit_bgnbd(x, t_x, age),
        gamma_gamma=fit_gamma_gamma(x[spend], zbar[spend]),
        independence=independence_check(
            x[spend], zbar[spend], settings.independence_max_abs_correlation
        ),
        unit=unit,
        n_customers=int(x.size),
        n_repeat_customers=repeaters,
    )


def percent_rank(values: np.ndarray) -> np.ndarray:
    """SQL ``percent_rank()``: (rank − 1) / (n − 1), equal values sharing the lowest rank.

    Ties get one rank, so equal customers always land in the same band whatever the row order.
    """
    n = values.size
    if n <= 1:
        return np.zeros(n)
    ranks = pd.Series(values).rank(method="min").to_numpy()
    return (ranks - 1) / (n - 1)


def churn_bands(
    expected_purchases_year: np.ndarray, settings: ClvSettings, rank: np.ndarray | None = None
) -> np.ndarray:
    """``high`` / ``medium`` / ``low`` churn risk by the percent rank of expected purchases.

    Ranked by E[purchases in the next 365 days], not by P(alive): P(alive) is exactly 1 for
    every one-time buyer, however long ago they bought, so it would call the most dormant
    customers the safest. ``rank``: the percent ranks when already computed.
    """
    if rank is None:
        rank = percent_rank(expected_purchases_year)
    return np.select(
        [
            rank < settings.churn_high_below_percentile,
            rank < settings.churn_medium_below_percentile,
        ],
        ["high", "medium"],
        "low",
    )


def score(
    summary: pd.DataFrame,
    bgnbd: BgNbdParams,
    gamma_gamma: GammaGammaParams,
    settings: ClvSettings,
    unit: str,
) -> pd.DataFrame:
    """Per-customer predictions, in the summary's row order (its index is kept).

    Columns: ``p_alive``, ``expected_purchases_90d``, ``expected_purchases_365d``,
    ``churn_probability`` (P(no purchase in the next 365 days)), ``expected_avg_order_value``,
    ``clv_12m`` (discounted, over ``clv_horizon_months``), ``median_days_to_next_purchase``
    (if still active; NaN below ``next_order_min_p_alive``), ``expected_purchases_percentile``
    and ``churn_risk_band``.

    Raises:
        ClvInputError: An unusable summary or unit.
    """
    days = unit_days(unit)
    x, t_x, age, zbar = _columns(summary)
    alive = p_alive(bgnbd, x, t_x, age)
    year = expected_purchases(bgnbd, YEAR_DAYS / days, x, t_x, age)
    wait = median_time_to_next_purchase(bgnbd, x, age) * days
    rank = percent_rank(year)
    out = pd.DataFrame(
        {
            "p_alive": alive,
            "expected_purchases_90d": expected_purchases(
                bgnbd, SHORT_HORIZON_DAYS / days, x, t_x, age
            ),
            "expected_purchases_365d": year,
            "churn_probability": probability_no_purchase(bgnbd, YEAR_DAYS / days, x, t_x, age),
            "expected_avg_order_value": expected_order_value(gamma_gamma, x, zbar),
            "clv_12m": discounted_clv(
                bgnbd,
                gamma_gamma,
                x,
                t_x,
                age,
                zbar,
                months=settings.clv_horizon_months,
                month_length=settings.month_length_days / days,
                monthly_discount_rate=settings.monthly_discount_rate,
            ),
            "median_days_to_next_purchase": np.where(
                alive >= settings.next_order_min_p_alive, wait, np.nan
            ),
            "expected_purchases_percentile": rank,
            "churn_risk_band": churn_bands(year, settings, rank),
        },
        index=summary.index,
    )
    return out


def holdout_report(
    summary: pd.DataFrame,
    holdout: pd.DataFrame,
    bgnbd: BgNbdParams,
    holdout_length: float,
) -> pd.DataFrame:
    """Actual vs predicted repeat purchases in the holdout, by calibration frequency.

    The check of Fader, Hardie and Lee (2005, fig. 4): customers grouped by their number of
    repeat purchases in the calibration period (0 … 6, 7+), the mean number of purchases they
    made in the holdout against the mean E[Y(t) | x, t_x, T] for t = the holdout length.

    Args:
        summary: Calibration summary with ``customer_id``.
        holdout: ``customer_id, holdout_purchases`` (:func:`summary.holdout_purchases`).
        bgnbd: Fitted parameters.
        holdout_length: Holdout length in the model's unit.

    Returns:
        One row per bucket plus ``all``: ``frequency_bucket, customers, actual_mean,
        predicted_mean, actual_total, predicted_total``.
    """
    joined = summary[["customer_id", "frequency", "recency", "T"]].merge(
        holdout[["customer_id", "holdout_purchases"]], on="customer_id", how="left"
    )
    joined["holdout_purchases"] = joined["holdout_purchases"].fillna(0)
    joined["predicted"] = expected_purchases(
        bgnbd, holdout_length, joined["frequency"], joined["recency"], joined["T"]
    )
    capped = np.minimum(joined["frequency"].to_numpy(), FREQUENCY_BUCKETS)
    labels = [str(i) for i in range(FREQUENCY_BUCKETS)] + [f"{FREQUENCY_BUCKETS}+"]
    joined["frequency_bucket"] = pd.Categorical.from_codes(capped.astype(int), labels)
    grouped = joined.groupby("frequency_bucket", observed=True).agg(
        customers=("customer_id", "size"),
        actual_total=("holdout_purchases", "sum"),
        predicted_total=("predicted", "sum"),
    )
    grouped.loc["all"] = grouped.sum()
    grouped["actual_mean"] = grouped["actual_total"] / grouped["customers"]
    grouped["predicted_mean"] = grouped["predicted_total"] / grouped["customers"]
    grouped.index.name = "frequency_bucket"
    columns = [
        "customers",
        "actual_mean",
        "predicted_mean",
        "actual_total",
        "predicted_total",
    ]
    result = grouped.reset_index()[["frequency_bucket", *columns]]
    result["frequency_bucket"] = result["frequency_bucket"].astype(str)
    result["customers"] = result["customers"].astype("int64")
    return result
