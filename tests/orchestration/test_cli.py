"""The ``closedloop`` CLI: world commands, clear errors, read-only warehouse views."""

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from orchestration.cli import app

runner = CliRunner()


def test_world_generate_then_info(tmp_path: Path) -> None:
    out = tmp_path / "world"
    result = runner.invoke(
        app, ["world", "generate", "--people", "300", "--seed", "5", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "world.json").exists()
    assert (out / "shop" / "shop.sqlite").exists()
    info = runner.invoke(app, ["world", "info", "--world", str(out)])
    assert info.exit_code == 0, info.output
    assert "shop.orders" in info.output


def test_generate_refuses_to_overwrite_a_world(tmp_path: Path) -> None:
    out = tmp_path / "world"
    args = ["world", "generate", "--people", "200", "--seed", "1", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "world" in again.output.lower()
    too_small = runner.invoke(
        app, ["world", "generate", "--people", "3", "--out", str(tmp_path / "w2")]
    )
    assert too_small.exit_code == 2
    assert "people" in too_small.output


def test_ingest_rejects_an_unknown_role(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "wh.duckdb"))
    result = runner.invoke(app, ["ingest", "erp"])
    assert result.exit_code == 2
    assert "unknown role" in result.output
    assert not (tmp_path / "wh.duckdb").exists()


def test_warehouse_views(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "wh.duckdb"
    monkeypatch.setenv("WAREHOUSE_PATH", str(path))
    assert runner.invoke(app, ["warehouse"]).exit_code == 2
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw_shop; create table raw_shop.orders as select 1 as id")
        con.execute(
            "create schema raw_shop_staging; create table raw_shop_staging.orders as select 1 as id"
        )
    listing = runner.invoke(app, ["warehouse"])
    assert listing.exit_code == 0
    assert "raw_shop.orders" in listing.output
    # dlt's scratch schemas are not shown.
    assert "raw_shop_staging" not in listing.output
    query = runner.invoke(app, ["sql", "select count(*) as n from raw_shop.orders"])
    assert query.exit_code == 0
    assert "1" in query.output
