"""Web drops source: daily JSONL files of site events and CMP consent events.

See ``README.md`` next to this file for the incremental strategy and configuration.
"""

from collections.abc import Iterator, Sequence
from typing import Any

import dlt
from dlt.common.storages.fsspec_filesystem import FileItemDict
from dlt.sources import DltResource
from dlt.sources.filesystem import filesystem

from .._common.columns import column_hints
from . import settings
from .helpers import Record, parse_lines

__all__ = ["web_drops"]


@dlt.source(name="web", max_table_nesting=0)
def web_drops(
    bucket_url: str = dlt.config.value,
    batch_size: int = settings.BATCH_SIZE,
    files_per_page: int = settings.FILES_PER_PAGE,
) -> Sequence[DltResource]:
    """Load the web event and consent drops into ``raw_web``.

    Only files modified since the previous run are read (the file listing is incremental on
    the modification date), so a late file dropped into an older ``dt=`` folder is picked up
    and a file already loaded is not read again. Each line is parsed on its own: good lines
    merge into ``events`` / ``consent`` on their id, malformed ones go to ``quarantine``.

    Args:
        bucket_url: Folder holding ``events/`` and ``consent/``: a local path or any fsspec
            URL (``s3://bucket/web``, ``gs://...``) (``SOURCES__WEB__BUCKET_URL``). Remote
            buckets take dlt filesystem credentials from config (see the README).
        batch_size: Records per yielded batch.
        files_per_page: Files listed per page.

    Returns:
        The resources ``events`` and ``consent`` (each also writes ``quarantine`` rows).
    """
    return [
        _stream_resource(stream, bucket_url, batch_size, files_per_page)
        for stream in settings.STREAMS
    ]


def _stream_resource(
    stream: settings.Stream,
    bucket_url: str,
    batch_size: int,
    files_per_page: int,
) -> DltResource:
    files = filesystem(
        bucket_url=bucket_url, file_glob=stream.file_glob, files_per_page=files_per_page
    ).with_name(f"{stream.name}_files")
    files.apply_hints(incremental=dlt.sources.incremental("modification_date"))
    # Both tables get their hints as table variants: resource-level column hints would also
    # be applied to the quarantine table.
    record_hints = dlt.mark.make_hints(
        table_name=stream.name,
        primary_key=stream.key,
        write_disposition="merge",
        columns=column_hints(stream.columns),
    )
    quarantine_hints = dlt.mark.make_hints(
        table_name=settings.QUARANTINE_TABLE,
        primary_key=("file_name", "line_number"),
        write_disposition="merge",
        columns=column_hints(settings.QUARANTINE_COLUMNS),
    )

    @dlt.transformer(name=stream.name, primary_key=stream.key, write_disposition="merge")
    def read_drops(items: list[FileItemDict]) -> Iterator[Any]:
        good: list[Record] = []
        bad: list[Record] = []
        for item in items:
            with item.open(mode="rb") as handle:
                for row, ok in parse_lines(handle, stream, item["relative_path"]):
                    (good if ok else bad).append(row)
                    if len(good) >= batch_size:
                        yield dlt.mark.with_hints(good, record_hints, create_table_variant=True)
                        good = []
        if good:
            yield dlt.mark.with_hints(good, record_hints, create_table_variant=True)
        if bad:
            yield dlt.mark.with_hints(bad, quarantine_hints, create_table_variant=True)

    return files | read_drops
