"""Customer lifetime value per golden customer who bought: the latest CLV fit applied.

Scores customer_btyd_summary with the latest fitted row of clv_model_params (the fit of
this build when both run): P(alive), expected purchases in 90 and 365 days, the
probability of no purchase in 365 days, the expected order value, the discounted 12-month
CLV and the historic CLV, plus Klaviyo-style planning columns. Churn risk is banded by the
rank of expected purchases, never by P(alive), which is 1 for every one-time buyer.
Settings (discount rate, horizon, band cut-offs): seeds/clv_settings.csv.
"""

import pandas as pd

from orchestration.clv.models import BgNbdParams, GammaGammaParams
from orchestration.clv.scoring import score
from orchestration.clv.settings import ClvSettings


def model(dbt, session):
    dbt.config(materialized="table")
    seed = dbt.ref("clv_settings").df()
    settings = ClvSettings.from_pairs(zip(seed["setting_name"], seed["setting_value"], strict=True))
    fits = dbt.ref("clv_model_params").df()
    fits = fits[fits["fit_status"] == "fitted"].sort_values(["fitted_at", "fit_id"])
    summary = dbt.ref("customer_btyd_summary").df().rename(columns={"customer_age": "T"})
    summary = summary.sort_values("golden_id", ignore_index=True)
    if fits.empty:
        # Nothing fitted yet (no repeat customer): an empty mart, not a failed build.
        summary = summary.iloc[0:0]
    rows = summary[
        [
            "golden_id",
            "calibration_end_at",
            "order_count",
            "frequency",
            "recency",
            "T",
            "monetary_value",
            "total_order_value",
            "net_revenue",
        ]
    ].copy()
    rows["fit_id"] = None
    if not fits.empty:
        fit = fits.iloc[-1]
        bgnbd = BgNbdParams(
            r=fit["bgnbd_r"], alpha=fit["bgnbd_alpha"], a=fit["bgnbd_a"], b=fit["bgnbd_b"]
        )
        gamma_gamma = GammaGammaParams(p=fit["gg_p"], q=fit["gg_q"], gamma=fit["gg_gamma"])
        rows = rows.join(score(summary, bgnbd, gamma_gamma, settings, "days"))
        rows["fit_id"] = fit["fit_id"]
    else:
        for column in (
            "p_alive",
            "expected_purchases_90d",
            "expected_purchases_365d",
            "churn_probability",
            "expected_avg_order_value",
            "clv_12m",
            "median_days_to_next_purchase",
            "expected_purchases_percentile",
            "churn_risk_band",
        ):
            rows[column] = pd.Series(dtype="float64" if column != "churn_risk_band" else object)
    session.register("clv_rows", rows)
    return session.sql(
        """
        select
            cast(golden_id as varchar) as golden_id,
            cast(fit_id as varchar) as fit_id,
            cast(calibration_end_at as timestamp) as calibration_end_at,
            cast(order_count as integer) as order_count,
            cast(frequency as integer) as frequency,
            cast(recency as double) as recency_days,
            cast("T" as double) as customer_age_days,
            cast(
                case when frequency > 0 then recency / frequency end as double
            ) as average_days_between_orders,
            cast(total_order_value / order_count as double) as average_order_value,
            cast(p_alive as double) as p_alive,
            cast(expected_purchases_90d as double) as expected_purchases_90d,
            cast(expected_purchases_365d as double) as expected_purchases_365d,
            cast(churn_probability as double) as churn_probability,
            cast(expected_avg_order_value as double) as expected_avg_order_value,
            cast(clv_12m as double) as clv_12m,
            cast(net_revenue as double) as historic_clv,
            cast(net_revenue + clv_12m as double) as total_clv,
            -- Beyond a century the "date" is noise of a near-zero rate, not a plan.
            case
                when median_days_to_next_purchase <= 36525
                    then cast(
                        calibration_end_at + to_microseconds(
                            cast(round(median_days_to_next_purchase * 86400e6) as bigint)
                        ) as date
                    )
            end as expected_next_order_date,
            cast(expected_purchases_percentile as double) as expected_purchases_percentile,
            cast(churn_risk_band as varchar) as churn_risk_band
        from clv_rows
        order by golden_id
        """
    ).to_arrow_table()
