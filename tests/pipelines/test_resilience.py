"""Vendor faults, rate limits and a killed process: every run still lands exactly the world."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests

from pipelines import factory

from .conftest import Sandbox
from .support import duplicate_keys, servable_counts, warehouse_counts

HTTP_ROLES = ("crm", "esp", "helpdesk")
# Small pages, so that a small world still makes enough requests for faults to hit.
SMALL_PAGES = {
    "crm": {"list_page_size": 25},
    "esp": {"profiles_page_size": 50},
    "helpdesk": {"export_page_size": 20, "page_size": 20},
}


@pytest.mark.parametrize("role", HTTP_ROLES)
def test_server_errors_and_dropped_connections_are_retried(role: str, sandbox: Sandbox) -> None:
    sandbox.emulator.set_faults(status_5xx_rate=0.2, drop_rate=0.05, seed=3)

    factory.run(role, **SMALL_PAGES[role])

    stats = sandbox.emulator.stats()
    assert stats["injected_5xx"] > 0
    assert stats["dropped"] > 0
    assert warehouse_counts(role) == servable_counts(sandbox.world, role)
    assert not any(duplicate_keys(role).values())


# Per role: the rate-limit scale, and a request that spends the bucket the run needs first.
# Draining the bucket before the run makes the 429s certain (a merely tight limit may or may
# not be hit by a small world's run) and keeps the waits short.
_THROTTLE: dict[str, tuple[float, str, dict[str, str], dict[str, str]]] = {
    # HubSpot: 100 requests / 10 s for every endpoint but search
    "crm": (1.0, "/hubspot/crm/v3/owners", {}, {"Authorization": "Bearer pat-sandbox-crm"}),
    # Klaviyo: per endpoint, and profiles refill 75 / s, faster than a run starts: at a
    # fifth of that, the run's own profile pages (small ones, below) outrun the bucket
    "esp": (
        0.2,
        "/klaviyo/api/profiles",
        {"page[size]": "1"},
        {"Authorization": "Klaviyo-API-Key pk_sandbox_esp", "revision": "2026-07-15"},
    ),
    # Zendesk: 10 incremental exports a minute; scaled to 60 so a token comes every second
    "helpdesk": (
        6.0,
        "/zendesk/api/v2/incremental/users/cursor.json",
        {"start_time": "0"},
        {
            "Authorization": "Basic c2FuZGJveEBjbG9zZWRsb29wLnRlc3QvdG9rZW46c2FuZGJveC1oZWxwZGVzay10b2tlbg=="
        },
    ),
}


def _drain(sandbox: Sandbox, path: str, params: dict[str, str], headers: dict[str, str]) -> int:
    """Spend a rate-limit bucket until the vendor answers 429; returns requests spent."""
    spent = 0
    with requests.Session() as http:
        while True:
            status = http.get(
                sandbox.emulator.url + path, params=params, headers=headers, timeout=10
            ).status_code
            if status == 429:
                return spent
            assert status == 200, status
            spent += 1


@pytest.mark.parametrize("role", HTTP_ROLES)
def test_rate_limits_are_honoured(role: str, sandbox: Sandbox) -> None:
    scale, path, params, headers = _THROTTLE[role]
    sandbox.emulator.set_faults(rate_limit_scale=scale)
    assert _drain(sandbox, path, params, headers) > 0

    factory.run(role, **({"profiles_page_size": 10} if role == "esp" else {}))

    # more 429s than the one that ended the draining: the run itself was throttled
    assert sandbox.emulator.stats()["rate_limited"] > 1
    assert warehouse_counts(role) == servable_counts(sandbox.world, role)


# A pipeline run that stops itself at a chosen point and waits to be killed. "extract":
# after some records went through the source; "load": while the second merge into a raw
# table is running.
_CHILD = textwrap.dedent(
    """
    import contextlib, os, sys, time
    from pathlib import Path

    from pipelines import factory

    role, phase, marker = sys.argv[1:4]

    def wait_for_kill():
        Path(marker).write_text(str(os.getpid()))
        time.sleep(600)

    if phase == "extract":
        seen = [0]

        def count(item):
            seen[0] += 1
            if seen[0] == 5:
                wait_for_kill()
            return item

        source = factory.make_source(role)
        for resource in source.selected_resources.values():
            resource.add_map(count)
        pipeline = factory.make_pipeline(role)
        factory.finish_pending(pipeline)
        pipeline.run(source)
    else:
        from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

        original = DuckDbSqlClient.execute_query
        merges = [0]

        @contextlib.contextmanager
        def execute_query(self, query, *args, **kwargs):
            text = query if isinstance(query, str) else query.decode()
            if text.lstrip().startswith(f'DELETE FROM "raw_{role}".'):
                merges[0] += 1
                if merges[0] == 2:
                    wait_for_kill()
            with original(self, query, *args, **kwargs) as cursor:
                yield cursor

        DuckDbSqlClient.execute_query = execute_query
        factory.run(role)
    sys.exit(3)  # never reached the kill point
    """
)


@pytest.mark.parametrize("phase", ["extract", "load"])
@pytest.mark.parametrize("role", factory.ROLES)
def test_a_killed_run_is_reconciled_by_the_next(
    role: str, phase: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    marker = tmp_path / "stopped"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, role, phase, str(marker)],
        env=os.environ.copy(),
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, f"the run ended ({child.returncode}) before {phase}"
            assert time.monotonic() < deadline, "the run never reached the kill point"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    expected = servable_counts(sandbox.world, role)
    # Killed mid-extract, nothing was committed; killed mid-load, a half-loaded package is
    # left behind for the next run to finish.
    assert factory.make_pipeline(role).has_pending_data == (phase == "load")
    if phase == "load":
        assert warehouse_counts(role) != expected

    factory.run(role)

    assert warehouse_counts(role) == expected
    assert not any(duplicate_keys(role).values()), duplicate_keys(role)
