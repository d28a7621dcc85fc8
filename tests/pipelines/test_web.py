"""Web drops: malformed lines are quarantined, late files are read, nothing lands twice."""

from __future__ import annotations

import json

from pipelines import factory
from pipelines.web import settings
from pipelines.web.helpers import parse_lines
from sandbox.world import advance

from .conftest import Sandbox
from .support import as_of, query


def test_parse_lines_accounts_for_every_line() -> None:
    lines = [
        b'{"event_id":"a","event_name":"page_view","event_ts":"2026-10-01T10:00:00Z"}\n',
        b'{"event_id":"b","event_name":"purc\n',
        b'["page_view"]\n',
        b"\n",
        b'{"event_name":"x","event_ts":"2026-10-01T10:00:00Z"}\n',
        b'{"event_id":"c","event_name":"page_view","event_ts":"yesterday"}\n',
        b'{"event_id":"d","event_name":"page_view","event_ts":"2026-10-01T10:00:00.123Z"}',
    ]
    rows = list(parse_lines(lines, settings.EVENTS, "events/dt=2026-10-01/part-0000.jsonl"))

    good = [r for r, ok in rows if ok]
    bad = [r for r, ok in rows if not ok]
    assert [r["event_id"] for r in good] == ["a", "d"]
    assert good[0]["source_file"] == "events/dt=2026-10-01/part-0000.jsonl"
    assert [r["line_number"] for r in bad] == [2, 3, 4, 5, 6]
    assert [r["reason"].split(":")[0] for r in bad] == [
        "invalid JSON",
        "not a JSON object",
        "empty line",
        "missing required field 'event_id'",
        "field 'event_ts' is not an ISO-8601 timestamp",
    ]
    assert bad[0]["raw_line"] == '{"event_id":"b","event_name":"purc'


def test_malformed_lines_are_quarantined_not_dropped(sandbox: Sandbox) -> None:
    factory.run("web")

    rows = query("select stream, file_name, line_number, raw_line, reason from raw_web.quarantine")
    manifest = json.loads((sandbox.world / "world.json").read_text())
    assert len(rows) == sum(manifest["malformed_web_lines"].values())
    for stream, file_name, line_number, raw_line, reason in rows:
        assert stream in ("events", "consent")
        assert reason
        lines = (sandbox.world / "web" / str(file_name)).read_bytes().splitlines()
        assert lines[int(line_number) - 1].decode() == raw_line  # type: ignore[call-overload]


def test_late_files_in_old_folders_are_read_once(sandbox: Sandbox) -> None:
    factory.run("web")
    previous_day = as_of(sandbox.world).date().isoformat()
    advance(sandbox.world, 30)

    factory.run("web")

    late_files = [
        p
        for p in (sandbox.world / "web" / "events").glob("dt=*/part-0001.jsonl")
        if p.parent.name.removeprefix("dt=") < previous_day
    ]
    assert late_files, "the advance should drop late events into older dt= folders"
    late_ids = set()
    for path in late_files:
        for raw in path.read_bytes().splitlines():
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("event_id"), str):
                late_ids.add(record["event_id"])
    loaded = {
        r[0]
        for r in query(
            "select event_id from raw_web.events where source_file like '%/part-0001.jsonl'"
        )
    }
    assert late_ids <= loaded
    # Files of the first run were not read again: their rows keep the first load id.
    loads = query(
        "select count(distinct _dlt_load_id) from raw_web.events where source_file"
        " like '%/part-0000.jsonl'"
    )
    assert loads == [(1,)]
