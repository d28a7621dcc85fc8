"""Reading the vendors' timestamps: ISO-8601 text or datetimes, always as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def as_utc(value: Any) -> datetime:
    """Parse an ISO-8601 string (``Z`` or an offset) or take a datetime, as aware UTC.

    Naive values are taken as UTC: every cursor this project stores is UTC.

    Args:
        value: ISO-8601 text or a ``datetime``.

    Returns:
        The same instant as an aware datetime in UTC.
    """
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)
