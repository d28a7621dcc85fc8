"""A throw-away PostgreSQL server for the portability leg (tests and CI).

Debian's server binaries (``/usr/lib/postgresql/<ver>/bin``) are on every machine of this
kind; ``initdb``/``pg_ctl`` refuse to run as root, so as root they run through
``runuser -u postgres`` on a data directory owned by ``postgres``. The server listens on
127.0.0.1 only, trusts local connections, and trades durability for speed (``fsync=off``):
it lives for one test session and is stopped with ``pg_ctl stop -m fast``.

The server's time zone is deliberately *not* UTC: a model whose result depends on the session
time zone then shows up as a difference between the DuckDB and Postgres builds.

Usage::

    with postgres_server(tmp_dir) as server:
        server.create_database("closedloop")
        dsn = server.dsn("closedloop")
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

POSTGRES_ROOT = Path("/usr/lib/postgresql")
SERVER_TIME_ZONE = "Europe/Prague"


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server binaries here, and they cannot be installed."""


def find_bin_dir() -> Path | None:
    """Return the newest ``/usr/lib/postgresql/<ver>/bin`` holding ``initdb``, if any."""
    if not POSTGRES_ROOT.is_dir():
        return None
    candidates = [p / "bin" for p in POSTGRES_ROOT.iterdir() if (p / "bin" / "initdb").exists()]
    if not candidates:
        return None
    return max(candidates, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


def ensure_bin_dir(install: bool = True) -> Path:
    """Return the server binary directory, installing Debian's ``postgresql`` if allowed.

    Args:
        install: Try ``apt-get install --no-upgrade postgresql`` (root only) when missing.

    Returns:
        The directory holding ``initdb`` and ``pg_ctl``.

    Raises:
        PostgresUnavailableError: No binaries and no way to install them.
    """
    found = find_bin_dir()
    if found is not None:
        return found
    if not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise PostgresUnavailableError(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin and apt-get is not "
            "usable here (install Debian's `postgresql` package to run the Postgres leg)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-q"],
        # --no-upgrade: installing upgraded unrelated postgresql-common packages (measured).
        ["apt-get", "install", "-y", "-q", "--no-upgrade", "postgresql"],
    ):
        subprocess.run(command, check=False, env=env, capture_output=True, timeout=600)
    found = find_bin_dir()
    if found is None:
        raise PostgresUnavailableError("apt-get install postgresql did not provide initdb")
    return found


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres_user() -> list[str]:
    """Command prefix that runs a server tool as ``postgres`` when we are root."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class PostgresServer:
    """A running throw-away server."""

    bin_dir: Path
    base_dir: Path
    port: int
    host: str = "127.0.0.1"
    user: str = "postgres"

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.base_dir / "data"

    def dsn(self, database: str = "postgres") -> str:
        """Return a ``postgresql://`` URL for ``database`` (dlt and psycopg2 accept it)."""
        # The empty password field matters: dlt's credential parser insists on one.
        return f"postgresql://{self.user}:@{self.host}:{self.port}/{database}"

    def env(self, database: str) -> dict[str, str]:
        """Return the ``PG_*`` variables the dbt profile's ``postgres`` target reads."""
        return {
            "PG_HOST": self.host,
            "PG_PORT": str(self.port),
            "PG_USER": self.user,
            "PG_PASSWORD": "",
            "PG_DATABASE": database,
        }

    def create_database(self, name: str) -> None:
        """Create database ``name`` (UTF-8, from template0)."""
        import psycopg2

        conn = psycopg2.connect(self.dsn("postgres"))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"create database \"{name}\" template template0 encoding 'UTF8'")
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop the server (fast shutdown: no waiting for clients)."""
        pg_ctl = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast"]
        subprocess.run(
            [*_as_postgres_user(), *pg_ctl, "-w", "stop"],
            check=False,
            capture_output=True,
            timeout=60,
        )


def start_server(base_dir: Path | None = None, port: int | None = None) -> PostgresServer:
    """Initialise and start a server in ``base_dir`` (a new temp dir by default).

    Args:
        base_dir: Empty directory for the cluster, its socket and its log.
        port: TCP port on 127.0.0.1; a free one when omitted.

    Returns:
        The running server. Call ``stop()`` when done.

    Raises:
        PostgresUnavailableError: No server binaries.
        RuntimeError: initdb or start failed (the server log is in the message).
    """
    bin_dir = ensure_bin_dir()
    base = Path(base_dir) if base_dir else Path(tempfile.mkdtemp(prefix="pgci."))
    base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(base, user="postgres")
    server = PostgresServer(bin_dir=bin_dir, base_dir=base, port=port or free_port())
    prefix = _as_postgres_user()
    # C.UTF-8: lower()/upper() fold non-ASCII letters (Č→č) as DuckDB does, and text sorts
    # by code point, as DuckDB's default collation does.
    initdb = [str(bin_dir / "initdb"), "-D", str(server.data_dir), "-U", server.user]
    initdb += ["--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
    result = subprocess.run([*prefix, *initdb], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"initdb failed: {result.stderr or result.stdout}")
    options = " ".join(
        [
            f"-p {server.port}",
            f"-k {base}",
            "-c listen_addresses=127.0.0.1",
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
            f"-c timezone={SERVER_TIME_ZONE}",
            "-c max_connections=50",
        ]
    )
    log = base / "log"
    start = [str(bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-l", str(log), "-w"]
    start += ["-o", options, "start"]
    result = subprocess.run([*prefix, *start], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        server_log = log.read_text(errors="replace") if log.exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {result.stderr}\n{server_log}")
    return server


@contextlib.contextmanager
def postgres_server(base_dir: Path | None = None) -> Iterator[PostgresServer]:
    """Run a throw-away server for the duration of the ``with`` block.

    A temp directory made here (no ``base_dir`` given) is removed afterwards.
    """
    server = start_server(base_dir)
    try:
        yield server
    finally:
        server.stop()
        if base_dir is None:
            shutil.rmtree(server.base_dir, ignore_errors=True)
