"""Klaviyo JSON:API access: filters, paging and flattening of resources into rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

from .._common.timestamps import as_utc
from .settings import EVENT_PROPERTY_COLUMNS

Record = dict[str, Any]

_LOCATION_FIELDS = (
    "address1",
    "address2",
    "city",
    "country",
    "region",
    "zip",
    "timezone",
    "latitude",
    "longitude",
    "ip",
)


def klaviyo_time(value: Any, *, minus_seconds: float = 0) -> str:
    """Format a cursor value for a Klaviyo filter (``2024-01-01T00:00:00+00:00``).

    Args:
        value: ISO-8601 string or datetime.
        minus_seconds: Shift back by this many seconds (to overlap the previous run).

    Returns:
        The timestamp in UTC with whole seconds (Klaviyo's filter precision).
    """
    dt = as_utc(value) - timedelta(seconds=minus_seconds)
    return dt.replace(microsecond=0).isoformat()


def iter_pages(
    client: RESTClient, path: str, params: dict[str, Any] | None = None
) -> Iterator[list[Record]]:
    """Follow ``links.next`` (a full URL carrying ``page[cursor]``) through a collection.

    Args:
        client: Client at the Klaviyo base URL.
        path: Endpoint path, e.g. ``/api/profiles``.
        params: Query parameters of the first request (later pages use the next URL).

    Yields:
        The ``data`` array of each page.
    """
    for page in client.paginate(
        path,
        params=params,
        paginator=JSONLinkPaginator(next_url_path="links.next"),
        data_selector="data",
    ):
        yield list(page)


def _scalar_attributes(resource: Record, skip: tuple[str, ...] = ()) -> Record:
    row: Record = {"id": resource["id"]}
    for key, value in (resource.get("attributes") or {}).items():
        if key in skip:
            continue
        row[key] = value
    return row


def _related_id(resource: Record, name: str) -> Any:
    data = ((resource.get("relationships") or {}).get(name) or {}).get("data")
    return data.get("id") if isinstance(data, dict) else None


def profile_row(resource: Record) -> Record:
    """Flatten a profile: ``location`` fields become columns, subscriptions become consent.

    Args:
        resource: A JSON:API profile (fetched with ``additional-fields[profile]=subscriptions``).

    Returns:
        The row, with ``email_consent``/``sms_consent`` (``SUBSCRIBED`` …) and their
        timestamps; ``properties`` (custom properties) stays a JSON column.
    """
    row = _scalar_attributes(resource, skip=("location", "subscriptions", "joined_group_at"))
    location = (resource.get("attributes") or {}).get("location") or {}
    for field in _LOCATION_FIELDS:
        row[field] = location.get(field)
    subscriptions = (resource.get("attributes") or {}).get("subscriptions") or {}
    for channel in ("email", "sms"):
        marketing = (subscriptions.get(channel) or {}).get("marketing") or {}
        row[f"{channel}_consent"] = marketing.get("consent")
        row[f"{channel}_consent_timestamp"] = marketing.get("consent_timestamp")
        row[f"{channel}_can_receive_marketing"] = marketing.get(f"can_receive_{channel}_marketing")
    return row


def event_row(resource: Record) -> Record:
    """Flatten an event: related profile and metric ids, well-known properties as columns.

    Args:
        resource: A JSON:API event.

    Returns:
        The row; the complete ``event_properties`` are kept as a JSON column as well.
    """
    attributes = resource.get("attributes") or {}
    properties = attributes.get("event_properties") or {}
    row: Record = {
        "id": resource["id"],
        "profile_id": _related_id(resource, "profile"),
        "metric_id": _related_id(resource, "metric"),
        "datetime": attributes.get("datetime"),
        "timestamp": attributes.get("timestamp"),
        "uuid": attributes.get("uuid"),
    }
    for name, column in EVENT_PROPERTY_COLUMNS.items():
        row[column] = properties.get(name)
    row["event_properties"] = properties
    return row


def metric_row(resource: Record) -> Record:
    """Flatten a metric; the integration becomes ``integration_*`` columns."""
    row = _scalar_attributes(resource, skip=("integration",))
    integration = (resource.get("attributes") or {}).get("integration") or {}
    row["integration_name"] = integration.get("name")
    row["integration_key"] = integration.get("key")
    row["integration_category"] = integration.get("category")
    return row


def simple_row(resource: Record) -> Record:
    """Flatten a resource whose attributes are (mostly) scalars: lists, flows."""
    return _scalar_attributes(resource)


def campaign_row(resource: Record, channel: str) -> Record:
    """Flatten a campaign; nested option objects stay JSON, the channel is recorded."""
    row = _scalar_attributes(resource)
    row["channel"] = channel
    return row
