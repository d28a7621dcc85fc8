"""Every role against the sandbox: full load, idempotent re-run, increments, state recovery."""

from __future__ import annotations

import shutil

import pytest

from pipelines import factory
from sandbox.world import advance

from .conftest import Sandbox
from .support import duplicate_keys, last_row_counts, servable_counts, warehouse_counts

ROLES = factory.ROLES


@pytest.mark.parametrize("role", ROLES)
def test_full_load_lands_the_world_and_a_rerun_adds_nothing(role: str, sandbox: Sandbox) -> None:
    factory.run(role)
    expected = servable_counts(sandbox.world, role)
    assert warehouse_counts(role) == expected
    first = sum(last_row_counts(role).values())

    factory.run(role)

    assert warehouse_counts(role) == expected
    assert not any(duplicate_keys(role).values()), duplicate_keys(role)
    # Only the deliberate overlap windows (late-event lag, boundary second) are re-read.
    assert sum(last_row_counts(role).values()) <= 0.05 * first


@pytest.mark.parametrize("role", ROLES)
def test_advance_loads_only_the_changes(role: str, sandbox: Sandbox) -> None:
    factory.run(role)
    before = warehouse_counts(role)

    advance(sandbox.world, 7)
    factory.run(role)

    after = warehouse_counts(role)
    assert after == servable_counts(sandbox.world, role)
    assert sum(after.values()) > sum(before.values()), "the world grew; so must the tables"
    assert not any(duplicate_keys(role).values()), duplicate_keys(role)
    loaded = sum(last_row_counts(role).values())
    assert 0 < loaded <= 0.25 * sum(after.values())


@pytest.mark.parametrize("role", ROLES)
def test_state_is_restored_from_the_destination(role: str, sandbox: Sandbox) -> None:
    factory.run(role)
    first = sum(last_row_counts(role).values())
    # A fresh container: nothing survives but the warehouse.
    shutil.rmtree(sandbox.pipelines_dir)

    factory.run(role)

    assert sum(last_row_counts(role).values()) <= 0.05 * first
    assert warehouse_counts(role) == servable_counts(sandbox.world, role)
