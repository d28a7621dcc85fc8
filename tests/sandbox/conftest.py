"""Fixtures for emulator tests: generated worlds and running emulators on port 0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sandbox.emulator import EmulatorThread, FaultConfig
from sandbox.world import generate
from tests.sandbox.world_fixture import build_world

FAST = 10_000.0  # rate-limit scale that never throttles a test sweep


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small world from the real generator."""
    out = tmp_path_factory.mktemp("world")
    generate(300, 42, out)
    return out


@pytest.fixture(scope="session")
def edge_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-built world with the edge cases (ties, last-minute rows, deleted tickets)."""
    return build_world(tmp_path_factory.mktemp("edge"), people=300, seed=7)


@pytest.fixture(scope="session")
def big_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """More than 10,000 active contacts, to hit HubSpot's search cap."""
    return build_world(tmp_path_factory.mktemp("big"), people=11_500, seed=11)


@pytest.fixture(scope="session")
def emulator(world_dir: Path) -> Iterator[EmulatorThread]:
    """One emulator on the main world for the whole session, never throttling."""
    with EmulatorThread(world_dir, faults=FaultConfig(rate_limit_scale=FAST)) as emu:
        yield emu


@pytest.fixture(scope="session")
def edge_emulator(edge_world: Path) -> Iterator[EmulatorThread]:
    """Emulator on the edge-case world."""
    with EmulatorThread(edge_world, faults=FaultConfig(rate_limit_scale=FAST)) as emu:
        yield emu


@pytest.fixture
def fresh_emulator(edge_world: Path) -> Iterator[EmulatorThread]:
    """A private emulator a test may throttle or break."""
    with EmulatorThread(edge_world, faults=FaultConfig(rate_limit_scale=FAST)) as emu:
        yield emu


@pytest.fixture(scope="session")
def http() -> Iterator[requests.Session]:
    """One HTTP session for the test run."""
    with requests.Session() as s:
        yield s
