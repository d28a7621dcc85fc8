"""Throughput benchmarks for closedloop: world generation, dlt ingestion, direct DuckDB loads.

Run with ``make bench`` or ``python -m benchmarks.run --people 20000``; never part of
``make test``. See ``benchmarks/README.md`` for what is measured and the latest figures.
"""
