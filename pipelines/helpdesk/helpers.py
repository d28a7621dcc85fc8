"""Zendesk API access: the incremental export paginator, time conversion, row shaping."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dlt.sources.helpers.rest_client.paginators import BaseReferencePaginator
from requests import Request, Response

from .._common.timestamps import as_utc

Record = dict[str, Any]


class IncrementalExportPaginator(BaseReferencePaginator):
    """Pages of a Zendesk incremental cursor export (``/api/v2/incremental/*/cursor.json``).

    The first request carries ``start_time``; every later one carries only ``cursor``
    (``after_cursor`` of the previous page). Zendesk keeps returning an ``after_cursor`` on
    the last page too, so the end is signalled by ``end_of_stream: true`` alone; a generic
    cursor paginator would ask for the next page forever.
    """

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        """Remember ``after_cursor`` unless the export says the stream has ended."""
        body = response.json()
        if body.get("end_of_stream", True):
            self._next_reference = None
        else:
            self._next_reference = body.get("after_cursor") or None

    def update_request(self, request: Request) -> None:
        """Swap ``start_time`` for the cursor of the next page."""
        params = dict(request.params or {})
        params.pop("start_time", None)
        params["cursor"] = self._next_reference
        request.params = params


class TimeExportPaginator(BaseReferencePaginator):
    """Pages of a Zendesk time-based incremental export (e.g. legacy NPS responses).

    Each page reports ``end_time``; the next page starts there (Zendesk repeats the items of
    that second, which the merge on ``id`` absorbs). ``end_of_stream: true`` ends the export.
    """

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        """Remember ``end_time`` unless the export says the stream has ended."""
        body = response.json()
        end_time = body.get("end_time")
        if body.get("end_of_stream", True) or end_time is None:
            self._next_reference = None
        else:
            self._next_reference = str(end_time)

    def update_request(self, request: Request) -> None:
        """Start the next page at the previous page's ``end_time``."""
        params = dict(request.params or {})
        params["start_time"] = self._next_reference
        request.params = params


def to_epoch_seconds(value: Any) -> int:
    """Zendesk's ``start_time``: epoch seconds of an ISO-8601 timestamp (or datetime)."""
    return int(as_utc(value).timestamp())


def _parse_time(value: Any) -> datetime | None:
    return as_utc(value) if value else None


def ticket_row(ticket: Record, metric_set: Record | None) -> Record:
    """A ticket with its channel and first-reply / solve times as columns.

    Zendesk nests the channel in ``via`` and keeps reply and solve times in the ticket's
    metric set (the ``metric_sets`` sideload); both are lifted into the row, and the whole
    metric set is kept as a JSON column. Deleted tickets have no metric set.

    Args:
        ticket: One element of the export's ``tickets`` array.
        metric_set: The ticket's element of the ``metric_sets`` sideload, if any.

    Returns:
        The row: the ticket's fields plus ``channel``, ``first_reply_at``, ``solved_at``,
        ``reply_time_in_minutes`` and ``metric_set``.
    """
    row = dict(ticket)
    via = row.get("via")
    if isinstance(via, dict) and not row.get("channel"):
        row["channel"] = via.get("channel")
    # Zendesk embeds the latest satisfaction rating; the ratings endpoint is the source of truth.
    row.pop("satisfaction_rating", None)
    metrics = metric_set or {}
    reply_seconds = (metrics.get("reply_time_in_seconds") or {}).get("calendar")
    created = _parse_time(row.get("created_at"))
    row["first_reply_at"] = (
        (created + timedelta(seconds=reply_seconds)).isoformat()
        if created is not None and reply_seconds is not None
        else None
    )
    row["solved_at"] = metrics.get("solved_at")
    row["reply_time_in_minutes"] = (metrics.get("reply_time_in_minutes") or {}).get("calendar")
    row["metric_set"] = metric_set
    return row
