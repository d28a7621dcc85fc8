"""The Dagster code location loads, names raw tables like dbt does, and wires one job."""

import os
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.transform.manifest import manifest_is_stale
from pipelines.factory import ROLES


@pytest.fixture(scope="module")
def definitions(tmp_path_factory: pytest.TempPathFactory) -> dg.Definitions:
    tmp = tmp_path_factory.mktemp("defs")
    with pytest.MonkeyPatch.context() as mp:
        # Placeholder paths: loading definitions must not touch a warehouse or a world.
        mp.setenv("WAREHOUSE_PATH", str(tmp / "warehouse.duckdb"))
        mp.setenv("CLOSEDLOOP_WORLD", str(tmp / "world"))
        from orchestration.definitions import defs

        loaded = defs()
        assert not Path(tmp / "warehouse.duckdb").exists()
        return loaded


def _keys(definitions: dg.Definitions) -> set[dg.AssetKey]:
    return set(definitions.resolve_asset_graph().get_all_asset_keys())


def test_every_role_lands_in_its_raw_schema(definitions: dg.Definitions) -> None:
    keys = _keys(definitions)
    for role in ROLES:
        assert any(key.path[0] == f"raw_{role}" for key in keys), role


def test_dbt_sources_are_the_dlt_assets(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    staging = [k for k in graph.get_all_asset_keys() if k.path[0] == "staging"]
    assert staging, "no staging models in the asset graph"
    upstream = {k for k in graph.get_all_asset_keys() if k.path[0].startswith(("raw_", "seeds"))}
    for key in staging:
        parents = graph.get(key).parent_keys
        # Each staging model reads the raw tables the dlt assets materialise (and lookup
        # seeds): no dangling source asset with a different key.
        assert any(p.path[0].startswith("raw_") for p in parents), key
        assert parents <= upstream, (key, parents - upstream)


def test_one_job_runs_everything_in_process(definitions: dg.Definitions) -> None:
    job = definitions.resolve_job_def("closedloop_job")
    assert job.executor_def.name == "in_process"
    schedule = definitions.resolve_schedule_def("closedloop_daily")
    assert schedule.job_name == "closedloop_job"


def test_manifest_is_stale_when_a_project_file_is_newer(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    (project / "models").mkdir(parents=True)
    model = project / "models" / "m.sql"
    model.write_text("select 1")
    manifest = project / "target" / "manifest.json"
    assert manifest_is_stale(project, manifest)  # missing
    manifest.parent.mkdir()
    manifest.write_text("{}")
    os.utime(model, (1_000, 1_000))
    assert not manifest_is_stale(project, manifest)
    os.utime(model, None)
    os.utime(manifest, (2_000, 2_000))
    assert manifest_is_stale(project, manifest)  # a model edited after the parse
