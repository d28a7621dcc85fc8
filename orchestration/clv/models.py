"""BG/NBD and Gamma-Gamma: log-likelihoods, maximum-likelihood fits, closed-form predictions.

Notation of Fader, Hardie and Lee. Per customer: ``x`` repeat purchases (purchases after the
first), ``t_x`` time of the last purchase since the first, ``T`` time from the first purchase
to the calibration end (the customer's age), ``zbar`` mean value of the repeat purchases. All
times share one unit (days or weeks) and every rate is per that unit.

- BG/NBD ("Counting your customers the easy way", Marketing Science 24(2), 2005): while
  alive, a customer buys as a Poisson process with rate ``λ ~ Gamma(r, α)``; after every
  repeat purchase they drop out for good with probability ``p ~ Beta(a, b)``.
- Gamma-Gamma (Fader, Hardie and Lee, "RFM and CLV", JMR 2005; Fader and Hardie, note 025):
  order values ``z ~ Gamma(p, ν)`` with ``ν ~ Gamma(q, γ)`` per customer, assumed independent
  of the purchase process (:func:`independence_check`).

Both fits maximise the log-likelihood over log-parameters with L-BFGS and analytic gradients.
Terms that depend on the data only through ``x`` are evaluated once per distinct ``x`` and
identical customers are collapsed into weights, so a fit on a million customers costs a few
dozen passes of two logarithms over the array.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np
from scipy import optimize, special

from orchestration.clv.errors import ClvFitError, ClvInputError

FloatArray = np.ndarray
# Log-parameters are kept inside ±LOG_BOUND so exp() never overflows during the search; a
# parameter that ends on the bound is reported (``at_bound``), not silently trusted.
LOG_BOUND = 30.0
# Upper bound of the dropout Beta(a, b) parameters. On small or homogeneous data the
# likelihood keeps rising as a and b grow together (every customer drops out with the same
# p = a/(a+b)), and the expectation's hypergeometric function overflows beyond a + b of a
# few thousand. Beta(a, b) with a, b <= 200 is within 0.03 of that homogeneous limit in the
# spread of p, so the fit stops there and reports the bound (``at_bound``).
BETA_MAX = 200.0
# Below this distance from a = 1 the BG/NBD expectation is a 0/0 limit: it is evaluated
# either side and averaged (the function is smooth in a, the error is O(NUDGE²)).
A_ONE_NUDGE = 1e-4
# A fit counts as converged when every partial derivative of the mean log-likelihood with
# respect to a log-parameter is below this (a relative parameter change of 1e-5 moves the
# mean log-likelihood by less than 1e-10).
GRADIENT_TOLERANCE = 1e-5


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters: purchase rate ``λ ~ Gamma(r, α)``, dropout ``p ~ Beta(a, b)``."""

    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        """Parameters by name."""
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    @property
    def mean_dropout(self) -> float:
        """``a / (a + b)``: the mean probability of dropping out after a repeat purchase."""
        return self.a / (self.a + self.b)


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters: ``z ~ Gamma(p, ν)``, ``ν ~ Gamma(q, γ)``."""

    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        """Parameters by name."""
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def mean_order_value(self) -> float:
        """Population mean order value ``p γ / (q - 1)``; infinite when ``q <= 1``."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("inf")


P = TypeVar("P", BgNbdParams, GammaGammaParams)


@dataclass(frozen=True)
class Fit(Generic[P]):
    """A maximum-likelihood fit.

    Attributes:
        params: The estimates.
        log_likelihood: Total log-likelihood at the estimates (its value depends on the time
            and currency units: the data are densities).
        n_customers: Customers that entered the likelihood.
        std_errors: Asymptotic standard errors (inverse observed information, delta method
            from the log-parameters); NaN where the information matrix is singular.
        iterations: Optimiser iterations.
        converged: The optimiser reported convergence or the gradient is flat.
        at_bound: Parameters whose estimate ended on the search bound (e^±30): the data do
            not identify them (e.g. ``b`` when nobody seems to drop out).
    """

    params: P
    log_likelihood: float
    n_customers: int
    std_errors: dict[str, float]
    iterations: int
    converged: bool
    at_bound: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class IndependenceCheck:
    """Pearson correlation of purchase frequency and mean order value among repeat buyers.

    Gamma-Gamma assumes spend per order does not depend on how often a customer buys; a
    correlation far from zero means CLV (frequency × value) is biased.

    Attributes:
        correlation: Pearson r of ``x`` and ``zbar`` (NaN with fewer than 3 repeaters or no
            variation).
        p_value: Two-sided p-value of r = 0 (with many customers even a negligible r is
            "significant": judge the size, not the p-value).
        n_repeat_customers: Customers with ``x > 0``.
        max_abs_correlation: The threshold ``correlation`` is judged against.
    """

    correlation: float
    p_value: float
    n_repeat_customers: int
    max_abs_correlation: float

    @property
    def holds(self) -> bool:
        """``|r|`` at most the threshold (False when r could not be computed)."""
        return bool(np.isfinite(self.correlation)) and abs(self.correlation) <= (
            self.max_abs_correlation
        )


# --- input checks ------------------------------------------------------------------------


def _as_array(name: str, values: object) -> FloatArray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise ClvInputError(f"{name} must be numbers: {error}") from error
    if array.ndim != 1:
        raise ClvInputError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ClvInputError(
            f"{name} has {int((~np.isfinite(array)).sum())} missing or infinite values"
        )
    return array


def check_summary(x: object, t_x: object, age: object) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The BG/NBD summary as float arrays, or a :class:`ClvInputError` saying what is wrong.

    Raises:
        ClvInputError: Empty input, mismatched lengths, missing or negative values, fractional
            frequencies, recency after the age, or recency without a repeat purchase.
    """
    xs, txs, ages = _as_array("frequency", x), _as_array("recency", t_x), _as_array("T", age)
    if not xs.size == txs.size == ages.size:
        raise ClvInputError(
            f"frequency, recency and T differ in length ({xs.size}, {txs.size}, {ages.size})"
        )
    if xs.size == 0:
        raise ClvInputError("no customers to fit")
    for name, array in (("frequency", xs), ("recency", txs), ("T", ages)):
        if (array < 0).any():
            raise ClvInputError(f"{name} has {int((array < 0).sum())} negative values")
    if (xs != np.round(xs)).any():
        raise ClvInputError("frequency must be a whole number of repeat purchases")
    # A tolerance of a millionth of a unit absorbs float noise of timestamp arithmetic.
    late = txs > ages + 1e-6
    if late.any():
        raise ClvInputError(
            f"{int(late.sum())} customers have recency (last purchase) after T (their age)"
        )
    if ((xs == 0) & (txs > 0)).any():
        raise ClvInputError("customers without a repeat purchase must have recency 0")
    return xs, txs, np.maximum(ages, txs)


def check_monetary(x: object, zbar: object) -> tuple[FloatArray, FloatArray]:
    """Frequency and mean repeat-order value of the repeat customers (``x > 0``).

    Raises:
        ClvInputError: Mismatched lengths, missing values, a non-positive mean value of a
            repeat customer, or no repeat customer at all.
    """
    xs, zs = _as_array("frequency", x), _as_array("monetary_value", zbar)
    if xs.size != zs.size:
        raise ClvInputError(f"frequency and monetary_value differ in length ({xs.size}, {zs.size})")
    repeat = xs > 0
    if not repeat.any():
        raise ClvInputError("no customer has a repeat purchase: Gamma-Gamma cannot be fitted")
    if (zs[repeat] <= 0).any():
        raise ClvInputError(
            f"{int((zs[repeat] <= 0).sum())} repeat customers have a mean order value <= 0 "
            "(Gamma-Gamma models positive spend; leave out zero-value orders)"
        )
    return xs[repeat], zs[repeat]


def _dot(u: FloatArray, v: FloatArray) -> float:
    """Σ u·v without BLAS.

    On a busy machine a 1-D BLAS dot waits on its thread pool and runs a hundred times
    slower than a plain multiply-and-sum.
    """
    return float(np.sum(u * v))


# --- optimisation --------------------------------------------------------------------------


def _collapse(
    columns: tuple[FloatArray, ...], weights: FloatArray | None
) -> tuple[tuple[FloatArray, ...], FloatArray]:
    """Identical rows merged into one row with the summed weight.

    Integer-day summaries repeat a lot (every one-time buyer of the same day is the same
    row), so the likelihood passes over far fewer rows. Continuous times hardly ever repeat:
    when most ages are distinct the sort would cost more than it saves and is skipped.
    """
    n = columns[0].size
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if np.unique(columns[-1]).size > n // 2:
        return tuple(np.ascontiguousarray(c) for c in columns), w
    order = np.lexsort(columns[::-1])
    ordered = [c[order] for c in columns]
    starts = np.ones(n, dtype=bool)
    starts[1:] = np.logical_or.reduce([c[1:] != c[:-1] for c in ordered])
    first = np.flatnonzero(starts)
    return tuple(c[first] for c in ordered), np.add.reduceat(w[order], first)


def _maximise(
    objective: Callable[[FloatArray], tuple[float, FloatArray]],
    theta0: FloatArray,
    upper: FloatArray | None = None,
) -> tuple[FloatArray, int, bool, float]:
    """Minimise a mean negative log-likelihood over log-parameters.

    L-BFGS-B with the analytic gradient; if it stops short (line-search trouble far from
    the optimum happens with poor starts), one restart from where it stopped.

    Args:
        objective: Mean negative log-likelihood and its gradient in log-parameters.
        theta0: Starting log-parameters.
        upper: Upper bounds of the log-parameters (default ``LOG_BOUND`` each).

    Returns:
        (log-parameters, iterations, converged, mean negative log-likelihood). Converged
        means the optimiser said so or the gradient is flat: near the optimum the line
        search may fail only because float arithmetic cannot lower the objective further.
    """
    highs = np.full(theta0.size, LOG_BOUND) if upper is None else upper
    bounds = [(-LOG_BOUND, float(high)) for high in highs]
    theta0 = np.minimum(theta0, highs)
    options = {"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9}
    result = optimize.minimize(
        objective, theta0, jac=True, method="L-BFGS-B", bounds=bounds, options=options
    )
    iterations = int(result.nit)
    if not result.success and not _flat(result.jac):
        result = optimize.minimize(
            objective, result.x, jac=True, method="L-BFGS-B", bounds=bounds, options=options
        )
        iterations += int(result.nit)
    if not np.isfinite(result.fun) or not np.isfinite(result.x).all():
        raise ClvFitError(f"the likelihood search failed: {result.message}")
    converged = bool(result.success) or _flat(result.jac)
    return result.x, iterations, converged, float(result.fun)


def _flat(gradient: FloatArray) -> bool:
    """The gradient of the mean log-likelihood in log-parameters is negligible."""
    return bool(np.all(np.abs(gradient) < GRADIENT_TOLERANCE))


def _std_errors(
    objective: Callable[[FloatArray], tuple[float, FloatArray]],
    theta: FloatArray,
    total_weight: float,
    names: tuple[str, ...],
) -> dict[str, float]:
    """Standard errors from the observed information, by central differences of the gradient."""
    k = theta.size
    hessian = np.empty((k, k))
    step = 1e-5
    for i in range(k):
        shift = np.zeros(k)
        shift[i] = step
        hessian[:, i] = (objective(theta + shift)[1] - objective(theta - shift)[1]) / (2 * step)
    # The objective is the *mean* negative log-likelihood: the information is n × its Hessian.
    information = 0.5 * (hessian + hessian.T) * total_weight
    try:
        covariance = np.linalg.inv(information)
        variances = np.diag(covariance)
    except np.linalg.LinAlgError:
        variances = np.full(k, np.nan)
    params = np.exp(theta)
    with np.errstate(invalid="ignore"):
        errors = params * np.sqrt(np.where(variances >= 0, variances, np.nan))
    return {name: float(e) for name, e in zip(names, errors, strict=True)}


def _at_bound(
    theta: FloatArray, names: tuple[str, ...], upper: FloatArray | None = None
) -> tuple[str, ...]:
    highs = np.full(theta.size, LOG_BOUND) if upper is None else upper
    return tuple(
        n
        for n, t, high in zip(names, theta, highs, strict=True)
        if t < -LOG_BOUND + 1e-3 or t > high - 1e-3
    )


# --- BG/NBD ------------------------------------------------------------------------------------


def bgnbd_log_likelihood(params: BgNbdParams, x: object, t_x: object, age: object) -> FloatArray:
    """Log-likelihood of each customer's (x, t_x, T) under BG/NBD (FHL 2005, eq. 6).

    ``L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / Γ(r) · [(α+T)^-(r+x) + δ(x>0) a/(b+x-1) (α+t_x)^-(r+x)]``;
    the bracket is summed in log space (log-sum-exp), so neither power underflows for large
    ``x`` or ``T``.
    """
    xs, txs, ages = check_summary(x, t_x, age)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    head = (
        special.gammaln(r + xs)
        - special.gammaln(r)
        + r * np.log(alpha)
        + special.betaln(a, b + xs)
        - special.betaln(a, b)
    )
    still_alive = -(r + xs) * np.log(alpha + ages)
    with np.errstate(divide="ignore"):
        dropped = np.where(
            xs > 0,
            np.log(a) - np.log(np.maximum(b + xs - 1, 1e-300)) - (r + xs) * np.log(alpha + txs),
            -np.inf,
        )
    return head + np.logaddexp(still_alive, dropped)


def fit_bgnbd(
    x: object,
    t_x: object,
    age: object,
    weights: object | None = None,
    initial: BgNbdParams | None = None,
) -> Fit[BgNbdParams]:
    """Maximum-likelihood BG/NBD parameters.

    Args:
        x: Repeat purchases per customer.
        t_x: Time of the last purchase since the first.
        age: T, the time from the first purchase to the calibration end.
        weights: Customers per row (default 1 each).
        initial: Starting point (default: r = a = 1, b = 2 and α giving the observed
            repeat rate).

    Raises:
        ClvInputError: Unusable input (see :func:`check_summary`).
        ClvFitError: The search produced no finite optimum.
    """
    xs, txs, ages = check_summary(x, t_x, age)
    w_in = None if weights is None else _as_array("weights", weights)
    if w_in is not None and (w_in.size != xs.size or (w_in < 0).any()):
        raise ClvInputError("weights must be one non-negative number per customer")
    (xs, txs, ages), w = _collapse((xs, txs, ages), w_in)
    total = float(w.sum())
    if total <= 0:
        raise ClvInputError("the weights sum to zero: no customers to fit")
    # Terms in x alone: evaluated once per distinct x, then weighted by customer counts.
    ux, x_index = np.unique(xs, return_inverse=True)
    ux_weight = np.bincount(x_index, weights=w)
    repeat = xs > 0
    b_term = np.maximum(xs - 1, 0.0)  # b + x - 1 = b + b_term for repeat customers

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = np.exp(theta)
        log_t = np.log(alpha + ages)
        log_tx = np.log(alpha + txs)
        alive = -(r + xs) * log_t
        dropped = np.full_like(alive, -np.inf)
        dropped[repeat] = np.log(a) - np.log(b + b_term[repeat]) - (r + xs[repeat]) * log_tx[repeat]
        bracket = np.logaddexp(alive, dropped)
        w_drop = np.exp(dropped - bracket)  # share of the "dropped after t_x" branch
        w_alive = 1.0 - w_drop
        head = (
            special.gammaln(r + ux)
            - special.gammaln(r)
            + r * np.log(alpha)
            + special.betaln(a, b + ux)
            - special.betaln(a, b)
        )
        ll = _dot(ux_weight, head) + _dot(w, bracket)
        dig_ab = special.digamma(a + b)
        dig_abx = special.digamma(a + b + ux)
        g_r = _dot(ux_weight, special.digamma(r + ux) - special.digamma(r) + np.log(alpha))
        g_r -= _dot(w, w_alive * log_t + w_drop * log_tx)
        g_alpha = total * r / alpha - _dot(
            w, (r + xs) * (w_alive / (alpha + ages) + w_drop / (alpha + txs))
        )
        g_a = _dot(ux_weight, dig_ab - dig_abx) + _dot(w, w_drop) / a
        g_b = _dot(ux_weight, dig_ab + special.digamma(b + ux) - special.digamma(b) - dig_abx)
        g_b -= _dot(w[repeat], w_drop[repeat] / (b + b_term[repeat]))
        grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
        return -ll / total, -grad / total

    if initial is None:
        # α sets the time scale: start where the mean rate r/α matches the observed repeat
        # rate, so the search does not begin orders of magnitude away in days vs weeks.
        rate = max(_dot(w, xs) / max(_dot(w, ages), 1e-12), 1e-6)
        initial = BgNbdParams(r=1.0, alpha=1.0 / rate, a=1.0, b=2.0)
    theta0 = np.log(list(initial.as_dict().values()))
    upper = np.array([LOG_BOUND, LOG_BOUND, np.log(BETA_MAX), np.log(BETA_MAX)])
    theta, iterations, converged, mean_nll = _maximise(objective, theta0, upper)
    names = ("r", "alpha", "a", "b")
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    return Fit(
        params=BgNbdParams(r=r, alpha=alpha, a=a, b=b),
        log_likelihood=-mean_nll * total,
        n_customers=round(total),
        std_errors=_std_errors(objective, theta, total, names),
        iterations=iterations,
        converged=converged,
        at_bound=_at_bound(theta, names, upper),
    )


def p_alive(params: BgNbdParams, x: object, t_x: object, age: object) -> FloatArray:
    """P(alive at T | x, t_x, T) (Fader, Hardie and Lee, note 021).

    Exactly 1 for ``x = 0``: under BG/NBD nobody can drop out before a repeat purchase, so a
    one-time buyer is "alive" however long ago they bought. Do not rank customers by it
    (rank by :func:`expected_purchases`).
    """
    xs, txs, ages = check_summary(x, t_x, age)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore"):
        log_odds_dead = (
            (r + xs) * (np.log(alpha + ages) - np.log(alpha + txs))
            + np.log(a)
            - np.log(np.maximum(b + xs - 1, 1e-300))
        )
    return np.where(xs > 0, special.expit(-log_odds_dead), 1.0)


def _one_minus_g(
    r: float,
    alpha: float,
    a: float,
    b: float,
    t: float | FloatArray,
    xs: FloatArray,
    ages: FloatArray,
) -> FloatArray:
    """``1 - ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x-1; t/(α+T+t))``.

    Euler's transformation rewrites the product as ``(1-z)^(a-1) · 2F1(a+b-1-r, a-1;
    a+b+x-1; z)``: the hypergeometric function then has small upper and a large lower
    parameter, converges fast and cannot overflow however large ``x`` is.
    """
    z = t / (alpha + ages + t)
    hyper = special.hyp2f1(a + b - 1 - r, a - 1, a + b + xs - 1, z)
    return -np.expm1((a - 1) * np.log1p(-z) + np.log(hyper))


def expected_purchases(
    params: BgNbdParams, t: float, x: object, t_x: object, age: object
) -> FloatArray:
    """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` time units (FHL 2005, eq. 10).

    ``E = P(alive) · (a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1;
    t/(α+T+t))]``. Valid for any ``a ≠ 1`` (for a < 1 both factors are negative); at
    ``a = 1`` the limit is taken numerically.

    Raises:
        ClvInputError: ``t`` is negative or the summary is unusable.
    """
    if not np.isfinite(t) or t < 0:
        raise ClvInputError(f"the prediction horizon must be >= 0, got {t}")
    xs, txs, ages = check_summary(x, t_x, age)
    return _expected_if_alive(params, t, xs, ages) * p_alive(params, xs, txs, ages)


def _expected_if_alive(
    params: BgNbdParams, t: float, xs: FloatArray, ages: FloatArray
) -> FloatArray:
    """E[Y(t)] / P(alive): expected purchases in ``t`` of a customer alive at T."""
    if t == 0:
        return np.zeros_like(xs)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b

    def at(a_value: float) -> FloatArray:
        return (
            (a_value + b + xs - 1) / (a_value - 1) * _one_minus_g(r, alpha, a_value, b, t, xs, ages)
        )

    if abs(a - 1) < A_ONE_NUDGE:
        return 0.5 * (at(1 - A_ONE_NUDGE) + at(1 + A_ONE_NUDGE))
    return at(a)


def probability_no_purchase(
    params: BgNbdParams, t: float, x: object, t_x: object, age: object
) -> FloatArray:
    """P(no purchase in the next ``t`` time units | x, t_x, T).

    Dead customers never buy; an alive one keeps a rate ``λ | data ~ Gamma(r+x, α+T)`` and can
    only drop out *after* a purchase, so P(none in t | alive) = ``((α+T)/(α+T+t))^(r+x)``.
    Unlike ``1 - P(alive)`` this is well below 1 for a recent one-time buyer and close to 1
    for one who bought long ago: a usable churn probability.
    """
    xs, txs, ages = check_summary(x, t_x, age)
    alive = p_alive(params, xs, txs, ages)
    quiet = np.exp(
        (params.r + xs) * (np.log(params.alpha + ages) - np.log(params.alpha + ages + t))
    )
    return 1.0 - alive * (1.0 - quiet)


def median_time_to_next_purchase(params: BgNbdParams, x: object, age: object) -> FloatArray:
    """Median waiting time from T to the next purchase *if the customer is alive*.

    The waiting time of an alive customer is Lomax: P(W > w) = ((α+T)/(α+T+w))^(r+x), whose
    median is ``(α+T)(2^(1/(r+x)) - 1)`` (its mean is infinite when r + x <= 1).
    """
    xs, ages = _as_array("frequency", x), _as_array("T", age)
    return (params.alpha + ages) * np.expm1(np.log(2.0) / (params.r + xs))


def expected_purchases_new_customer(params: BgNbdParams, t: object) -> FloatArray:
    """E[X(t)]: expected repeat purchases in ``t`` time units after a first purchase (FHL eq. 9).

    The conditional expectation of a customer with x = 0 seen at T = 0 (P(alive) = 1).
    """
    ts = _as_array("t", np.atleast_1d(t))
    if (ts < 0).any():
        raise ClvInputError("times must be >= 0")
    zeros = np.zeros_like(ts)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b

    def at(a_value: float) -> FloatArray:
        return (
            (a_value + b - 1) / (a_value - 1) * _one_minus_g(r, alpha, a_value, b, ts, zeros, zeros)
        )

    if abs(a - 1) < A_ONE_NUDGE:
        return 0.5 * (at(1 - A_ONE_NUDGE) + at(1 + A_ONE_NUDGE))
    return at(a)


# --- Gamma-Gamma ------------------------------------------------------------------------------


def gamma_gamma_log_likelihood(params: GammaGammaParams, x: object, zbar: object) -> FloatArray:
    """Log-likelihood of each repeat customer's mean repeat-order value (note 025, eq. 1a).

    ``f(zbar | x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q x^(px) zbar^(px-1) / (γ + x zbar)^(px+q)``.
    Customers with ``x = 0`` carry no spend information and are left out.
    """
    xs, zs = check_monetary(x, zbar)
    p, q, g = params.p, params.q, params.gamma
    return (
        special.gammaln(p * xs + q)
        - special.gammaln(p * xs)
        - special.gammaln(q)
        + q * np.log(g)
        + (p * xs - 1) * np.log(zs)
        + p * xs * np.log(xs)
        - (p * xs + q) * np.log(xs * zs + g)
    )


def fit_gamma_gamma(
    x: object,
    zbar: object,
    weights: object | None = None,
    initial: GammaGammaParams | None = None,
) -> Fit[GammaGammaParams]:
    """Maximum-likelihood Gamma-Gamma parameters on the repeat customers.

    Args:
        x: Repeat purchases per customer (customers with 0 are ignored).
        zbar: Mean value of the repeat purchases (ignored where ``x = 0``).
        weights: Customers per row (default 1 each).
        initial: Starting point (default: p = 2, q = 3 and γ matching the mean spend).

    Raises:
        ClvInputError: Unusable input (see :func:`check_monetary`).
        ClvFitError: The search produced no finite optimum.
    """
    all_x = _as_array("frequency", x)
    xs, zs = check_monetary(all_x, zbar)
    if weights is None:
        w_in = None
    else:
        w_all = _as_array("weights", weights)
        if w_all.size != all_x.size or (w_all < 0).any():
            raise ClvInputError("weights must be one non-negative number per customer")
        w_in = w_all[all_x > 0]
    (xs, zs), w = _collapse((xs, zs), w_in)
    total = float(w.sum())
    if total <= 0:
        raise ClvInputError("the weights of the repeat customers sum to zero")
    ux, x_index = np.unique(xs, return_inverse=True)
    ux_weight = np.bincount(x_index, weights=w)
    # Parameter-free sums of the likelihood, computed once.
    sum_x_log_z = _dot(w, xs * np.log(zs))
    sum_log_z = _dot(w, np.log(zs))
    sum_x_log_x = _dot(w, xs * np.log(xs))
    wx = w * xs

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        p, q, g = np.exp(theta)
        log_mix = np.log(xs * zs + g)
        ll = (
            _dot(ux_weight, special.gammaln(p * ux + q) - special.gammaln(p * ux))
            - total * special.gammaln(q)
            + total * q * np.log(g)
            + p * sum_x_log_z
            - sum_log_z
            + p * sum_x_log_x
            - p * _dot(wx, log_mix)
            - q * _dot(w, log_mix)
        )
        dig_pq = special.digamma(p * ux + q)
        g_p = (
            _dot(ux_weight * ux, dig_pq - special.digamma(p * ux))
            + sum_x_log_z
            + sum_x_log_x
            - _dot(wx, log_mix)
        )
        g_q = (
            _dot(ux_weight, dig_pq)
            - total * special.digamma(q)
            + total * np.log(g)
            - _dot(w, log_mix)
        )
        g_g = total * q / g - _dot(p * wx + q * w, 1.0 / (xs * zs + g))
        grad = np.array([g_p * p, g_q * q, g_g * g])
        return -ll / total, -grad / total

    if initial is None:
        # Mean spend p γ / (q - 1) at the start equals the observed mean: γ carries the
        # currency's scale, so the search starts on the right order of magnitude.
        initial = GammaGammaParams(p=2.0, q=3.0, gamma=_dot(w, zs) / total)
    theta0 = np.log(list(initial.as_dict().values()))
    theta, iterations, converged, mean_nll = _maximise(objective, theta0)
    names = ("p", "q", "gamma")
    p, q, g = (float(v) for v in np.exp(theta))
    return Fit(
        params=GammaGammaParams(p=p, q=q, gamma=g),
        log_likelihood=-mean_nll * total,
        n_customers=round(total),
        std_errors=_std_errors(objective, theta, total, names),
        iterations=iterations,
        converged=converged,
        at_bound=_at_bound(theta, names),
    )


def expected_order_value(params: GammaGammaParams, x: object, zbar: object) -> FloatArray:
    """E[Z | x, zbar]: expected value of a future order (note 025, eq. 5).

    ``(γ + x zbar) p / (p x + q - 1)``: a weighted mean of the population mean
    ``p γ/(q-1)`` and the customer's own ``zbar``, the more of the latter the more repeat
    orders they made. For ``x = 0`` it is the population mean (NaN if ``q <= 1``).
    """
    xs, zs = _as_array("frequency", x), _as_array("monetary_value", zbar)
    if xs.size != zs.size:
        raise ClvInputError("frequency and monetary_value differ in length")
    if (xs < 0).any() or (zs < 0).any():
        raise ClvInputError("frequency and monetary_value must be >= 0")
    zs = np.where(xs > 0, zs, 0.0)  # a one-time buyer's zbar is undefined and must not count
    denominator = params.p * xs + params.q - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (params.gamma + xs * zs) * params.p / denominator
    return np.where(denominator > 0, value, np.nan)


# --- CLV and checks --------------------------------------------------------------------------


def discounted_clv(
    bgnbd: BgNbdParams,
    gamma_gamma: GammaGammaParams,
    x: object,
    t_x: object,
    age: object,
    zbar: object,
    *,
    months: int = 12,
    month_length: float = 365.25 / 12,
    monthly_discount_rate: float = 0.01,
) -> FloatArray:
    """Discounted expected value of the customer's purchases over the next ``months`` months.

    ``CLV = Σ_{k=1..months} E[order value] · (E[Y(k·m)] - E[Y((k-1)·m)]) / (1 + d)^k`` with
    ``m`` the month length in the model's time unit and ``d`` the monthly discount rate: the
    purchases expected within month k are valued at the end of that month (the method of
    lifetimes' ``customer_lifetime_value``, which uses 30-day months).

    Raises:
        ClvInputError: Non-positive ``months`` or ``month_length``, or a negative rate.
    """
    if months < 1 or month_length <= 0 or monthly_discount_rate < 0:
        raise ClvInputError("need months >= 1, month_length > 0 and a discount rate >= 0")
    value = expected_order_value(gamma_gamma, x, zbar)
    xs, txs, ages = check_summary(x, t_x, age)
    total = np.zeros_like(xs)
    previous = np.zeros_like(xs)
    for k in range(1, months + 1):
        cumulative = _expected_if_alive(bgnbd, k * month_length, xs, ages)
        total += (cumulative - previous) / (1.0 + monthly_discount_rate) ** k
        previous = cumulative
    return value * total * p_alive(bgnbd, xs, txs, ages)


def independence_check(
    x: object, zbar: object, max_abs_correlation: float = 0.3
) -> IndependenceCheck:
    """Pearson correlation of frequency and mean repeat-order value among repeat customers."""
    xs, zs = _as_array("frequency", x), _as_array("monetary_value", zbar)
    repeat = xs > 0
    n = int(repeat.sum())
    if n < 3 or np.ptp(xs[repeat]) == 0 or np.ptp(zs[repeat]) == 0:
        return IndependenceCheck(float("nan"), float("nan"), n, max_abs_correlation)
    r = float(np.corrcoef(xs[repeat], zs[repeat])[0, 1])
    r = min(max(r, -1.0), 1.0)
    # Two-sided test of r = 0 through Student's t with n - 2 degrees of freedom (what
    # scipy.stats.pearsonr does, without importing scipy.stats: seconds per dbt model).
    if abs(r) == 1.0:
        p_value = 0.0
    else:
        t = abs(r) * np.sqrt((n - 2) / (1.0 - r * r))
        p_value = float(2.0 * special.stdtr(n - 2, -t))
    return IndependenceCheck(r, p_value, n, max_abs_correlation)
