"""The same dbt project builds on DuckDB and on Postgres, with the same rows in every model.

A small world is loaded by the dlt pipelines into both warehouses; ``dbt build`` runs on each
target (models, seeds, data tests and unit tests); then every relation of the dbt schemas is
compared by row count and an order-independent checksum (``tests/dbt/compare.py``). dbt
Python models cannot build on Postgres: what they built on DuckDB is copied over, so every SQL
model downstream of them builds and is compared there too; they are listed as skipped.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.dbt.compare import compare, copy_python_model_outputs, python_models
from tests.dbt.conftest import LoadedWorld, run_dbt

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SCHEMAS = ("seeds", "staging", "intermediate", "identity", "marts")


def _tail(result: subprocess.CompletedProcess[str], lines: int = 60) -> str:
    return "\n".join((result.stdout + result.stderr).splitlines()[-lines:])


@pytest.fixture(scope="module")
def builds(loaded_world: LoadedWorld) -> dict[str, subprocess.CompletedProcess[str]]:
    """``dbt build`` on both targets, DuckDB first; Postgres with the Python models' outputs."""
    env, work_dir = loaded_world.dbt_env(), loaded_world.work_dir
    duckdb_build = run_dbt(["build"], target="duckdb", env=env, work_dir=work_dir)
    manifest = work_dir / "target-duckdb" / "manifest.json"
    excluded = python_models(manifest)
    if duckdb_build.returncode == 0:
        copy_python_model_outputs(loaded_world.duckdb_path, loaded_world.pg_dsn, manifest, work_dir)
    postgres_build = run_dbt(
        ["build", "--exclude", *excluded], target="postgres", env=env, work_dir=work_dir
    )
    return {"duckdb": duckdb_build, "postgres": postgres_build}


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_dbt_build_passes(builds: dict[str, subprocess.CompletedProcess[str]], target: str) -> None:
    result = builds[target]
    assert result.returncode == 0, _tail(result)


def test_every_relation_agrees_between_duckdb_and_postgres(
    builds: dict[str, subprocess.CompletedProcess[str]], loaded_world: LoadedWorld
) -> None:
    assert all(r.returncode == 0 for r in builds.values()), "a dbt build failed"
    manifest_path = loaded_world.work_dir / "target-duckdb" / "manifest.json"
    skipped = python_models(manifest_path)
    comparison = compare(
        loaded_world.duckdb_path, loaded_world.pg_dsn, schemas=SCHEMAS, skip=skipped
    )
    print(comparison.report())
    assert comparison.diffs == [], comparison.report()

    # Every SQL model and seed was compared, not just whatever happened to exist.
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    expected = {
        f"{node['schema']}.{node['alias']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] in {"model", "seed"}
        and node["name"] not in skipped
        and node["config"].get("materialized") != "ephemeral"
    }
    assert expected <= set(comparison.compared), sorted(expected - set(comparison.compared))
    # Staging models must have rows, or the comparison proves nothing.
    empty = sorted(
        name
        for name, rows in comparison.compared.items()
        if name.startswith("staging.") and not rows
    )
    assert not empty, f"empty staging models: {empty}"
