"""E-shop database source: the shop's own SQL tables, incrementally on ``updated_at``.

See ``README.md`` next to this file for the incremental strategy and configuration.
"""

from collections.abc import Sequence

import dlt
from dlt.sources import DltResource
from dlt.sources.sql_database import sql_table

from .._common.phones import add_phone_columns_arrow
from . import settings
from .helpers import to_sqlalchemy_url, utc_timestamps

__all__ = ["shop_database"]


@dlt.source(name="shop")
def shop_database(
    credentials: str = dlt.secrets.value,
    schema: str | None = None,
    tables: Sequence[str] = settings.TABLES,
    chunk_size: int = settings.CHUNK_SIZE,
) -> Sequence[DltResource]:
    """Load the e-shop database into ``raw_shop``, one resource per table.

    Tables are read with dlt's ``sql_database`` machinery on the pyarrow backend: typed Arrow
    batches (decimals stay decimals), reflected only when the run starts so that building the
    source never connects. Each table is merged on ``id`` and read incrementally on
    ``updated_at``, re-reading the last second (timestamps may have whole-second precision,
    and a row written later in the same second as the previous run's last row must not be
    skipped). Timestamp columns land as UTC ``TIMESTAMP WITH TIME ZONE``.

    Args:
        credentials: Any SQLAlchemy URL (``sqlite:////abs/shop.sqlite``,
            ``postgresql://user:pw@host:5432/shop``) or a plain path to a SQLite file
            (``SOURCES__SHOP__CREDENTIALS``).
        schema: Database schema holding the tables (e.g. ``public``); default schema if None.
        tables: Tables to load.
        chunk_size: Rows per Arrow batch.

    Returns:
        One resource per table, named like the table.
    """
    url = to_sqlalchemy_url(credentials)
    resources = []
    for table in tables:
        phones = settings.PHONE_COLUMNS.get(table, ())
        resource = sql_table(
            credentials=url,
            table=table,
            schema=schema,
            backend="pyarrow",
            chunk_size=chunk_size,
            defer_table_reflect=True,
            reflection_level="full_with_precision",
            incremental=dlt.sources.incremental(
                settings.CURSOR_COLUMN, lag=settings.CURSOR_LAG_SECONDS
            ),
            type_adapter_callback=utc_timestamps,
            primary_key=settings.PRIMARY_KEY,
            write_disposition="merge",
        )
        if phones:
            region_column, region_map = settings.REGION_HINTS.get(table, (None, None))
            resource.add_map(add_phone_columns_arrow(phones, region_column, region_map))
        resources.append(resource)
    return resources
