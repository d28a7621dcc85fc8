"""One multi-asset per source role: the dlt pipeline that lands ``raw_<role>``."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dlt import DagsterDltResource, dlt_assets

from orchestration.defs.ingest.translator import RawTableTranslator
from pipelines.factory import ROLES, make_pipeline, make_source

# DuckDB has one writer: dlt and dbt steps share this pool (limit 1 in dagster.yaml).
WRITER_POOL = "duckdb_writer"


def build_ingest_assets(role: str) -> dg.AssetsDefinition:
    """Build the dlt multi-asset for one source role.

    Args:
        role: One of ``pipelines.factory.ROLES``.

    Returns:
        The assets definition whose step runs the role's pipeline.
    """

    @dlt_assets(
        dlt_source=make_source(role),
        dlt_pipeline=make_pipeline(role),
        name=f"ingest_{role}",
        dagster_dlt_translator=RawTableTranslator(),
        pool=WRITER_POOL,
    )
    def _ingest(context: dg.AssetExecutionContext, dlt: DagsterDltResource) -> Iterator[Any]:
        # A fresh source per run: dlt sources keep per-run state and fail when reused. A fresh
        # pipeline too, so the destination follows WAREHOUSE_PATH as it is now, not at load.
        yield from dlt.run(
            context=context, dlt_source=make_source(role), dlt_pipeline=make_pipeline(role)
        )

    return _ingest


defs = dg.Definitions(
    assets=[build_ingest_assets(role) for role in ROLES],
    resources={"dlt": DagsterDltResource()},
)
