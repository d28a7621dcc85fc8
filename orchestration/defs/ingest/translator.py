"""Asset naming for dlt resources: ``raw_<role>/<table>``, the key dbt sources map to."""

import dagster as dg
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData


class RawTableTranslator(DagsterDltTranslator):
    """Keys raw tables by their dataset and table, with no upstream dependency.

    dagster-dlt's default key is ``dlt_<source>_<resource>`` with an upstream "source" asset;
    the warehouse schema and table are what dbt and people refer to, so those are the key.
    """

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        dataset = data.pipeline.dataset_name if data.pipeline else "raw"
        return spec.replace_attributes(
            key=dg.AssetKey([dataset, data.resource.table_name or data.resource.name]),
            deps=[],
            group_name="raw",
            kinds={"dlt", "duckdb"},
        )
