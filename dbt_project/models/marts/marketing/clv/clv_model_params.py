"""The CLV model fits: one row per fit of BG/NBD + Gamma-Gamma on customer_btyd_summary.

Incremental and never fully refreshed: every build appends its fit (parameters, standard
errors, log-likelihoods, calibration end, the frequency/value independence check), so the
history shows how the parameters drift as customers accumulate. customer_clv scores with
the latest fitted row. Without a repeat customer nothing can be fitted: the row then says
so (`fit_status`, `fit_message`) and its parameters are NULL.
"""

import uuid

import pandas as pd

from orchestration.clv.errors import ClvFitError, ClvInputError
from orchestration.clv.scoring import fit_summary
from orchestration.clv.settings import ClvSettings
from orchestration.identity.runs import current_run_id

# Output columns and their types, in order: a failed fit leaves the parameters NULL.
COLUMNS = {
    "fit_id": "varchar",
    "run_id": "varchar",
    "fitted_at": "timestamp",
    "calibration_end_at": "timestamp",
    "time_unit": "varchar",
    "currency": "varchar",
    "fit_status": "varchar",
    "fit_message": "varchar",
    "n_customers": "integer",
    "n_repeat_customers": "integer",
    "bgnbd_r": "double",
    "bgnbd_alpha": "double",
    "bgnbd_a": "double",
    "bgnbd_b": "double",
    "bgnbd_r_se": "double",
    "bgnbd_alpha_se": "double",
    "bgnbd_a_se": "double",
    "bgnbd_b_se": "double",
    "bgnbd_mean_dropout": "double",
    "bgnbd_log_likelihood": "double",
    "bgnbd_converged": "boolean",
    "gg_p": "double",
    "gg_q": "double",
    "gg_gamma": "double",
    "gg_p_se": "double",
    "gg_q_se": "double",
    "gg_gamma_se": "double",
    "gg_mean_order_value": "double",
    "gg_log_likelihood": "double",
    "gg_n_customers": "integer",
    "gg_converged": "boolean",
    "frequency_value_correlation": "double",
    "frequency_value_p_value": "double",
    "is_independence_assumption_met": "boolean",
    "monthly_discount_rate": "double",
    "clv_horizon_months": "integer",
}


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        full_refresh=False,
        on_schema_change="append_new_columns",
    )
    seed = dbt.ref("clv_settings").df()
    settings = ClvSettings.from_pairs(zip(seed["setting_name"], seed["setting_value"], strict=True))
    as_of = dbt.ref("int_marketing__as_of").df()
    summary = dbt.ref("customer_btyd_summary").df().rename(columns={"customer_age": "T"})
    # Row order must not change the fit (it does not, up to float summation order).
    summary = summary.sort_values("golden_id", ignore_index=True)
    row = dict.fromkeys(COLUMNS)
    row.update(
        fit_id=uuid.uuid4().hex,
        run_id=current_run_id(),
        # Run ids are not ordered (Dagster's are UUIDs); the fit time is.
        fitted_at=pd.Timestamp.now(tz="UTC").tz_localize(None),
        calibration_end_at=as_of["as_of_at"].iloc[0] if len(as_of) else None,
        time_unit="days",
        currency=summary["currency"].iloc[0] if len(summary) else None,
        n_customers=len(summary),
        n_repeat_customers=int((summary["frequency"] > 0).sum()),
        monthly_discount_rate=settings.monthly_discount_rate,
        clv_horizon_months=settings.clv_horizon_months,
    )
    try:
        fitted = fit_summary(summary, "days", settings)
    except (ClvInputError, ClvFitError) as error:
        row.update(fit_status="not_fitted", fit_message=str(error))
    else:
        bg, gg, independence = fitted.bgnbd, fitted.gamma_gamma, fitted.independence
        for prefix, fit in (("bgnbd", bg), ("gg", gg)):
            for name, value in fit.params.as_dict().items():
                row[f"{prefix}_{name}"] = value
                row[f"{prefix}_{name}_se"] = fit.std_errors[name]
        row.update(
            fit_status="fitted",
            bgnbd_mean_dropout=bg.params.mean_dropout,
            bgnbd_log_likelihood=bg.log_likelihood,
            bgnbd_converged=bg.converged and not bg.at_bound,
            gg_mean_order_value=gg.params.mean_order_value,
            gg_log_likelihood=gg.log_likelihood,
            gg_n_customers=gg.n_customers,
            gg_converged=gg.converged and not gg.at_bound,
            frequency_value_correlation=independence.correlation,
            frequency_value_p_value=independence.p_value,
            is_independence_assumption_met=independence.holds,
        )
        # Say why a fit is not a clean optimum: a parameter stopped on its bound (the data
        # do not identify it) or the search did not settle.
        notes = [
            f"{prefix}: {'not converged' if not fit.converged else 'converged'}"
            + (f", at bound: {', '.join(fit.at_bound)}" if fit.at_bound else "")
            for prefix, fit in (("bgnbd", bg), ("gamma_gamma", gg))
            if fit.at_bound or not fit.converged
        ]
        row["fit_message"] = "; ".join(notes) or None
    frame = pd.DataFrame([row], columns=list(COLUMNS)).astype(object)
    session.register("clv_fit_row", frame)
    casts = ",\n".join(f"cast({name} as {kind}) as {name}" for name, kind in COLUMNS.items())
    return session.sql(f"select {casts} from clv_fit_row").to_arrow_table()
