"""Customer summaries drawn from the BG/NBD + Gamma-Gamma process itself.

Used to check parameter recovery and predictions where the truth is known (tests,
``benchmarks/clv.py``): every customer makes a first purchase at time 0 and is observed for
``T`` time units, optionally followed by a holdout period whose purchases are counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.clv.models import BgNbdParams, GammaGammaParams


def simulate_customers(
    n: int,
    bgnbd: BgNbdParams,
    gamma_gamma: GammaGammaParams,
    *,
    max_age: float,
    holdout: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Draw ``n`` customers and summarise them.

    Per customer: ``λ ~ Gamma(r, α)``, ``p ~ Beta(a, b)``, ``ν ~ Gamma(q, γ)``; age ``T ~
    Uniform(0, max_age)``; purchases at exponential gaps while alive, dropout with
    probability ``p`` after every repeat purchase (never after the first, as in BG/NBD);
    repeat-order values ``z ~ Gamma(p, ν)``.

    Args:
        n: Customers.
        bgnbd: Purchase and dropout parameters (rates per time unit).
        gamma_gamma: Spend parameters.
        max_age: Largest age T.
        holdout: Length of a holdout period after T whose purchases are counted.
        seed: Random seed.

    Returns:
        ``customer_id, frequency, recency, T, monetary_value, holdout_purchases`` plus the
        true ``purchase_rate``, ``dropout_probability``, ``spend_rate`` and ``alive_at_T``.
    """
    rng = np.random.default_rng(seed)
    rate = np.maximum(rng.gamma(bgnbd.r, 1.0 / bgnbd.alpha, n), 1e-300)
    dropout = rng.beta(bgnbd.a, bgnbd.b, n)
    age = rng.uniform(0.0, max_age, n)
    end = age + holdout
    frequency = np.zeros(n, dtype=np.int64)
    recency = np.zeros(n)
    held = np.zeros(n, dtype=np.int64)
    alive_at_t = np.ones(n, dtype=bool)
    now = np.zeros(n)
    active = np.arange(n)
    # One pass per purchase number, all still-buying customers at once.
    while active.size:
        now_next = now[active] + rng.exponential(1.0, active.size) / rate[active]
        inside = now_next <= end[active]
        active = active[inside]
        now[active] = now_next[inside]
        calibration = now[active] <= age[active]
        frequency[active[calibration]] += 1
        recency[active[calibration]] = now[active[calibration]]
        held[active[~calibration]] += 1
        gone = rng.random(active.size) < dropout[active]
        alive_at_t[active[gone & calibration]] = False
        active = active[~gone]
    spend_rate = rng.gamma(gamma_gamma.q, 1.0 / gamma_gamma.gamma, n)
    repeats = np.maximum(frequency, 1)
    # The mean of x Gamma(p, ν) draws is Gamma(p·x, x·ν): one draw per customer.
    mean_value = rng.gamma(gamma_gamma.p * repeats, 1.0 / spend_rate) / repeats
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "frequency": frequency,
            "recency": recency,
            "T": age,
            "monetary_value": np.where(frequency > 0, mean_value, 0.0),
            "holdout_purchases": held,
            "purchase_rate": rate,
            "dropout_probability": dropout,
            "spend_rate": spend_rate,
            "alive_at_T": alive_at_t,
        }
    )
