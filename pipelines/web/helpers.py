"""Line-by-line JSONL parsing with quarantine of malformed lines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from dlt.common.json import json

from .settings import Stream

Record = dict[str, Any]


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def check_record(line: bytes, stream: Stream) -> tuple[Record | None, str | None]:
    """Parse one line of a drop file.

    Args:
        line: The raw line, newline stripped.
        stream: The stream the file belongs to (which fields are required).

    Returns:
        ``(record, None)`` for a good line, ``(None, reason)`` for a malformed one.
    """
    try:
        record = json.loadb(line)
    except Exception as exc:
        return None, f"invalid JSON: {str(exc).splitlines()[0][:200]}"
    if not isinstance(record, dict):
        return None, f"not a JSON object: {type(record).__name__}"
    for field in stream.required:
        value = record.get(field)
        if value is None or value == "":
            return None, f"missing required field {field!r}"
    key = record[stream.key]
    if not isinstance(key, str | int):
        return None, f"field {stream.key!r} is not a string"
    for field in stream.timestamp_fields:
        value = record.get(field)
        if value is not None and not _is_timestamp(value):
            return None, f"field {field!r} is not an ISO-8601 timestamp: {str(value)[:50]!r}"
    return record, None


def parse_lines(
    lines: Iterable[bytes], stream: Stream, file_name: str
) -> Iterator[tuple[Record, bool]]:
    """Split a drop file into good records and quarantine rows.

    Every physical line is accounted for: blank lines (bar a trailing one) and lines that are
    not valid records become quarantine rows, so nothing is dropped silently.

    Args:
        lines: The file's lines as bytes (with or without line endings).
        stream: The stream the file belongs to.
        file_name: Path of the file relative to the bucket, stored with every row.

    Yields:
        ``(row, is_good)``: a record for the stream's table, or a quarantine row.
    """
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            reason: str | None = "empty line"
            record = None
        else:
            record, reason = check_record(line, stream)
        if record is not None:
            record["source_file"] = file_name
            yield record, True
            continue
        yield (
            {
                "stream": stream.name,
                "file_name": file_name,
                "line_number": number,
                "raw_line": line.decode("utf-8", errors="replace"),
                "reason": reason,
            },
            False,
        )
