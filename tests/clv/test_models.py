"""BG/NBD and Gamma-Gamma: likelihoods, fits and closed forms against ``lifetimes``.

``lifetimes`` (a dev dependency) is the oracle: its likelihood functions are static
methods, so they can be evaluated at any parameters; its ``datasets`` module is never
imported (it needs an old setuptools).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter

from orchestration.clv.errors import ClvInputError
from orchestration.clv.models import (
    BgNbdParams,
    GammaGammaParams,
    bgnbd_log_likelihood,
    check_summary,
    discounted_clv,
    expected_order_value,
    expected_purchases,
    expected_purchases_new_customer,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    independence_check,
    median_time_to_next_purchase,
    p_alive,
    probability_no_purchase,
)
from orchestration.clv.simulate import simulate_customers

TRUE_BG = BgNbdParams(r=0.6, alpha=55.0, a=0.9, b=3.6)
TRUE_GG = GammaGammaParams(p=6.0, q=3.5, gamma=500.0)


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    """20,000 customers of the generator's process, observed up to 1,000 days, 365-day holdout."""
    return simulate_customers(20_000, TRUE_BG, TRUE_GG, max_age=1000.0, holdout=365.0, seed=7)


def _bg_oracle(params: BgNbdParams) -> BetaGeoFitter:
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series(params.as_dict())
    # fit() sets this alias; customer_lifetime_value calls it.
    fitter.predict = fitter.conditional_expected_number_of_purchases_up_to_time
    return fitter


def _gg_oracle(params: GammaGammaParams) -> GammaGammaFitter:
    fitter = GammaGammaFitter()
    fitter.params_ = pd.Series({"p": params.p, "q": params.q, "v": params.gamma})
    return fitter


# --- likelihoods ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [TRUE_BG, BgNbdParams(r=2.5, alpha=3.0, a=1.7, b=0.4), BgNbdParams(0.2, 400.0, 0.05, 9.0)],
)
def test_bgnbd_log_likelihood_matches_lifetimes(
    customers: pd.DataFrame, params: BgNbdParams
) -> None:
    x, t_x, age = customers["frequency"], customers["recency"], customers["T"]
    ours = bgnbd_log_likelihood(params, x, t_x, age)
    theirs = -BetaGeoFitter._negative_log_likelihood(
        np.log(list(params.as_dict().values())),
        x.to_numpy(),
        t_x.to_numpy(),
        age.to_numpy(),
        np.ones(len(x)),
        0.0,
    )
    assert np.isfinite(ours).all()
    assert ours.mean() == pytest.approx(theirs, rel=1e-10)


def test_gamma_gamma_log_likelihood_matches_lifetimes(customers: pd.DataFrame) -> None:
    repeat = customers[customers["frequency"] > 0]
    for params in (TRUE_GG, GammaGammaParams(p=1.3, q=9.0, gamma=20.0)):
        ours = gamma_gamma_log_likelihood(params, repeat["frequency"], repeat["monetary_value"])
        theirs = -GammaGammaFitter._negative_log_likelihood(
            np.log([params.p, params.q, params.gamma]),
            repeat["frequency"].to_numpy(),
            repeat["monetary_value"].to_numpy(),
            np.ones(len(repeat)),
            0.0,
        )
        assert ours.mean() == pytest.approx(theirs, rel=1e-10)


def test_bgnbd_log_likelihood_stays_finite_for_huge_histories() -> None:
    # (α+T)^-(r+x) underflows a double at x = 5,000, T = 10⁶; the log-sum-exp does not.
    ll = bgnbd_log_likelihood(TRUE_BG, [5000, 0, 1], [999_000.0, 0.0, 1e6], [1e6, 1e6, 1e6])
    assert np.isfinite(ll).all()
    assert (ll < 0).all()


# --- fits -----------------------------------------------------------------------------------


def test_fits_match_lifetimes(customers: pd.DataFrame) -> None:
    x, t_x, age = customers["frequency"], customers["recency"], customers["T"]
    ours = fit_bgnbd(x, t_x, age)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = BetaGeoFitter().fit(x, t_x, age)
    assert ours.converged
    for name, value in ours.params.as_dict().items():
        assert value == pytest.approx(theirs.params_[name], rel=1e-4), name
        assert ours.std_errors[name] == pytest.approx(theirs.standard_errors_[name], rel=1e-2)
    repeat = customers[customers["frequency"] > 0]
    ours_gg = fit_gamma_gamma(repeat["frequency"], repeat["monetary_value"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs_gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    assert ours_gg.converged
    for name, key in (("p", "p"), ("q", "q"), ("gamma", "v")):
        assert ours_gg.params.as_dict()[name] == pytest.approx(theirs_gg.params_[key], rel=1e-3)
    # Our optimum is at least as good as lifetimes'.
    theirs_ll = bgnbd_log_likelihood(BgNbdParams(**theirs.params_.to_dict()), x, t_x, age).sum()
    assert ours.log_likelihood >= theirs_ll - 1e-6


def test_parameters_are_recovered_from_simulated_customers(customers: pd.DataFrame) -> None:
    bg = fit_bgnbd(customers["frequency"], customers["recency"], customers["T"])
    gg = fit_gamma_gamma(customers["frequency"], customers["monetary_value"])
    # Within four standard errors of the truth (the errors come from the fit itself).
    for fit, truth in ((bg, TRUE_BG), (gg, TRUE_GG)):
        for name, true_value in truth.as_dict().items():
            estimate, error = fit.params.as_dict()[name], fit.std_errors[name]
            assert abs(estimate - true_value) < 4 * error, (name, estimate, error)
    # 20,000 customers pin the purchase process to a few percent.
    assert bg.params.r == pytest.approx(TRUE_BG.r, rel=0.08)
    assert bg.params.alpha == pytest.approx(TRUE_BG.alpha, rel=0.1)
    assert bg.params.mean_dropout == pytest.approx(TRUE_BG.mean_dropout, rel=0.1)
    assert gg.params.mean_order_value == pytest.approx(TRUE_GG.mean_order_value, rel=0.05)


def test_the_time_unit_only_rescales_alpha(customers: pd.DataFrame) -> None:
    days = fit_bgnbd(customers["frequency"], customers["recency"], customers["T"])
    weeks = fit_bgnbd(customers["frequency"], customers["recency"] / 7, customers["T"] / 7)
    assert weeks.params.alpha == pytest.approx(days.params.alpha / 7, rel=1e-4)
    for name in ("r", "a", "b"):
        assert weeks.params.as_dict()[name] == pytest.approx(days.params.as_dict()[name], rel=1e-4)


def test_weights_equal_repeated_rows() -> None:
    x, t_x, age = [0, 2, 5, 1], [0.0, 10.0, 40.0, 3.0], [50.0, 60.0, 45.0, 20.0]
    weighted = fit_bgnbd(x, t_x, age, weights=[3, 1, 2, 4])
    repeated = fit_bgnbd(
        np.repeat(x, [3, 1, 2, 4]), np.repeat(t_x, [3, 1, 2, 4]), np.repeat(age, [3, 1, 2, 4])
    )
    assert weighted.n_customers == repeated.n_customers == 10
    assert weighted.log_likelihood == pytest.approx(repeated.log_likelihood, rel=1e-9)


# --- closed forms -------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [TRUE_BG, BgNbdParams(r=1.8, alpha=12.0, a=2.4, b=6.0)])
def test_conditional_expectations_match_lifetimes(
    customers: pd.DataFrame, params: BgNbdParams
) -> None:
    x, t_x, age = customers["frequency"], customers["recency"], customers["T"]
    oracle = _bg_oracle(params)
    assert p_alive(params, x, t_x, age) == pytest.approx(
        oracle.conditional_probability_alive(x, t_x, age), rel=1e-10
    )
    for t in (1.0, 90.0, 365.0, 5000.0):
        ours = expected_purchases(params, t, x, t_x, age)
        theirs = oracle.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, age)
        assert ours == pytest.approx(np.asarray(theirs), rel=1e-8), t
    new = expected_purchases_new_customer(params, [30.0, 365.0])
    assert new == pytest.approx(
        oracle.expected_number_of_purchases_up_to_time(np.array([30.0, 365.0]))
    )


def test_expected_order_value_matches_lifetimes(customers: pd.DataFrame) -> None:
    oracle = _gg_oracle(TRUE_GG)
    x, zbar = customers["frequency"], customers["monetary_value"]
    ours = expected_order_value(TRUE_GG, x, zbar)
    theirs = oracle.conditional_expected_average_profit(x, zbar)
    assert ours == pytest.approx(np.asarray(theirs), rel=1e-10)
    # A one-time buyer is expected to spend the population mean.
    assert ours[x.to_numpy() == 0] == pytest.approx(TRUE_GG.mean_order_value)


def test_discounted_clv_matches_lifetimes_with_30_day_months(customers: pd.DataFrame) -> None:
    sample = customers.iloc[:500]
    x, t_x, age, zbar = (sample[c] for c in ("frequency", "recency", "T", "monetary_value"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _gg_oracle(TRUE_GG).customer_lifetime_value(
            _bg_oracle(TRUE_BG), x, t_x, age, zbar, time=12, discount_rate=0.01, freq="D"
        )
    ours = discounted_clv(
        TRUE_BG,
        TRUE_GG,
        x,
        t_x,
        age,
        zbar,
        months=12,
        month_length=30.0,
        monthly_discount_rate=0.01,
    )
    assert ours == pytest.approx(theirs.to_numpy(), rel=1e-8)
    undiscounted = discounted_clv(
        TRUE_BG, TRUE_GG, x, t_x, age, zbar, months=12, month_length=30.0, monthly_discount_rate=0
    )
    assert undiscounted == pytest.approx(
        expected_order_value(TRUE_GG, x, zbar) * expected_purchases(TRUE_BG, 360.0, x, t_x, age)
    )
    assert (ours < undiscounted).all()


def test_p_alive_is_one_without_a_repeat_purchase() -> None:
    # BG/NBD lets a customer drop out only after a repeat purchase, so however long ago a
    # one-time buyer bought, the model calls them alive; expected purchases do not.
    ages = np.array([1.0, 100.0, 10_000.0])
    zeros = np.zeros(3)
    assert p_alive(TRUE_BG, zeros, zeros, ages) == pytest.approx([1.0, 1.0, 1.0])
    expected = expected_purchases(TRUE_BG, 365.0, zeros, zeros, ages)
    assert expected[0] > expected[1] > expected[2] > 0


def test_expected_purchases_is_continuous_through_a_equal_one() -> None:
    x, t_x, age = np.array([0.0, 3.0, 40.0]), np.array([0.0, 50.0, 300.0]), np.array([400.0] * 3)
    near = [
        expected_purchases(BgNbdParams(0.6, 55.0, a, 3.6), 365.0, x, t_x, age)
        for a in (1 - 1e-3, 1.0, 1 + 1e-7, 1 + 1e-3)
    ]
    assert np.isfinite(near[1]).all()
    assert near[1] == pytest.approx(0.5 * (near[0] + near[3]), rel=1e-5)
    assert near[2] == pytest.approx(near[1], rel=1e-6)


def test_expected_purchases_stay_finite_for_huge_histories() -> None:
    x, t_x, age = [5000.0, 5000.0, 200.0], [99_990.0, 99_000.0, 500.0], [100_000.0] * 3
    expected = expected_purchases(TRUE_BG, 365.0, x, t_x, age)
    assert np.isfinite(expected).all()
    assert (expected >= 0).all()
    # Buying every 20 days until 10 days ago: about 365 / 20 purchases in the next year.
    assert expected[0] == pytest.approx(365 * 5000 / 100_000, rel=0.01)
    # The same customer silent for the last 1,000 days (50 gaps) is gone.
    assert expected[1] < 1e-6


def test_predictions_agree_with_the_simulated_holdout(customers: pd.DataFrame) -> None:
    x, t_x, age = customers["frequency"], customers["recency"], customers["T"]
    held = customers["holdout_purchases"].to_numpy()
    predicted = expected_purchases(TRUE_BG, 365.0, x, t_x, age)
    standard_error = held.std() / np.sqrt(held.size)
    assert abs(predicted.mean() - held.mean()) < 4 * standard_error
    quiet = probability_no_purchase(TRUE_BG, 365.0, x, t_x, age)
    observed_quiet = (held == 0).mean()
    assert quiet.mean() == pytest.approx(observed_quiet, abs=4 * np.sqrt(0.25 / held.size))
    # P(alive) is calibrated too: the simulated dropouts before T.
    alive = p_alive(TRUE_BG, x, t_x, age)
    assert alive.mean() == pytest.approx(customers["alive_at_T"].mean(), abs=0.01)


def test_median_time_to_next_purchase_is_the_lomax_median() -> None:
    rng = np.random.default_rng(3)
    x, age = 4.0, 200.0
    rates = rng.gamma(TRUE_BG.r + x, 1.0 / (TRUE_BG.alpha + age), 200_000)
    waits = rng.exponential(1.0 / rates)
    [median] = median_time_to_next_purchase(TRUE_BG, [x], [age])
    assert median == pytest.approx(np.median(waits), rel=0.02)


def test_independence_check_flags_correlated_spend() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(1, 10, 2000).astype(float)
    independent = independence_check(x, rng.gamma(6.0, 100.0, 2000))
    dependent = independence_check(x, 100.0 * x + rng.gamma(2.0, 30.0, 2000))
    assert independent.holds
    assert abs(independent.correlation) < 0.1
    assert not dependent.holds
    assert dependent.correlation > 0.9
    assert dependent.p_value < 1e-10
    assert np.isnan(independence_check([0, 0, 1], [0.0, 0.0, 5.0]).correlation)


# --- input checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "t_x", "age", "message"),
    [
        ([], [], [], "no customers"),
        ([1, -1], [1.0, 0.0], [2.0, 2.0], "frequency has 1 negative"),
        ([1], [-1.0], [2.0], "recency has 1 negative"),
        ([1], [5.0], [2.0], "recency .* after T"),
        ([1.5], [1.0], [2.0], "whole number"),
        ([0], [1.0], [2.0], "without a repeat purchase must have recency 0"),
        ([1, 2], [1.0], [2.0, 3.0], "differ in length"),
        ([1], [float("nan")], [2.0], "missing or infinite"),
        (["a"], [1.0], [2.0], "must be numbers"),
    ],
)
def test_bad_summaries_are_refused(x: list, t_x: list, age: list, message: str) -> None:
    with pytest.raises(ClvInputError, match=message):
        check_summary(x, t_x, age)
    with pytest.raises(ClvInputError):
        fit_bgnbd(x, t_x, age)


def test_gamma_gamma_needs_positive_repeat_spend() -> None:
    with pytest.raises(ClvInputError, match="no customer has a repeat purchase"):
        fit_gamma_gamma([0, 0], [0.0, 0.0])
    with pytest.raises(ClvInputError, match="mean order value <= 0"):
        fit_gamma_gamma([1, 2], [10.0, 0.0])
    with pytest.raises(ClvInputError, match="horizon"):
        expected_purchases(TRUE_BG, -1.0, [1], [1.0], [2.0])


def test_homogeneous_dropout_stops_on_the_beta_bound_and_still_predicts() -> None:
    # Every customer drops out with the same p: the likelihood keeps rising as a and b grow
    # together, and unbounded they would overflow the expectation's hypergeometric function
    # (on a 206-customer world a and b ran to 7.7e5 and 5.1e6 and every prediction was -inf).
    homogeneous = BgNbdParams(r=0.6, alpha=55.0, a=2_000.0, b=8_000.0)
    data = simulate_customers(3_000, homogeneous, TRUE_GG, max_age=700.0, seed=3)
    fit = fit_bgnbd(data["frequency"], data["recency"], data["T"])
    assert "a" in fit.at_bound or "b" in fit.at_bound
    assert fit.params.a <= 200.0 + 1e-9
    assert fit.params.b <= 200.0 + 1e-9
    # The capped Beta keeps the mean dropout of the homogeneous truth (p = 0.2).
    assert fit.params.mean_dropout == pytest.approx(0.2, abs=0.05)
    expected = expected_purchases(fit.params, 365.0, data["frequency"], data["recency"], data["T"])
    assert np.isfinite(expected).all()
    assert (expected >= 0).all()
