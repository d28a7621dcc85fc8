"""The dbt project as assets; raw sources map onto the dlt assets' keys."""

import os
import shutil
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.defs.ingest.assets import WRITER_POOL
from orchestration.defs.transform.manifest import manifest_is_stale
from orchestration.environment import DBT_PROJECT_DIR, venv_executable


class WarehouseTranslator(DagsterDbtTranslator):
    """Sources become ``raw_<role>/<table>`` (the dlt keys), seeds ``seeds/<seed>``, models
    ``<layer>/<model>`` where the layer is the top folder under ``models/``."""

    @staticmethod
    def _layer(props: Mapping[str, Any]) -> str:
        if props["resource_type"] == "seed":
            return "seeds"
        fqn = props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "models"

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            role = dbt_resource_props["source_name"]
            return dg.AssetKey([f"raw_{role}", dbt_resource_props["name"]])
        return dg.AssetKey([self._layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return self._layer(dbt_resource_props)


@cache
def dbt_project() -> DbtProject:
    """The dbt project, with its manifest prepared when missing or stale.

    ``prepare_if_dev`` only acts under ``dagster dev``; tests, the CLI and CI load the
    definitions without it, so the manifest is parsed here when there is none or when a
    model, seed, macro or test changed since it was written (a stale manifest names nodes
    that no longer exist and misses new ones: the dbt step then fails on its events).
    """
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    project.prepare_if_dev()
    if manifest_is_stale(DBT_PROJECT_DIR, project.manifest_path):
        project.preparer.prepare(project)
    return project


@dbt_assets(
    manifest=dbt_project().manifest_path,
    project=dbt_project(),
    dagster_dbt_translator=WarehouseTranslator(),
    pool=WRITER_POOL,
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """``dbt build`` of the selected models; dbt tests surface as asset checks."""
    # Identity outputs (edges, golden ID changes, redirects) carry the run that made them;
    # the dbt subprocess inherits the variable.
    previous_run_id = os.environ.get("CLOSEDLOOP_RUN_ID")
    os.environ["CLOSEDLOOP_RUN_ID"] = context.run_id
    invocation = dbt.cli(["build"], context=context)
    try:
        yield from invocation.stream()
    finally:
        if previous_run_id is None:
            os.environ.pop("CLOSEDLOOP_RUN_ID", None)
        else:
            os.environ["CLOSEDLOOP_RUN_ID"] = previous_run_id
        # dagster-dbt writes a target directory per run (manifest, logs, compiled SQL):
        # ~4 MB each, never removed, so a daily schedule would fill the disk.
        shutil.rmtree(invocation.target_path, ignore_errors=True)


defs = dg.Definitions(
    assets=[dbt_models],
    resources={
        "dbt": DbtCliResource(project_dir=dbt_project(), dbt_executable=venv_executable("dbt"))
    },
)
