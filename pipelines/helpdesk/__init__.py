"""Zendesk helpdesk source: users, tickets, satisfaction ratings and NPS responses.

See ``README.md`` next to this file for the incremental strategy and configuration.
"""

# No `from __future__ import annotations` here: dlt finds a resource's incremental cursor
# by evaluating its parameter annotations at runtime, and string annotations hide it.

from collections.abc import Iterator, Sequence
from typing import Any

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

from .._common.columns import column_hints
from .._common.http import RetryPolicy, make_client
from .._common.phones import add_phone_columns, phone_column_hints
from . import settings
from .helpers import (
    IncrementalExportPaginator,
    Record,
    TimeExportPaginator,
    ticket_row,
    to_epoch_seconds,
)

__all__ = ["zendesk_helpdesk"]

Cursor = dlt.sources.incremental[str]


@dlt.source(name="helpdesk", max_table_nesting=0)
def zendesk_helpdesk(
    base_url: str = dlt.config.value,
    email: str = dlt.config.value,
    api_token: str = dlt.secrets.value,
    export_page_size: int = settings.EXPORT_PAGE_SIZE,
    page_size: int = settings.PAGE_SIZE,
    initial_updated_at: str = settings.INITIAL_UPDATED_AT,
    max_attempts: int = settings.MAX_ATTEMPTS,
    backoff_factor: float = settings.BACKOFF_FACTOR,
    max_retry_delay: float = settings.MAX_RETRY_DELAY,
    request_timeout: float = settings.REQUEST_TIMEOUT,
) -> Sequence[DltResource]:
    """Load Zendesk Support data into ``raw_helpdesk``.

    Users and tickets come from the incremental cursor exports, which also return deleted
    tickets (``status = 'deleted'``); satisfaction ratings from their cursor-paged list
    filtered by ``start_time``; NPS responses from the legacy time-based NPS export. Every
    resource keeps its ``updated_at`` cursor in dlt state and merges on ``id``.

    Args:
        base_url: ``https://<subdomain>.zendesk.com`` (``SOURCES__HELPDESK__BASE_URL``).
        email: Agent email of the API token (``SOURCES__HELPDESK__EMAIL``).
        api_token: API token (``SOURCES__HELPDESK__API_TOKEN``).
        export_page_size: Items per incremental export page (Zendesk max 1,000).
        page_size: Items per page of the other list endpoints (Zendesk max 100).
        initial_updated_at: Where the first run starts (ISO-8601).
        max_attempts: HTTP attempts per request (429, 5xx and connection errors retry).
        backoff_factor: Exponential backoff multiplier, seconds.
        max_retry_delay: Longest single wait, seconds (``Retry-After`` included).
        request_timeout: Timeout of one HTTP attempt, seconds.

    Returns:
        The resources ``users``, ``tickets``, ``satisfaction_ratings`` and ``nps_responses``.
    """
    retry = RetryPolicy(max_attempts, backoff_factor, max_retry_delay, request_timeout)
    # Zendesk API tokens authenticate as "<email>/token" with the token as password.
    auth = HttpBasicAuth(f"{email}/token", api_token)

    def client() -> RESTClient:
        return make_client(base_url, retry=retry, auth=auth)

    def export(
        path: str, items_key: str, start: str, include: str | None = None
    ) -> Iterator[tuple[list[Record], dict[str, Any]]]:
        params: dict[str, Any] = {
            "start_time": to_epoch_seconds(start),
            "per_page": export_page_size,
        }
        if include:
            params["include"] = include
        for page in client().paginate(
            path,
            params=params,
            paginator=IncrementalExportPaginator(),
            data_selector=items_key,
        ):
            yield list(page), page.response.json()

    def listing(path: str, items_key: str, start: str) -> Iterator[list[Record]]:
        for page in client().paginate(
            path,
            params={"start_time": to_epoch_seconds(start), "page[size]": page_size},
            paginator=JSONLinkPaginator(next_url_path="links.next"),
            data_selector=items_key,
        ):
            yield list(page)

    def cursor() -> Cursor:
        return dlt.sources.incremental("updated_at", initial_value=initial_updated_at)

    @dlt.resource(
        primary_key="id",
        write_disposition="merge",
        columns={**column_hints(settings.USER_COLUMNS), **phone_column_hints(["phone"])},
    )
    def users(updated_at: Cursor) -> Iterator[list[Record]]:
        for page, _ in export(
            "/api/v2/incremental/users/cursor.json", "users", updated_at.start_value
        ):
            yield page

    @dlt.resource(
        primary_key="id", write_disposition="merge", columns=column_hints(settings.TICKET_COLUMNS)
    )
    def tickets(updated_at: Cursor) -> Iterator[list[Record]]:
        for page, body in export(
            "/api/v2/incremental/tickets/cursor.json",
            "tickets",
            updated_at.start_value,
            include="metric_sets",
        ):
            metrics = {m.get("ticket_id"): m for m in body.get("metric_sets") or []}
            yield [ticket_row(t, metrics.get(t.get("id"))) for t in page]

    @dlt.resource(
        primary_key="id",
        write_disposition="merge",
        columns=column_hints(settings.SATISFACTION_COLUMNS),
    )
    def satisfaction_ratings(updated_at: Cursor) -> Iterator[list[Record]]:
        yield from listing(
            "/api/v2/satisfaction_ratings", "satisfaction_ratings", updated_at.start_value
        )

    @dlt.resource(
        primary_key="id", write_disposition="merge", columns=column_hints(settings.NPS_COLUMNS)
    )
    def nps_responses(updated_at: Cursor) -> Iterator[list[Record]]:
        # The legacy NPS API only offers a time-based incremental export.
        for page in client().paginate(
            "/api/v2/nps/incremental/responses.json",
            params={"start_time": to_epoch_seconds(updated_at.start_value)},
            paginator=TimeExportPaginator(),
            data_selector="responses",
        ):
            yield list(page)

    # Users carry no country; the fallback regions (our markets) read national numbers.
    return (
        users(cursor()).add_map(add_phone_columns(["phone"])),
        tickets(cursor()),
        satisfaction_ratings(cursor()),
        nps_responses(cursor()),
    )
