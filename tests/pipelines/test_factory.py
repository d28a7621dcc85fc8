"""The factory interface the orchestration layer relies on."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipelines import factory
from sandbox.world import advance

from .conftest import Sandbox
from .support import servable_counts, warehouse_counts

TABLES = {
    "crm": {"contacts", "companies", "deals", "owners", "campaigns", "associations"},
    "shop": {
        "customers",
        "addresses",
        "categories",
        "products",
        "orders",
        "order_lines",
        "refunds",
        "carts",
    },
    "esp": {"profiles", "events", "metrics", "lists", "list_members", "campaigns", "flows"},
    "helpdesk": {"users", "tickets", "satisfaction_ratings", "nps_responses"},
    "web": {"events", "consent"},
}


def test_warehouse_path_is_read_at_call_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WAREHOUSE_PATH", raising=False)
    assert factory.warehouse_path() == tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("WAREHOUSE_PATH", "data/wh.duckdb")
    assert factory.warehouse_path() == tmp_path / "data" / "wh.duckdb"
    assert factory.warehouse_path().is_absolute()


def test_sources_are_fresh_and_named_like_their_tables(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Building a source must not touch the systems (Dagster builds them at definition load).
    monkeypatch.setenv("SOURCES__SHOP__CREDENTIALS", str(sandbox.world / "missing.sqlite"))
    for role in factory.ROLES:
        first, second = factory.make_source(role), factory.make_source(role)
        assert first is not second
        assert set(first.selected_resources) == TABLES[role]
        assert {r.table_name for r in first.selected_resources.values()} == TABLES[role]


def test_overrides_reach_the_source_function(sandbox: Sandbox) -> None:
    source = factory.make_source("crm", base_url="https://example.invalid", list_page_size=7)
    assert source.name == "crm"
    with pytest.raises(TypeError):
        factory.make_source("crm", no_such_argument=1)


def test_pipelines_are_named_per_role(sandbox: Sandbox, tmp_path: Path) -> None:
    pipeline = factory.make_pipeline("esp")
    assert pipeline.pipeline_name == "closedloop_esp"
    assert pipeline.dataset_name == "raw_esp"
    assert Path(pipeline.pipelines_dir) == sandbox.pipelines_dir
    assert pipeline.destination.destination_name == "duckdb"
    elsewhere = factory.make_pipeline("esp", pipelines_dir=tmp_path / "other")
    assert Path(elsewhere.pipelines_dir) == tmp_path / "other"


def test_unknown_roles_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown source role"):
        factory.make_source("erp")
    with pytest.raises(ValueError, match="unknown source role"):
        factory.make_pipeline("erp")


def _extract_an_increment(sandbox: Sandbox) -> Path:
    """Load once, let the world move on, then only extract: a package is left pending."""
    factory.run("web")
    advance(sandbox.world, 7)
    pipeline = factory.make_pipeline("web")
    pipeline.extract(factory.make_source("web"))
    assert pipeline.has_pending_data
    return Path(pipeline.working_dir)


def test_an_extracted_but_unloaded_package_is_loaded_first(sandbox: Sandbox) -> None:
    _extract_an_increment(sandbox)

    factory.run("web")

    assert not factory.make_pipeline("web").has_pending_data
    assert warehouse_counts("web") == servable_counts(sandbox.world, "web")


def test_an_unprocessable_pending_package_is_dropped_with_its_state(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    working_dir = _extract_an_increment(sandbox)
    # Corrupt the extracted job files: normalize cannot read them any more.
    jobs = list((working_dir / "normalize").rglob("new_jobs/*"))
    assert jobs
    for job in jobs:
        job.write_bytes(b"\x00not a job file")

    with caplog.at_level(logging.WARNING, logger="dlt"):
        factory.run("web")

    assert "cannot be loaded" in caplog.text
    # The package and the state it advanced were thrown away together: the run started
    # again from the destination's state, so the increment is not lost.
    assert warehouse_counts("web") == servable_counts(sandbox.world, "web")
