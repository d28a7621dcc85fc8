"""Connection handling for the e-shop database source."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine


def to_sqlalchemy_url(credentials: str) -> str:
    """Accept a SQLAlchemy URL as is, and turn a plain file path into a SQLite URL.

    Args:
        credentials: ``dialect://...`` URL, or the path of a SQLite database file.

    Returns:
        A SQLAlchemy URL; relative SQLite paths are made absolute so that the working
        directory of the process does not matter.
    """
    text = str(credentials).strip()
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().absolute()}"


def utc_timestamps(sql_type: TypeEngine[object]) -> TypeEngine[object]:
    """Reflect timestamp columns as time-zone aware, so they land as UTC instants.

    The shop stores UTC wall-clock times (SQLite has no time zone type); without this they
    would land as ``TIMESTAMP`` while every other raw table has ``TIMESTAMP WITH TIME ZONE``.

    Args:
        sql_type: A reflected column type.

    Returns:
        ``DateTime(timezone=True)`` for timestamp columns, the reflected type for the rest
        (``None`` would make dlt infer the type from the data and lose decimal precision).
    """
    if isinstance(sql_type, sa.DateTime) and not sql_type.timezone:
        return sa.DateTime(timezone=True)
    return sql_type
