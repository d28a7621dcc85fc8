"""E-shop database source defaults: tables, cursor, chunking and phone columns."""

from __future__ import annotations

# Every table of the shop database has an INTEGER PRIMARY KEY `id` and an `updated_at`.
TABLES: tuple[str, ...] = (
    "customers",
    "addresses",
    "categories",
    "products",
    "orders",
    "order_lines",
    "refunds",
    "carts",
)
PRIMARY_KEY = "id"
CURSOR_COLUMN = "updated_at"
# Seconds re-read before the last cursor value: the shop stores whole seconds, so rows
# written in the same second after a run would otherwise be skipped by `>= last value`.
CURSOR_LAG_SECONDS = 1.0

# Rows per Arrow batch: large enough to amortise the per-batch overhead, small enough to
# keep memory flat for a million-row order_lines table.
CHUNK_SIZE = 50_000

# Phone columns per table, and where each table's rows carry a hint of their country.
PHONE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("phone",),
    "addresses": ("phone",),
    "orders": ("phone",),
}
# table -> (column, mapping to a region or None for a free-text/ISO country column)
REGION_HINTS: dict[str, tuple[str, dict[str, str] | None]] = {
    "addresses": ("country_code", None),
    # Orders carry no country, but the shop prices each market in its own currency.
    "orders": ("currency", {"CZK": "CZ", "PLN": "PL", "EUR": "SK"}),
}
