"""Direct DuckDB loads of the same data the dlt pipelines ingest: the yardsticks.

Two baselines per role:

- **files**: DuckDB reads the world's own files (``read_parquet`` for crm/esp/helpdesk,
  ``read_json`` for the web drops, ``sqlite3`` → pyarrow → DuckDB for the shop). This is the
  floor: no HTTP, no JSON, no per-record Python. The DuckDB ``sqlite`` extension would read the
  shop database natively, but it is downloaded on first use and this machine installs nothing
  from outside the package registries, so the shop goes through Python's ``sqlite3``.
- **http** (REST roles only): plain ``requests`` fetches exactly the pages the pipeline
  fetches (same endpoints, parameters and page sizes, taken from the pipelines' ``settings``
  modules), writes each response body to disk untouched and DuckDB ``read_json`` loads them.
  HTTP and JSON costs are the same as dlt's, so the gap to dlt is dlt's own overhead plus the
  sources' per-record Python (flattening, phone normalisation).
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import requests

SQLITE_FETCH_ROWS = 100_000

PARQUET_TABLES: dict[str, tuple[str, ...]] = {
    "crm": ("contacts", "companies", "deals", "owners", "campaigns", "associations"),
    "esp": ("profiles", "lists", "list_members", "campaigns", "flows", "metrics", "events"),
    "helpdesk": ("users", "tickets", "satisfaction_ratings", "nps_responses"),
}
WEB_STREAMS: tuple[str, ...] = ("events", "consent")
REST_ROLES: tuple[str, ...] = ("crm", "esp", "helpdesk")


def _sql_str(value: str | Path) -> str:
    """A SQL string literal (paths go into table functions, which take no parameters)."""
    return "'" + str(value).replace("'", "''") + "'"


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f'select count(*) from "{table}"').fetchall()[0][0])


# ------------------------------------------------------------------------------ files


def load_files(role: str, world: Path, db_path: Path) -> dict[str, Any]:
    """Load one role's files straight into a fresh DuckDB database.

    Args:
        role: ``crm``, ``shop``, ``esp``, ``helpdesk`` or ``web``.
        world: The world directory.
        db_path: DuckDB file to create.

    Returns:
        ``rows`` per table, ``seconds`` and a ``method`` note.
    """
    started = time.perf_counter()
    rows: dict[str, int] = {}
    with duckdb.connect(str(db_path)) as con:
        if role in PARQUET_TABLES:
            method = "read_parquet"
            for table in PARQUET_TABLES[role]:
                path = world / role / f"{table}.parquet"
                if not path.exists():
                    continue
                con.execute(
                    f'create table "{table}" as select * from read_parquet({_sql_str(path)})'
                )
                rows[table] = _count(con, table)
        elif role == "web":
            method = "read_json(format='newline_delimited', ignore_errors=true)"
            for stream in WEB_STREAMS:
                glob = world / "web" / stream / "**" / "*.jsonl"
                con.execute(
                    f'create table "{stream}" as select * from read_json({_sql_str(glob)}, '
                    "format='newline_delimited', ignore_errors=true, union_by_name=true, "
                    "hive_partitioning=false)"
                )
                rows[stream] = _count(con, stream)
        elif role == "shop":
            method = "sqlite3 → pyarrow → DuckDB (sqlite extension not installable offline)"
            rows = _load_sqlite(world / "shop" / "shop.sqlite", con)
        else:
            raise ValueError(f"unknown role {role!r}")
    return {"rows": rows, "seconds": time.perf_counter() - started, "method": method}


def _load_sqlite(path: Path, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Copy every table of a SQLite database into DuckDB via Arrow batches."""
    rows: dict[str, int] = {}
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in src.execute(
                "select name from sqlite_master where type = 'table' "
                "and name not like 'sqlite_%' order by name"
            )
        ]
        for table in tables:
            cursor = src.execute(f'select * from "{table}"')
            names = [d[0] for d in cursor.description]
            created = False
            while batch := cursor.fetchmany(SQLITE_FETCH_ROWS):
                columns = list(zip(*batch, strict=True))
                arrow = pa.table({n: pa.array(c) for n, c in zip(names, columns, strict=True)})
                con.register("sqlite_batch", arrow)
                if created:
                    con.execute(f'insert into "{table}" by name select * from sqlite_batch')
                else:
                    con.execute(f'create table "{table}" as select * from sqlite_batch')
                    created = True
                con.unregister("sqlite_batch")
            if created:
                rows[table] = _count(con, table)
    finally:
        src.close()
    return rows


# ------------------------------------------------------------------------------ http


@dataclass
class PageSink:
    """Appends response bodies to ``<root>/<table>.jsonl``, one body per line.

    One file per table rather than one per page: DuckDB's ``read_json`` over thousands of
    small files spends its time (and, with ``union_by_name``, memory) per file. A JSON body
    only holds newlines as insignificant whitespace, so flattening them keeps it intact.

    Attributes:
        root: Directory receiving one file per table.
        pages: Pages written per table.
        bytes: Body bytes written in total.
        largest: Size of the largest body, which bounds DuckDB's ``maximum_object_size``.
    """

    root: Path
    pages: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    largest: int = 0
    _files: dict[str, Any] = field(default_factory=dict, repr=False)

    def write(self, table: str, body: bytes) -> None:
        """Store one page of ``table``."""
        handle = self._files.get(table)
        if handle is None:
            self.root.mkdir(parents=True, exist_ok=True)
            handle = self._files[table] = (self.root / f"{table}.jsonl").open("wb")
        if b"\n" in body:
            body = body.replace(b"\r", b" ").replace(b"\n", b" ")
        handle.write(body)
        handle.write(b"\n")
        self.pages[table] = self.pages.get(table, 0) + 1
        self.bytes += len(body)
        self.largest = max(self.largest, len(body))

    def close(self) -> None:
        """Flush and close every file."""
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def path(self, table: str) -> Path:
        """The file holding ``table``'s pages."""
        return self.root / f"{table}.jsonl"


@dataclass(frozen=True)
class TableLoad:
    """How one table's pages become a DuckDB table.

    Attributes:
        items: Key of the records array in a page body.
        select: SQL over ``recs(r)`` (one record per row); default expands ``r`` into columns.
    """

    items: str
    select: str = "select unnest(r) from recs"


_ASSOCIATION_SELECT = (
    "select from_id, unnest(targets) as t from "
    "(select r['from'].id as from_id, r['to'] as targets from recs)"
)


class Fetcher:
    """Plain ``requests`` paging through one vendor's endpoints.

    Args:
        session: A session carrying the vendor's auth headers.
        base: The vendor's base URL.
        sink: Where bodies go; ``None`` discards them (warm-up).
        max_pages: Stop every stream after this many pages (warm-up); ``None`` reads all.
    """

    def __init__(
        self,
        session: requests.Session,
        base: str,
        sink: PageSink | None,
        max_pages: int | None = None,
    ) -> None:
        self.session = session
        self.base = base.rstrip("/")
        self.sink = sink
        self.max_pages = max_pages
        self.requests = 0

    def call(
        self, method: str, url: str, *, params: Any = None, json: Any = None
    ) -> requests.Response:
        response = self.session.request(method, url, params=params, json=json, timeout=120)
        self.requests += 1
        response.raise_for_status()
        return response

    def pages(
        self,
        path_or_url: str,
        params: dict[str, Any] | None,
        next_page: Callable[[dict[str, Any], dict[str, Any] | None], tuple[str, Any] | None],
    ) -> Iterator[tuple[requests.Response, dict[str, Any]]]:
        """Yield ``(response, parsed body)`` per page until ``next_page`` says stop.

        ``next_page(body, params)`` returns ``(url, params)`` of the following page.
        """
        url = path_or_url if path_or_url.startswith("http") else self.base + path_or_url
        n = 0
        while True:
            response = self.call("GET", url, params=params)
            # Parsing is needed anyway to find the next cursor, as in the pipelines.
            body = response.json()
            yield response, body
            n += 1
            if self.max_pages is not None and n >= self.max_pages:
                return
            following = next_page(body, params)
            if following is None:
                return
            url, params = following

    def store(self, table: str, response: requests.Response) -> None:
        """Write one page body if a sink is attached."""
        if self.sink is not None:
            self.sink.write(table, response.content)


# --- HubSpot ---------------------------------------------------------------------------


def _hubspot_next(url: str) -> Callable[[dict[str, Any], Any], tuple[str, Any] | None]:
    def step(body: dict[str, Any], params: Any) -> tuple[str, Any] | None:
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        return None if not after else (url, {**params, "after": after})

    return step


def fetch_crm(f: Fetcher) -> dict[str, TableLoad]:
    """The requests of a first ``hubspot_crm`` run (list endpoints, then associations)."""
    from pipelines.crm import settings as s

    loads: dict[str, TableLoad] = {}
    for name in ("contacts", "companies", "deals"):
        spec = s.OBJECTS[name]
        url = f"{f.base}/crm/v3/objects/{name}"
        for archived in ("false", "true"):
            params = {
                "limit": s.LIST_PAGE_SIZE,
                "properties": ",".join(spec.properties),
                "archived": archived,
            }
            for response, _ in f.pages(url, params, _hubspot_next(url)):
                f.store(name, response)
        loads[name] = TableLoad("results")
    url = f"{f.base}/crm/v3/owners"
    for archived in ("false", "true"):
        params = {"limit": s.LIST_PAGE_SIZE, "archived": archived}
        for response, _ in f.pages(url, params, _hubspot_next(url)):
            f.store("owners", response)
    loads["owners"] = TableLoad("results")
    url = f"{f.base}/marketing/v3/campaigns"
    params = {"limit": s.LIST_PAGE_SIZE, "properties": ",".join(s.CAMPAIGN_PROPERTIES)}
    for response, _ in f.pages(url, params, _hubspot_next(url)):
        f.store("campaigns", response)
    loads["campaigns"] = TableLoad("results")

    # Associations: list the live objects (modification date only) and the archived ones,
    # pool their ids into batches and batch-read each batch per target type, as the
    # associations resource does.
    by_source: dict[str, list[str]] = {}
    for from_type, to_type in s.ASSOCIATION_PAIRS:
        by_source.setdefault(from_type, []).append(to_type)
    for from_type, to_types in by_source.items():
        spec = s.OBJECTS[from_type]
        url = f"{f.base}/crm/v3/objects/{from_type}"
        listings = (
            {"limit": s.LIST_PAGE_SIZE, "properties": spec.modified_property, "archived": "false"},
            {"limit": s.LIST_PAGE_SIZE, "archived": "true"},
        )
        ids = (
            r["id"]
            for params in listings
            for _, body in f.pages(url, params, _hubspot_next(url))
            for r in body.get("results") or []
        )
        while batch := list(itertools.islice(ids, s.ASSOCIATION_BATCH_SIZE)):
            for to_type in to_types:
                table = f"associations_{from_type}_{to_type}"
                loads[table] = TableLoad("results", _ASSOCIATION_SELECT)
                response = f.call(
                    "POST",
                    f"{f.base}/crm/v4/associations/{from_type}/{to_type}/batch/read",
                    json={"inputs": [{"id": i} for i in batch]},
                )
                f.store(table, response)
    return loads


# --- Klaviyo ---------------------------------------------------------------------------


def _links_next(body: dict[str, Any], params: Any) -> tuple[str, Any] | None:
    nxt = (body.get("links") or {}).get("next")
    # The next link is a full URL carrying every parameter, as dlt's JSONLinkPaginator uses it.
    return None if not nxt else (nxt, None)


def fetch_esp(f: Fetcher) -> dict[str, TableLoad]:
    """The requests of a first ``klaviyo_esp`` run."""
    from pipelines.esp import settings as s
    from pipelines.esp.helpers import klaviyo_time

    start = klaviyo_time(s.INITIAL_TIMESTAMP, minus_seconds=s.FILTER_OVERLAP_SECONDS)
    streams: list[tuple[str, str, dict[str, Any] | None]] = [
        (
            "profiles",
            "/api/profiles",
            {
                "filter": f"greater-than(updated,{start})",
                "sort": "updated",
                "page[size]": s.PROFILES_PAGE_SIZE,
                "additional-fields[profile]": "subscriptions",
            },
        ),
        (
            "events",
            "/api/events",
            {
                "filter": f"greater-or-equal(datetime,{klaviyo_time(s.INITIAL_TIMESTAMP)})",
                "sort": "datetime",
                "page[size]": s.EVENTS_PAGE_SIZE,
            },
        ),
        ("metrics", "/api/metrics", None),
        ("lists", "/api/lists", {"filter": f"greater-than(updated,{start})", "sort": "updated"}),
        (
            "campaigns",
            "/api/campaigns",
            {
                "filter": f"equals(messages.channel,'email'),greater-than(updated_at,{start})",
            },
        ),
        (
            "flows",
            "/api/flows",
            {"filter": f"greater-than(updated,{start})", "page[size]": s.FLOWS_PAGE_SIZE},
        ),
    ]
    loads: dict[str, TableLoad] = {}
    for table, path, params in streams:
        for response, _ in f.pages(path, params, _links_next):
            f.store(table, response)
        loads[table] = TableLoad("data")
    # List members: every list's profiles, as the pipeline reads them.
    list_ids = [
        x["id"] for _, body in f.pages("/api/lists", None, _links_next) for x in body["data"]
    ]
    for list_id in list_ids:
        params = {
            "filter": f"greater-or-equal(joined_group_at,{start})",
            "page[size]": s.LIST_MEMBERS_PAGE_SIZE,
        }
        for response, _ in f.pages(f"/api/lists/{list_id}/profiles", params, _links_next):
            f.store("list_members", response)
    loads["list_members"] = TableLoad("data")
    return loads


# --- Zendesk ---------------------------------------------------------------------------


def _export_next(url: str) -> Callable[[dict[str, Any], Any], tuple[str, Any] | None]:
    def step(body: dict[str, Any], params: Any) -> tuple[str, Any] | None:
        if body.get("end_of_stream", True) or not body.get("after_cursor"):
            return None
        following = {k: v for k, v in params.items() if k != "start_time"}
        following["cursor"] = body["after_cursor"]
        return url, following

    return step


def _time_export_next(url: str) -> Callable[[dict[str, Any], Any], tuple[str, Any] | None]:
    def step(body: dict[str, Any], params: Any) -> tuple[str, Any] | None:
        if body.get("end_of_stream", True) or body.get("end_time") is None:
            return None
        return url, {**params, "start_time": str(body["end_time"])}

    return step


def fetch_helpdesk(f: Fetcher) -> dict[str, TableLoad]:
    """The requests of a first ``zendesk_helpdesk`` run."""
    from pipelines.helpdesk import settings as s
    from pipelines.helpdesk.helpers import to_epoch_seconds

    start = to_epoch_seconds(s.INITIAL_UPDATED_AT)
    loads: dict[str, TableLoad] = {}
    for table, include in (("users", None), ("tickets", "metric_sets")):
        url = f"{f.base}/api/v2/incremental/{table}/cursor.json"
        params: dict[str, Any] = {"start_time": start, "per_page": s.EXPORT_PAGE_SIZE}
        if include:
            params["include"] = include
        for response, _ in f.pages(url, params, _export_next(url)):
            f.store(table, response)
        loads[table] = TableLoad(table)
    params = {"start_time": start, "page[size]": s.PAGE_SIZE}
    for response, _ in f.pages("/api/v2/satisfaction_ratings", params, _links_next):
        f.store("satisfaction_ratings", response)
    loads["satisfaction_ratings"] = TableLoad("satisfaction_ratings")
    # The legacy NPS API has only a time-based export: the next page starts at end_time.
    url = f"{f.base}/api/v2/nps/incremental/responses.json"
    for response, _ in f.pages(url, {"start_time": start}, _time_export_next(url)):
        f.store("nps_responses", response)
    loads["nps_responses"] = TableLoad("responses")
    return loads


FETCHERS: dict[str, Callable[[Fetcher], dict[str, TableLoad]]] = {
    "crm": fetch_crm,
    "esp": fetch_esp,
    "helpdesk": fetch_helpdesk,
}


def vendor_session(role: str, env: dict[str, str]) -> tuple[requests.Session, str]:
    """A session authenticated as the pipeline of ``role`` is, and the vendor base URL.

    Args:
        role: A REST role.
        env: The ``SOURCES__...`` variables (from ``sandbox_source_env``).

    Returns:
        The session and the base URL.
    """
    session = requests.Session()
    key = role.upper()
    base = env[f"SOURCES__{key}__BASE_URL"]
    if role == "crm":
        session.headers["Authorization"] = f"Bearer {env['SOURCES__CRM__ACCESS_TOKEN']}"
    elif role == "esp":
        from pipelines.esp import settings as s

        session.headers["Authorization"] = f"Klaviyo-API-Key {env['SOURCES__ESP__API_KEY']}"
        session.headers["revision"] = s.DEFAULT_REVISION
        session.headers["accept"] = "application/vnd.api+json"
    elif role == "helpdesk":
        session.auth = (
            f"{env['SOURCES__HELPDESK__EMAIL']}/token",
            env["SOURCES__HELPDESK__API_TOKEN"],
        )
    else:
        raise ValueError(f"{role!r} is not a REST role")
    return session, base


def fetch_pages(
    role: str, env: dict[str, str], out: Path | None, max_pages: int | None = None
) -> tuple[dict[str, TableLoad], PageSink | None, int]:
    """Fetch every page the pipeline of ``role`` would, writing bodies under ``out``.

    Args:
        role: A REST role.
        env: The ``SOURCES__...`` variables.
        out: Folder for the bodies; ``None`` discards them.
        max_pages: Per-stream page budget (warm-up); ``None`` for all.

    Returns:
        How to load each table, the sink (or ``None``) and the number of requests made.
    """
    session, base = vendor_session(role, env)
    sink = PageSink(out) if out is not None else None
    fetcher = Fetcher(session, base, sink, max_pages)
    try:
        with session:
            loads = FETCHERS[role](fetcher)
    finally:
        if sink is not None:
            sink.close()
    return loads, sink, fetcher.requests


def load_pages(loads: dict[str, TableLoad], sink: PageSink, db_path: Path) -> dict[str, int]:
    """``read_json`` every table's stored pages into a fresh DuckDB database.

    Args:
        loads: How to load each table (from :func:`fetch_pages`).
        sink: The sink the pages were written to.
        db_path: DuckDB file to create.

    Returns:
        Rows per table.
    """
    rows: dict[str, int] = {}
    # Room for the largest page, with margin; a fixed huge value makes DuckDB reserve it.
    max_object = max(16 * 2**20, 2 * sink.largest)
    with duckdb.connect(str(db_path)) as con:
        for table, how in loads.items():
            if not sink.pages.get(table):
                continue
            con.execute(
                f'create table "{table}" as with recs as ('
                f'select unnest("{how.items}") as r from read_json({_sql_str(sink.path(table))}, '
                f"format='newline_delimited', maximum_object_size={max_object})) {how.select}"
            )
            rows[table] = _count(con, table)
    return rows


def http_baseline(role: str, env: dict[str, str], scratch: Path, db_path: Path) -> dict[str, Any]:
    """Fetch a REST role's pages with ``requests``, store them, ``read_json`` them.

    Args:
        role: A REST role.
        env: The ``SOURCES__...`` variables.
        scratch: Folder for the page bodies.
        db_path: DuckDB file to create.

    Returns:
        ``rows`` per table, ``seconds`` (total), ``fetch_seconds``, ``load_seconds``,
        ``requests``, ``pages`` and ``body_mb``.
    """
    started = time.perf_counter()
    loads, sink, n_requests = fetch_pages(role, env, scratch)
    fetched = time.perf_counter()
    assert sink is not None
    rows = load_pages(loads, sink, db_path)
    done = time.perf_counter()
    return {
        "rows": rows,
        "seconds": done - started,
        "fetch_seconds": fetched - started,
        "load_seconds": done - fetched,
        "requests": n_requests,
        "pages": sum(sink.pages.values()),
        "body_mb": sink.bytes / 2**20,
        "method": "requests → page bodies on disk → read_json",
    }
