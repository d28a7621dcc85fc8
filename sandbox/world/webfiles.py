"""Web drops: ``web/<kind>/dt=YYYY-MM-DD/part-VVVV.jsonl``.

Rule: everything produced by world version V with an event time on day D goes to
``dt=D/part-V.jsonl``. So ``generate`` writes ``part-0000`` files, and each ``advance`` writes
new days plus *late* events as new ``part-VVVV`` files inside older ``dt=`` folders.
Each file carries a few malformed lines on purpose (truncated JSON, non-objects) and a few
duplicated lines (at-least-once delivery).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sandbox.world.core import day_of, day_str
from sandbox.world.io import string_array_bytes
from sandbox.world.systems.web import CONSENT_KEYS, EVENT_KEYS, json_lines, to_arrow_columns

NOT_OBJECTS = ('["page_view"]', '"event"', "42", "null", "true", '[{"event_id":null}]')


def write_drops(
    root: Path,
    kind: str,
    rows: dict[str, np.ndarray],
    version: int,
    rng: np.random.Generator,
    params: dict[str, Any],
) -> tuple[list[str], int, int]:
    """Write one kind (``events``/``consent``) of drops.

    Returns:
        (relative file paths written, malformed line count, distinct well-formed ids)
    """
    keys = EVENT_KEYS if kind == "events" else CONSENT_KEYS
    id_key = keys[0]
    n = rows["event_ts"].size if rows else 0
    if n == 0:
        return [], 0, 0
    order = np.argsort(rows["event_ts"], kind="stable")
    days = day_of(rows["event_ts"])[order]
    wp = params["web"]
    files: list[str] = []
    malformed = 0
    uniq = np.unique(days)
    starts = np.searchsorted(days, uniq, side="left")
    ends = np.searchsorted(days, uniq, side="right")
    carry: list[bytes] = []  # duplicates re-delivered in the next day's file
    # One day at a time: the JSON text of a whole world at once would dominate peak memory.
    for j, (d, s, e) in enumerate(zip(uniq.tolist(), starts.tolist(), ends.tolist(), strict=True)):
        idx = order[s:e]
        sub = {k: v[idx] for k, v in rows.items()}
        lines = json_lines(to_arrow_columns(sub, keys, id_key, rng), keys)
        body = string_array_bytes(lines).splitlines(keepends=True)
        del sub, lines
        dup = np.flatnonzero(rng.random(len(body)) < wp["duplicate_line_share"])
        later = rng.random(dup.size) < 0.3
        now = [body[i] for i in dup[~later]] + carry
        carry = [body[i] for i in dup[later]]
        if j == len(uniq) - 1:
            now += carry
        for line in now:
            body.insert(int(rng.integers(0, len(body) + 1)), line)
        k = int(rng.integers(1, wp["malformed_per_file_max"] + 1))
        for _ in range(k):
            src = body[int(rng.integers(0, len(body)))].rstrip(b"\n")
            if rng.random() < 0.6 and len(src) > 10:
                bad = src[: int(rng.integers(5, len(src) - 2))]  # truncated JSON
            else:
                bad = NOT_OBJECTS[int(rng.integers(0, len(NOT_OBJECTS)))].encode()
            body.insert(int(rng.integers(0, len(body) + 1)), bad + b"\n")
        malformed += k
        rel = f"web/{kind}/dt={day_str(d)}/part-{version:04d}.jsonl"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(body))
        files.append(rel)
    return files, malformed, n
