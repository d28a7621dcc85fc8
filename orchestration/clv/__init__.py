"""Customer lifetime value: BG/NBD + Gamma-Gamma fitted by maximum likelihood.

- :mod:`.summary`: transactions → per-customer frequency, recency, age and repeat spend;
- :mod:`.models`: likelihoods, fits and closed-form predictions (P(alive), expected
  purchases, expected order value, discounted CLV) and the independence check;
- :mod:`.scoring`: fit a summary, score its customers, compare a holdout;
- :mod:`.settings`: the seeded settings shared by dbt and the CLI;
- :mod:`.cli`: ``closedloop clv fit`` for any transaction file.

The dbt models ``customer_btyd_summary``, ``clv_model_params`` and ``customer_clv`` run the
same code inside ``dbt build``.
"""
