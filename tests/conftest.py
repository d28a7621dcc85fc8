"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.dbt.postgres import PostgresServer, PostgresUnavailableError, start_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL server for the session.

    Its directory is a fresh one under the system temp dir, not pytest's ``tmp_path``: pytest
    makes that tree private to root (0700), and the server runs as ``postgres``.
    """
    try:
        server = start_server()
    except PostgresUnavailableError as exc:
        # On CI the leg is part of what must pass; elsewhere say why it did not run.
        if os.environ.get("CI"):
            pytest.fail(f"Postgres leg cannot run on CI: {exc}")
        pytest.skip(f"Postgres leg skipped: {exc}")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.base_dir, ignore_errors=True)
