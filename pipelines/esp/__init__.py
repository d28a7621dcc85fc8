"""Klaviyo ESP source: profiles (with consent), events, metrics, lists and members, campaigns, flows.

See ``README.md`` next to this file for the incremental strategy and configuration.
"""

# No `from __future__ import annotations` here: dlt finds a resource's incremental cursor
# by evaluating its parameter annotations at runtime, and string annotations hide it.

from collections.abc import Iterator, Sequence
from typing import Any

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import APIKeyAuth

from .._common.columns import column_hints
from .._common.http import RetryPolicy, make_client
from .._common.phones import add_phone_columns, country_field, phone_column_hints
from . import settings
from .helpers import (
    Record,
    campaign_row,
    event_row,
    iter_pages,
    klaviyo_time,
    metric_row,
    profile_row,
    simple_row,
)

__all__ = ["klaviyo_esp"]

Cursor = dlt.sources.incremental[str]


@dlt.source(name="esp", max_table_nesting=0)
def klaviyo_esp(
    api_key: str = dlt.secrets.value,
    base_url: str = settings.DEFAULT_BASE_URL,
    revision: str = settings.DEFAULT_REVISION,
    profiles_page_size: int = settings.PROFILES_PAGE_SIZE,
    events_page_size: int = settings.EVENTS_PAGE_SIZE,
    list_members_page_size: int = settings.LIST_MEMBERS_PAGE_SIZE,
    events_lag_days: float = settings.EVENTS_LAG_DAYS,
    initial_timestamp: str = settings.INITIAL_TIMESTAMP,
    max_attempts: int = settings.MAX_ATTEMPTS,
    backoff_factor: float = settings.BACKOFF_FACTOR,
    max_retry_delay: float = settings.MAX_RETRY_DELAY,
    request_timeout: float = settings.REQUEST_TIMEOUT,
) -> Sequence[DltResource]:
    """Load Klaviyo data into ``raw_esp``.

    Every resource keeps its cursor in dlt state and asks Klaviyo only for what changed
    (``filter=greater-than(<time field>, <cursor>)``); events also re-read the last
    ``events_lag_days`` days, because events arrive late with their original time.

    Args:
        api_key: Private API key (``SOURCES__ESP__API_KEY``).
        base_url: API root; ``https://a.klaviyo.com`` for the real Klaviyo.
        revision: API revision sent in the ``revision`` header.
        profiles_page_size: Profiles per page (Klaviyo max 100).
        events_page_size: Events per page (Klaviyo max 1,000).
        list_members_page_size: List members per page (Klaviyo max 100).
        events_lag_days: Days re-read before the last event time seen.
        initial_timestamp: Where the first run starts (ISO-8601).
        max_attempts: HTTP attempts per request (429, 5xx and connection errors retry).
        backoff_factor: Exponential backoff multiplier, seconds.
        max_retry_delay: Longest single wait, seconds (``Retry-After`` included).
        request_timeout: Timeout of one HTTP attempt, seconds.

    Returns:
        The resources ``profiles``, ``events``, ``metrics``, ``lists``, ``list_members``,
        ``campaigns`` and ``flows``.
    """
    retry = RetryPolicy(max_attempts, backoff_factor, max_retry_delay, request_timeout)
    headers = {"revision": revision, "accept": "application/vnd.api+json"}
    auth = APIKeyAuth(name="Authorization", api_key=f"Klaviyo-API-Key {api_key}", location="header")

    def client() -> RESTClient:
        return make_client(base_url, retry=retry, headers=headers, auth=auth)

    def since(field: str, cursor: Cursor) -> str:
        value = klaviyo_time(cursor.start_value, minus_seconds=settings.FILTER_OVERLAP_SECONDS)
        return f"greater-than({field},{value})"

    def cursor(field: str, **kwargs: Any) -> Cursor:
        return dlt.sources.incremental(field, initial_value=initial_timestamp, **kwargs)

    @dlt.resource(
        primary_key="id",
        write_disposition="merge",
        columns={**column_hints(settings.PROFILE_COLUMNS), **phone_column_hints(["phone_number"])},
    )
    def profiles(updated: Cursor) -> Iterator[list[Record]]:
        params = {
            "filter": since("updated", updated),
            "sort": "updated",
            "page[size]": profiles_page_size,
            "additional-fields[profile]": "subscriptions",
        }
        for page in iter_pages(client(), "/api/profiles", params):
            yield [profile_row(p) for p in page]

    @dlt.resource(
        primary_key="id", write_disposition="merge", columns=column_hints(settings.EVENT_COLUMNS)
    )
    def events(event_time: Cursor) -> Iterator[list[Record]]:
        # start_value already includes the lag; the filter itself is inclusive.
        params = {
            "filter": f"greater-or-equal(datetime,{klaviyo_time(event_time.start_value)})",
            "sort": "datetime",
            "page[size]": events_page_size,
        }
        for page in iter_pages(client(), "/api/events", params):
            yield [event_row(e) for e in page]

    @dlt.resource(
        primary_key="id", write_disposition="merge", columns=column_hints(settings.METRIC_COLUMNS)
    )
    def metrics(updated: Cursor) -> Iterator[list[Record]]:
        # Metrics cannot be filtered by time: a handful of rows, filtered after reading.
        for page in iter_pages(client(), "/api/metrics"):
            yield [metric_row(m) for m in page]

    @dlt.resource(
        primary_key="id", write_disposition="merge", columns=column_hints(settings.LIST_COLUMNS)
    )
    def lists(updated: Cursor) -> Iterator[list[Record]]:
        params = {"filter": since("updated", updated), "sort": "updated"}
        for page in iter_pages(client(), "/api/lists", params):
            yield [simple_row(x) for x in page]

    @dlt.resource(
        primary_key=("list_id", "profile_id"),
        write_disposition="merge",
        columns=column_hints(settings.LIST_MEMBER_COLUMNS),
    )
    def list_members() -> Iterator[list[Record]]:
        """Members of every list, each list read from its own ``joined_group_at`` cursor."""
        http = client()
        state = dlt.current.resource_state().setdefault("joined_since", {})
        list_ids = [x["id"] for page in iter_pages(http, "/api/lists") for x in page]
        for list_id in list_ids:
            start = state.get(list_id, initial_timestamp)
            newest = klaviyo_time(start)
            params = {
                "filter": "greater-or-equal(joined_group_at,"
                f"{klaviyo_time(start, minus_seconds=settings.FILTER_OVERLAP_SECONDS)})",
                "page[size]": list_members_page_size,
            }
            for page in iter_pages(http, f"/api/lists/{list_id}/profiles", params):
                rows = []
                for member in page:
                    joined = (member.get("attributes") or {}).get("joined_group_at")
                    rows.append(
                        {"list_id": list_id, "profile_id": member["id"], "joined_at": joined}
                    )
                    # normalised UTC strings of one format compare like the times they are
                    if joined and (joined_utc := klaviyo_time(joined)) > newest:
                        newest = joined_utc
                yield rows
            state[list_id] = newest

    @dlt.resource(
        primary_key="id", write_disposition="merge", columns=column_hints(settings.CAMPAIGN_COLUMNS)
    )
    def campaigns(updated_at: Cursor) -> Iterator[list[Record]]:
        for channel in settings.CAMPAIGN_CHANNELS:
            # Klaviyo refuses to list campaigns without a channel filter.
            params = {
                "filter": f"equals(messages.channel,'{channel}'),{since('updated_at', updated_at)}"
            }
            for page in iter_pages(client(), "/api/campaigns", params):
                yield [campaign_row(c, channel) for c in page]

    @dlt.resource(
        primary_key="id", write_disposition="merge", columns=column_hints(settings.FLOW_COLUMNS)
    )
    def flows(updated: Cursor) -> Iterator[list[Record]]:
        params = {"filter": since("updated", updated), "page[size]": settings.FLOWS_PAGE_SIZE}
        for page in iter_pages(client(), "/api/flows", params):
            yield [simple_row(f) for f in page]

    # Cursors are bound here rather than as argument defaults: one fresh instance per source.
    return (
        profiles(cursor("updated")).add_map(
            add_phone_columns(["phone_number"], country_field("country"))
        ),
        events(cursor("datetime", lag=events_lag_days * 86_400)),
        metrics(cursor("updated")),
        lists(cursor("updated")),
        list_members(),
        campaigns(cursor("updated_at")),
        flows(cursor("updated")),
    )
