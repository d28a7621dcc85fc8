"""Identity resolution: from source records to stable golden customer IDs.

The steps, each a function of its own module so that dbt Python models, the
``closedloop identity`` CLI and the benchmarks run exactly the same code:

1. :mod:`.blocklist` — identifier values that must never link records (junk, placeholders,
   values shared by too many people), reported with the reason.
2. :mod:`.edges` — deterministic edges: records sharing an identifier *and* agreeing on the
   person (first name, birth date), so a household's shared phone or mailbox links nobody.
3. :mod:`.scoring` — probabilistic edges from a trained Splink model, only above a strict
   threshold and with person-level agreement; the middle band is kept for review.
4. :mod:`.components` — connected components (union-find; an iterative SQL version with a
   convergence guard for warehouses), with a cluster-size guard.
5. :mod:`.golden_ids` — stable golden IDs inherited by record overlap from the previous run,
   with redirects for merges.
6. :mod:`.evaluation` — pairwise precision/recall/F1 against a truth column.

All steps work on a DuckDB connection and the two input shapes of
``int_identity__records`` and ``int_identity__identifiers`` (see :mod:`.frames`).
"""
