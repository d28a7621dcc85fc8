"""Zendesk Support API v2, served from ``helpdesk/*.parquet``.

Docs: https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/,
https://developer.zendesk.com/documentation/ticketing/managing-tickets/using-the-incremental-export-api,
https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_metrics/,
https://developer.zendesk.com/api-reference/ticketing/ticket-management/satisfaction_ratings/,
https://developer.zendesk.com/documentation/api-basics/pagination/paginating-through-lists-using-cursor-pagination,
https://developer.zendesk.com/api-reference/introduction/rate-limits/ and the legacy NPS
incremental export ``GET /api/v2/nps/incremental/responses.json`` (time-based).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from sandbox.emulator.http import ApiError, Ctx, json_response
from sandbox.emulator.paging import (
    US,
    Page,
    SortedView,
    column,
    decode_cursor,
    encode_cursor,
    pylist,
    ts_strings,
)

RULES = [
    Rule("/api/v2/incremental/tickets/cursor.json", endpoint="tickets_cursor", methods=["GET"]),
    Rule("/api/v2/incremental/users/cursor.json", endpoint="users_cursor", methods=["GET"]),
    Rule("/api/v2/incremental/tickets.json", endpoint="tickets_time", methods=["GET"]),
    Rule("/api/v2/incremental/users.json", endpoint="users_time", methods=["GET"]),
    Rule("/api/v2/satisfaction_ratings.json", endpoint="satisfaction_ratings", methods=["GET"]),
    Rule("/api/v2/satisfaction_ratings", endpoint="satisfaction_ratings", methods=["GET"]),
    Rule("/api/v2/nps/incremental/responses.json", endpoint="nps_responses", methods=["GET"]),
]
INCREMENTAL_ENDPOINTS = {
    "tickets_cursor",
    "users_cursor",
    "tickets_time",
    "users_time",
    "nps_responses",
}
EXCLUDE_RECENT_US = 60 * US  # "items changed in the minute before the request are excluded"
MAX_PER_PAGE = 1000


def error(status: int, err: str, description: str) -> Response:
    """Zendesk's ``{"error", "description"}`` envelope."""
    return json_response({"error": err, "description": description}, status)


def _bad(description: str, err: str = "InvalidValue") -> ApiError:
    return ApiError(error(400, err, description))


def _int_arg(ctx: Ctx, name: str, default: int | None = None) -> int | None:
    raw = ctx.args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise _bad(f"{name} must be an integer") from None


def _window_end(ctx: Ctx) -> int | None:
    as_of = ctx.snap.as_of_us
    return None if as_of is None else as_of - EXCLUDE_RECENT_US


# ------------------------------------------------------------------------------ render
def _lookup_by(ctx: Ctx, table: str, key: str, keys: list[Any]) -> dict[Any, dict[str, Any]]:
    """Latest row of ``table`` per ``key`` value (one vectorised binary search)."""
    return ctx.snap.view(table, key, "id").lookup_last(keys)


def _minutes(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else max(0, (b - a) // (60 * US))


def _seconds(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else max(0, (b - a) // US)


def _us(col: pa.ChunkedArray) -> list[int | None]:
    if len(col) == 0:
        return []
    if not pa.types.is_timestamp(col.type):
        return [None] * len(col)
    return pc.cast(pc.cast(col, pa.timestamp("us", tz="UTC")), pa.int64()).to_pylist()


def render_tickets(
    ctx: Ctx, rows: pa.Table, include: set[str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Tickets in Zendesk's shape, plus sideloads requested by ``include``."""
    n = rows.num_rows
    c = {
        k: pylist(rows, k)
        for k in (
            "id",
            "subject",
            "status",
            "priority",
            "channel",
            "requester_id",
            "assignee_id",
            "tags",
        )
    }
    created, updated = (
        ts_strings(column(rows, "created_at"), "s"),
        ts_strings(column(rows, "updated_at"), "s"),
    )
    created_us, updated_us = _us(column(rows, "created_at")), _us(column(rows, "updated_at"))
    reply_us, solved_us = _us(column(rows, "first_reply_at")), _us(column(rows, "solved_at"))
    reply_s, solved_s = (
        ts_strings(column(rows, "first_reply_at"), "s"),
        ts_strings(column(rows, "solved_at"), "s"),
    )
    ratings = _lookup_by(ctx, "helpdesk/satisfaction_ratings", "ticket_id", c["id"])
    tickets, metric_sets = [], []
    for i in range(n):
        tid = c["id"][i]
        r = ratings.get(tid)
        rating: dict[str, Any] = (
            {"id": r["id"], "score": r.get("score"), "comment": r.get("comment")}
            if r
            else {"score": "unoffered"}
        )
        ticket: dict[str, Any] = {
            "url": ctx.url(f"/api/v2/tickets/{tid}.json"),
            "id": tid,
            "external_id": None,
            "via": {"channel": c["channel"][i], "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": created[i],
            "updated_at": updated[i],
            "generated_timestamp": updated_us[i] // US if updated_us[i] is not None else None,
            "type": None,
            "subject": c["subject"][i],
            "raw_subject": c["subject"][i],
            "description": c["subject"][i],
            "priority": c["priority"][i],
            "status": c["status"][i],
            "recipient": None,
            "requester_id": c["requester_id"][i],
            "submitter_id": c["requester_id"][i],
            "assignee_id": c["assignee_id"][i],
            "organization_id": None,
            "group_id": None,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "forum_topic_id": None,
            "problem_id": None,
            "has_incidents": False,
            "is_public": True,
            "due_at": None,
            "tags": list(c["tags"][i] or []),
            "custom_fields": [],
            "satisfaction_rating": rating,
            "sharing_agreement_ids": [],
            "fields": [],
            "followup_ids": [],
            "ticket_form_id": None,
            "brand_id": 1,
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": False,
        }
        if "dates" in include:
            ticket["dates"] = {
                "assignee_updated_at": None,
                "requester_updated_at": created[i],
                "status_updated_at": updated[i],
                "initially_assigned_at": reply_s[i],
                "assigned_at": reply_s[i],
                "solved_at": solved_s[i],
                "latest_comment_added_at": solved_s[i] or reply_s[i] or created[i],
            }
        tickets.append(ticket)
        if "metric_sets" in include and c["status"][i] != "deleted":
            reply_min = _minutes(created_us[i], reply_us[i])
            solve_min = _minutes(created_us[i], solved_us[i])
            metric_sets.append(
                {
                    "url": ctx.url(f"/api/v2/ticket_metrics/{tid}.json"),
                    "id": tid,
                    "ticket_id": tid,
                    "created_at": created[i],
                    "updated_at": updated[i],
                    "group_stations": 1,
                    "assignee_stations": 1 if c["assignee_id"][i] is not None else 0,
                    "reopens": 0,
                    "replies": 1 if reply_us[i] is not None else 0,
                    "assignee_updated_at": None,
                    "requester_updated_at": created[i],
                    "status_updated_at": updated[i],
                    "initially_assigned_at": reply_s[i],
                    "assigned_at": reply_s[i],
                    "solved_at": solved_s[i],
                    "latest_comment_added_at": solved_s[i] or reply_s[i] or created[i],
                    "reply_time_in_minutes": {"calendar": reply_min, "business": reply_min},
                    "reply_time_in_seconds": {"calendar": _seconds(created_us[i], reply_us[i])},
                    "first_resolution_time_in_minutes": {
                        "calendar": solve_min,
                        "business": solve_min,
                    },
                    "full_resolution_time_in_minutes": {
                        "calendar": solve_min,
                        "business": solve_min,
                    },
                    "agent_wait_time_in_minutes": {"calendar": None, "business": None},
                    "requester_wait_time_in_minutes": {"calendar": None, "business": None},
                    "on_hold_time_in_minutes": {"calendar": 0, "business": 0},
                }
            )
    side: dict[str, Any] = {}
    if "metric_sets" in include:
        side["metric_sets"] = metric_sets
    return tickets, side


def render_users(
    ctx: Ctx, rows: pa.Table, include: set[str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Users in Zendesk's shape."""
    created, updated = (
        ts_strings(column(rows, "created_at"), "s"),
        ts_strings(column(rows, "updated_at"), "s"),
    )
    users = []
    for i, (uid, name, email, phone, role) in enumerate(
        zip(
            pylist(rows, "id"),
            pylist(rows, "name"),
            pylist(rows, "email"),
            pylist(rows, "phone"),
            pylist(rows, "role"),
            strict=True,
        )
    ):
        users.append(
            {
                "id": uid,
                "url": ctx.url(f"/api/v2/users/{uid}.json"),
                "name": name,
                "email": email,
                "created_at": created[i],
                "updated_at": updated[i],
                "time_zone": "Europe/Prague",
                "iana_time_zone": "Europe/Prague",
                "phone": phone,
                "shared_phone_number": None,
                "photo": None,
                "locale_id": 1,
                "locale": "en-US",
                "organization_id": None,
                "role": role,
                "verified": True,
                "external_id": None,
                "tags": [],
                "alias": None,
                "active": True,
                "shared": False,
                "shared_agent": False,
                "last_login_at": None,
                "two_factor_auth_enabled": None,
                "signature": None,
                "details": None,
                "notes": None,
                "role_type": None,
                "custom_role_id": None,
                "moderator": role != "end-user",
                "ticket_restriction": "requested" if role == "end-user" else None,
                "only_private_comments": False,
                "restricted_agent": role != "end-user",
                "suspended": False,
                "default_group_id": None,
                "report_csv": False,
                "user_fields": {},
            }
        )
    return users, {}


# ------------------------------------------------------------ cursor incremental exports
def _incremental_cursor(
    ctx: Ctx,
    table: str,
    key: str,
    renderer: Callable[[Ctx, pa.Table, set[str]], tuple[list[dict[str, Any]], dict[str, Any]]],
) -> Response:
    per_page = min(_int_arg(ctx, "per_page", MAX_PER_PAGE) or MAX_PER_PAGE, MAX_PER_PAGE)
    include = {s.strip() for s in (ctx.args.get("include") or "").split(",") if s.strip()}
    exclude_deleted = (ctx.args.get("exclude_deleted") or "").lower() == "true"
    view = ctx.snap.view(f"helpdesk/{table}", "updated_at", "id")
    wend = _window_end(ctx)
    end = view.num_rows if wend is None else view.bound(wend, "right")
    token = ctx.args.get("cursor")
    backwards = False
    # A cursor wins over start_time: clients such as dlt re-send start_time on every page.
    if token:
        try:
            cur = decode_cursor(token)
            k, tie, backwards = int(cur["k"]), cur.get("i"), bool(cur.get("b"))
        except (ValueError, KeyError, TypeError):
            raise _bad("Invalid cursor", "InvalidPaginationParameter") from None
        start = 0 if backwards else view.position_after(k, tie)
        if backwards:
            end = min(end, view.position_before(k, tie))
    else:
        start_time = _int_arg(ctx, "start_time")
        if start_time is None:
            raise _bad("start_time is required for the first request of a cursor-based export")
        if ctx.snap.as_of_us is not None and start_time * US > ctx.snap.as_of_us:
            raise _bad("start_time cannot be in the future")
        k, tie = start_time * US, None
        start = view.bound(k, "left")
    predicate = None
    if exclude_deleted and "status" in view.table.column_names:

        def predicate(t: pa.Table) -> pa.Array:
            return pc.fill_null(pc.not_equal(t.column("status"), "deleted"), True)

    page: Page = view.page(start, end, per_page, descending=backwards, predicate=predicate)
    rows = page.rows
    if backwards and rows.num_rows > 1:
        rows = rows.take(pa.array(list(range(rows.num_rows - 1, -1, -1)), pa.int64()))
    items, side = renderer(ctx, rows, include)
    if rows.num_rows:
        last = rows.num_rows - 1
        after = encode_cursor(
            {"k": rows.column("__k")[last].as_py(), "i": rows.column("id")[last].as_py()}
        )
        before = encode_cursor(
            {"k": rows.column("__k")[0].as_py(), "i": rows.column("id")[0].as_py(), "b": 1}
        )
    else:
        # Nothing new: keep handing out a cursor at the same position, as Zendesk does.
        after = token if token and not backwards else encode_cursor({"k": k, "i": tie})
        before = None
    keep = {
        "per_page": ctx.args.get("per_page"),
        "include": ctx.args.get("include"),
        "exclude_deleted": ctx.args.get("exclude_deleted"),
    }
    keep = {a: v for a, v in keep.items() if v}
    path = (
        ctx.request.path[len("/zendesk") :]
        if ctx.request.path.startswith("/zendesk")
        else ctx.request.path
    )
    body: dict[str, Any] = {
        table: items,
        **side,
        "after_url": ctx.url(path, {**keep, "cursor": after}),
        "after_cursor": after,
        "before_url": ctx.url(path, {**keep, "cursor": before}) if before and token else None,
        "before_cursor": before if token else None,
        "end_of_stream": not page.has_more if not backwards else True,
    }
    return json_response(body)


def tickets_cursor(ctx: Ctx) -> Response:
    """``GET /api/v2/incremental/tickets/cursor.json``."""
    return _incremental_cursor(ctx, "tickets", "updated_at", render_tickets)


def users_cursor(ctx: Ctx) -> Response:
    """``GET /api/v2/incremental/users/cursor.json``."""
    return _incremental_cursor(ctx, "users", "updated_at", render_users)


# -------------------------------------------------------------- time-based exports
def _time_based(
    ctx: Ctx,
    table: str,
    key: str,
    out_key: str,
    render: Callable[[Ctx, pa.Table], list[dict[str, Any]]],
    per_page: int = MAX_PER_PAGE,
) -> Response:
    start_time = _int_arg(ctx, "start_time")
    if start_time is None:
        raise _bad("start_time is required")
    if ctx.snap.as_of_us is not None and start_time * US > ctx.snap.as_of_us:
        raise _bad("start_time cannot be in the future")
    per_page = min(_int_arg(ctx, "per_page", per_page) or per_page, per_page)
    view = ctx.snap.view(table, key, "id")
    wend = _window_end(ctx)
    end = view.num_rows if wend is None else view.bound(wend, "right")
    start = view.bound(start_time * US, "left")
    stop = min(end, start + per_page)
    full = stop - start == per_page and stop < end
    if full:
        # Keep every row sharing the last second, so a page boundary never splits one second.
        last_sec = view.table.column("__k")[stop - 1].as_py() // US
        stop = min(end, view.bound((last_sec + 1) * US, "left"))
    rows = view.table.slice(start, stop - start)
    count = rows.num_rows
    if count:
        first_sec = rows.column("__k")[0].as_py() // US
        last_sec = rows.column("__k")[count - 1].as_py() // US
        # Zendesk repeats the last second on the next page (clients dedupe by id); if the whole
        # page is one second, move past it or the export would loop forever.
        end_time = last_sec + 1 if full and first_sec == last_sec else last_sec
    else:
        end_time = start_time
    end_of_stream = not full
    path = ctx.request.path[len("/zendesk") :]
    body = {
        out_key: render(ctx, rows),
        "count": count,
        "end_time": end_time,
        "next_page": ctx.url(path, {"start_time": end_time}),
        "end_of_stream": end_of_stream,
    }
    return json_response(body)


def tickets_time(ctx: Ctx) -> Response:
    """``GET /api/v2/incremental/tickets.json`` (time-based, as the dlt verified source uses)."""
    return _time_based(
        ctx,
        "helpdesk/tickets",
        "updated_at",
        "tickets",
        lambda c, r: render_tickets(c, r, set())[0],
    )


def users_time(ctx: Ctx) -> Response:
    """``GET /api/v2/incremental/users.json`` (time-based)."""
    return _time_based(
        ctx, "helpdesk/users", "updated_at", "users", lambda c, r: render_users(c, r, set())[0]
    )


def _render_nps(ctx: Ctx, rows: pa.Table) -> list[dict[str, Any]]:
    created, updated = (
        ts_strings(column(rows, "created_at"), "s"),
        ts_strings(column(rows, "updated_at"), "s"),
    )
    return [
        {
            "id": rid,
            "url": ctx.url(f"/api/v2/nps/responses/{rid}.json"),
            "survey_id": 1,
            "recipient_id": uid,
            "user_id": uid,
            "rating": score,
            "comment": comment,
            "delivered_via": "email",
            "created_at": created[i],
            "updated_at": updated[i],
        }
        for i, (rid, uid, score, comment) in enumerate(
            zip(
                pylist(rows, "id"),
                pylist(rows, "user_id"),
                pylist(rows, "score"),
                pylist(rows, "comment"),
                strict=True,
            )
        )
    ]


def nps_responses(ctx: Ctx) -> Response:
    """``GET /api/v2/nps/incremental/responses.json`` (legacy NPS, time-based)."""
    return _time_based(ctx, "helpdesk/nps_responses", "updated_at", "responses", _render_nps)


# ------------------------------------------------------------------ satisfaction ratings
_SCORE_FILTERS = {
    "good": {"good"},
    "bad": {"bad"},
    "received": {"good", "bad"},
    "good_with_comment": {"good"},
    "bad_with_comment": {"bad"},
    "good_without_comment": {"good"},
    "bad_without_comment": {"bad"},
}


def _render_ratings(ctx: Ctx, rows: pa.Table) -> list[dict[str, Any]]:
    created, updated = (
        ts_strings(column(rows, "created_at"), "s"),
        ts_strings(column(rows, "updated_at"), "s"),
    )
    return [
        {
            "url": ctx.url(f"/api/v2/satisfaction_ratings/{rid}.json"),
            "id": rid,
            "assignee_id": None,
            "group_id": None,
            "requester_id": req,
            "ticket_id": tid,
            "score": score,
            "comment": comment,
            "reason": None,
            "reason_id": None,
            "created_at": created[i],
            "updated_at": updated[i],
        }
        for i, (rid, req, tid, score, comment) in enumerate(
            zip(
                pylist(rows, "id"),
                pylist(rows, "requester_id"),
                pylist(rows, "ticket_id"),
                pylist(rows, "score"),
                pylist(rows, "comment"),
                strict=True,
            )
        )
    ]


def satisfaction_ratings(ctx: Ctx) -> Response:
    """``GET /api/v2/satisfaction_ratings``: cursor (``page[size]``) or offset pagination."""
    view: SortedView = ctx.snap.view("helpdesk/satisfaction_ratings", "id", None)
    start_time, end_time = _int_arg(ctx, "start_time"), _int_arg(ctx, "end_time")
    score = ctx.args.get("score")
    if score and score not in _SCORE_FILTERS and score not in ("offered", "unoffered"):
        raise _bad(f"Invalid score filter: {score}")

    def predicate(t: pa.Table) -> pa.Array:
        mask = pa.array([True] * t.num_rows)
        # start_time / end_time bound updated_at, so changed ratings are picked up again.
        ts = _us(column(t, "updated_at"))
        if start_time is not None or end_time is not None:
            arr = pa.array(ts, pa.int64())
            if start_time is not None:
                mask = pc.and_(mask, pc.fill_null(pc.greater_equal(arr, start_time * US), False))
            if end_time is not None:
                mask = pc.and_(mask, pc.fill_null(pc.less(arr, end_time * US), False))
        if score:
            allowed = _SCORE_FILTERS.get(score, set())
            mask = pc.and_(
                mask,
                pc.fill_null(
                    pc.is_in(column(t, "score"), pa.array(sorted(allowed), pa.string())), False
                ),
            )
            if score.endswith("_with_comment"):
                mask = pc.and_(
                    mask, pc.fill_null(pc.greater(pc.utf8_length(column(t, "comment")), 0), False)
                )
            if score.endswith("_without_comment"):
                mask = pc.and_(
                    mask,
                    pc.invert(
                        pc.fill_null(pc.greater(pc.utf8_length(column(t, "comment")), 0), False)
                    ),
                )
        return mask

    filtered = bool(start_time is not None or end_time is not None or score)
    if (
        ctx.args.get("page[size]") is None
        and ctx.args.get("page[after]") is None
        and ctx.args.get("page[before]") is None
    ):
        return _ratings_offset(ctx, view, predicate if filtered else None)
    size = _int_arg(ctx, "page[size]", 100) or 100
    if size > 100:
        raise _bad("page[size] must be <= 100", "InvalidPaginationParameter")
    start, end = 0, view.num_rows
    after, before = ctx.args.get("page[after]"), ctx.args.get("page[before]")
    try:
        if after:
            start = view.position_after(int(decode_cursor(after)["k"]), None)
        if before:
            end = view.position_before(int(decode_cursor(before)["k"]), None)
    except (ValueError, KeyError, TypeError):
        raise _bad("Invalid cursor", "InvalidPaginationParameter") from None
    page = view.page(
        start, end, size, descending=bool(before), predicate=predicate if filtered else None
    )
    rows = page.rows
    if before and rows.num_rows > 1:
        rows = rows.take(pa.array(list(range(rows.num_rows - 1, -1, -1)), pa.int64()))
    has_more = page.has_more if not before else True
    after_c = encode_cursor({"k": rows.column("id")[-1].as_py()}) if rows.num_rows else None
    before_c = encode_cursor({"k": rows.column("id")[0].as_py()}) if rows.num_rows else None
    return json_response(
        {
            "satisfaction_ratings": _render_ratings(ctx, rows),
            "meta": {"has_more": has_more, "after_cursor": after_c, "before_cursor": before_c},
            "links": {
                "prev": ctx.url_with({"page[before]": before_c, "page[after]": None})
                if before_c
                else None,
                "next": ctx.url_with({"page[after]": after_c, "page[before]": None})
                if has_more and after_c
                else None,
            },
        }
    )


def _ratings_offset(
    ctx: Ctx, view: SortedView, predicate: Callable[[pa.Table], pa.Array] | None
) -> Response:
    per_page = min(_int_arg(ctx, "per_page", 100) or 100, 100)
    page_no = max(1, _int_arg(ctx, "page", 1) or 1)
    if predicate is None:
        count = view.num_rows
        rows = view.table.slice((page_no - 1) * per_page, per_page)
    else:
        idx = pc.indices_nonzero(predicate(view.table))
        count = len(idx)
        rows = view.table.take(idx.slice((page_no - 1) * per_page, per_page))
    has_next = page_no * per_page < count
    return json_response(
        {
            "satisfaction_ratings": _render_ratings(ctx, rows),
            "next_page": ctx.url_with({"page": page_no + 1}) if has_next else None,
            "previous_page": ctx.url_with({"page": page_no - 1}) if page_no > 1 else None,
            "count": count,
        }
    )


HANDLERS: dict[str, Callable[..., Response]] = {
    "tickets_cursor": tickets_cursor,
    "users_cursor": users_cursor,
    "tickets_time": tickets_time,
    "users_time": users_time,
    "satisfaction_ratings": satisfaction_ratings,
    "nps_responses": nps_responses,
}


def handle(endpoint: str, ctx: Ctx, values: dict[str, Any]) -> Response:
    """Dispatch one Zendesk request."""
    return HANDLERS[endpoint](ctx, **values)
