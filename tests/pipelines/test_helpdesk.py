"""Zendesk specifics: export pagination terminates, deleted tickets, ticket metrics."""

from __future__ import annotations

import itertools
import json

import duckdb
import requests

from pipelines import factory
from pipelines._common.http import RetryPolicy, make_client
from pipelines.helpdesk.helpers import IncrementalExportPaginator, TimeExportPaginator
from sandbox.world import advance

from .conftest import Sandbox
from .support import as_of, query


def _response(body: dict[str, object]) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(body).encode()
    return response


def test_export_paginator_stops_at_end_of_stream_despite_a_cursor() -> None:
    # Zendesk hands out an after_cursor on the last page too: only end_of_stream ends it.
    paginator = IncrementalExportPaginator()
    paginator.update_state(_response({"after_cursor": "abc", "end_of_stream": False}))
    assert paginator.has_next_page
    paginator.update_state(_response({"after_cursor": "def", "end_of_stream": True}))
    assert not paginator.has_next_page


def test_time_export_paginator_continues_from_end_time() -> None:
    paginator = TimeExportPaginator()
    paginator.update_state(_response({"end_time": 1700000000, "end_of_stream": False}))
    request = requests.Request("GET", "http://x", params={"start_time": 0})
    paginator.update_request(request)
    assert request.params == {"start_time": "1700000000"}
    paginator.update_state(_response({"end_time": 1700000500, "end_of_stream": True}))
    assert not paginator.has_next_page


def test_cursor_export_pagination_terminates_against_the_sandbox(sandbox: Sandbox) -> None:
    client = make_client(
        f"{sandbox.emulator.url}/zendesk",
        retry=RetryPolicy(),
        auth=("sandbox@closedloop.test/token", "sandbox-helpdesk-token"),
    )
    per_page = 17
    pages = list(
        # a bound far above the real page count: an endless pagination fails, not hangs
        itertools.islice(
            client.paginate(
                "/api/v2/incremental/tickets/cursor.json",
                params={"start_time": 0, "per_page": per_page},
                paginator=IncrementalExportPaginator(),
                data_selector="tickets",
            ),
            10_000,
        )
    )
    served = sum(len(p) for p in pages)
    assert served > per_page
    assert len(pages) == -(-served // per_page)  # ceil: no extra empty page is requested
    assert len({t["id"] for p in pages for t in p}) == served


def test_deleted_tickets_land_with_status_deleted(sandbox: Sandbox) -> None:
    factory.run("helpdesk")
    advance(sandbox.world, 30)
    factory.run("helpdesk")

    hidden_after = as_of(sandbox.world).isoformat()
    with duckdb.connect() as con:
        deleted = {
            r[0]
            for r in con.execute(
                f"select id from '{sandbox.world}/helpdesk/tickets.parquet'"
                " where status = 'deleted'"
                f" and updated_at <= timestamptz '{hidden_after}' - interval 1 minute"
            ).fetchall()
        }
    assert deleted, "the advance should delete some tickets"
    raw = {r[0] for r in query("select id from raw_helpdesk.tickets where status = 'deleted'")}
    assert raw == deleted


def test_reply_and_solve_times_come_from_ticket_metrics(sandbox: Sandbox) -> None:
    factory.run("helpdesk")

    with duckdb.connect() as con:
        con.execute(f"attach '{factory.warehouse_path()}' as wh (read_only)")
        mismatches = con.execute(
            f"""
            select count(*) from '{sandbox.world}/helpdesk/tickets.parquet' w
            join wh.raw_helpdesk.tickets r using (id)
            where r.status <> 'deleted' and (
                date_trunc('second', w.solved_at) is distinct from r.solved_at
                -- Zendesk has whole seconds: created_at and the reply time are both
                -- truncated, so their sum may land up to two seconds early
                or (w.first_reply_at is null) <> (r.first_reply_at is null)
                or epoch(w.first_reply_at) - epoch(r.first_reply_at) not between 0 and 2
            )
            """
        ).fetchone()
        solved = con.execute(
            "select count(*) from wh.raw_helpdesk.tickets where solved_at is not null"
        ).fetchone()
    assert mismatches == (0,)
    assert solved is not None
    assert solved[0] > 0
