"""Web drops source defaults: file layout, keys and batch sizes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stream:
    """One kind of daily drop file.

    Attributes:
        name: Raw table name.
        file_glob: Files of the stream, relative to the bucket URL.
        key: Unique id of a record (the merge key).
        required: Fields without which a line is quarantined rather than loaded.
        timestamp_fields: Fields that must parse as ISO-8601 timestamps.
        columns: Column types where dlt's inference is not enough (``_common.columns``);
            listed columns come first in the table, the rest follow as they come.
    """

    name: str
    file_glob: str
    key: str
    required: tuple[str, ...]
    timestamp_fields: tuple[str, ...]
    columns: dict[str, str] = field(default_factory=dict)


EVENTS = Stream(
    name="events",
    file_glob="events/**/*.jsonl",
    key="event_id",
    required=("event_id", "event_name", "event_ts"),
    timestamp_fields=("event_ts",),
    columns={
        "event_id": "text",
        "event_name": "text",
        "event_ts": "timestamp",
        "value": "money",
        "source_file": "text",
    },
)
CONSENT = Stream(
    name="consent",
    file_glob="consent/**/*.jsonl",
    key="consent_id",
    required=("consent_id", "event_ts"),
    timestamp_fields=("event_ts",),
    columns={"consent_id": "text", "event_ts": "timestamp", "source_file": "text"},
)
STREAMS: tuple[Stream, ...] = (EVENTS, CONSENT)

QUARANTINE_TABLE = "quarantine"

# Records per yielded batch.
BATCH_SIZE = 10_000
# Files listed per page by the filesystem resource.
FILES_PER_PAGE = 100

QUARANTINE_COLUMNS = {
    "stream": "text!",
    "file_name": "text!",
    "line_number": "bigint!",
    "raw_line": "text",
    "reason": "text",
}
