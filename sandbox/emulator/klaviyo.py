"""Klaviyo JSON:API (revision 2026-07-15), served from ``esp/*.parquet``.

Docs: https://developers.klaviyo.com/en/reference/api_overview (filtering, sorting, cursor
pagination, sparse fieldsets), https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling,
and the per-operation OpenAPI specs in https://github.com/klaviyo/openapi
(``openapi/stable/apis/get_profiles.json``, ``get_events.json``, ``get_profiles_for_list.json``,
``get_lists.json``, ``get_campaigns.json``, ``get_flows.json``, ``get_metrics.json``), which
give the allowed filter operators, page sizes and ``x-klaviyo-ratelimit`` values used here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from sandbox.emulator.http import ApiError, Ctx, correlation_id, json_response
from sandbox.emulator.paging import (
    SortedView,
    column,
    decode_cursor,
    encode_cursor,
    pylist,
    to_us,
    ts_epoch_s,
    ts_strings,
)

MEDIA_TYPE = "application/vnd.api+json"

RULES = [
    Rule("/api/profiles", endpoint="profiles", methods=["GET"]),
    Rule("/api/profiles/<profile_id>", endpoint="profile", methods=["GET"]),
    Rule("/api/events", endpoint="events", methods=["GET"]),
    Rule("/api/metrics", endpoint="metrics", methods=["GET"]),
    Rule("/api/lists", endpoint="lists", methods=["GET"]),
    Rule("/api/lists/<list_id>/profiles", endpoint="list_profiles", methods=["GET"]),
    Rule("/api/campaigns", endpoint="campaigns", methods=["GET"]),
    Rule("/api/flows", endpoint="flows", methods=["GET"]),
]
LIMIT_KEYS = {
    "profiles": "profiles",
    "profile": "profiles",
    "events": "events",
    "metrics": "metrics",
    "lists": "lists",
    "list_profiles": "list_profiles",
    "campaigns": "campaigns",
    "flows": "flows",
}


# ------------------------------------------------------------------------------ errors
def error_obj(
    status: int, code: str, title: str, detail: str, source: dict[str, str] | None = None
) -> dict[str, Any]:
    """One JSON:API error object."""
    return {
        "id": correlation_id(),
        "status": status,
        "code": code,
        "title": title,
        "detail": detail,
        "source": source or {"pointer": "/data/"},
        "links": {},
        "meta": {},
    }


def error(
    status: int, code: str, title: str, detail: str, source: dict[str, str] | None = None
) -> Response:
    """A Klaviyo ``{"errors": [...]}`` response."""
    return json_response(
        {"errors": [error_obj(status, code, title, detail, source)]}, status, mimetype=MEDIA_TYPE
    )


def _invalid(detail: str, parameter: str = "filter") -> ApiError:
    return ApiError(error(400, "invalid", "Invalid input.", detail, {"parameter": parameter}))


# ------------------------------------------------------------------------------ filters
@dataclass
class Leaf:
    """One comparison of a Klaviyo ``filter`` expression."""

    op: str
    field: str
    value: Any


_TOKEN = re.compile(
    r"\s*(?:(?P<q>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")|(?P<p>[(),\[\]])|(?P<w>[^(),\[\]'\"]+))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise _invalid(f"Invalid filter syntax near: {text[pos : pos + 20]!r}")
        pos = m.end()
        if m.group("q") is not None:
            out.append(("str", m.group("q")[1:-1].replace("\\'", "'").replace('\\"', '"')))
        elif m.group("p") is not None:
            out.append(("p", m.group("p")))
        else:
            w = m.group("w").strip()
            if w:
                out.append(("word", w))
    return out


def parse_filter(text: str) -> list[Leaf]:
    """Parse ``and(...)`` / comma-joined comparisons into a flat AND list.

    Raises:
        ApiError: 400 in Klaviyo's shape for syntax errors or unsupported operators.
    """
    toks = _tokens(text)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return toks[pos] if pos < len(toks) else None

    def expect(kind: str, val: str | None = None) -> str:
        nonlocal pos
        t = peek()
        if t is None or t[0] != kind or (val is not None and t[1] != val):
            raise _invalid(f"Invalid filter: expected {val or kind} in {text!r}")
        pos += 1
        return t[1]

    def value() -> Any:
        nonlocal pos
        t = peek()
        if t is None:
            raise _invalid(f"Invalid filter: missing value in {text!r}")
        if t == ("p", "["):
            pos += 1
            items = []
            while peek() != ("p", "]"):
                items.append(value())
                if peek() == ("p", ","):
                    pos += 1
            expect("p", "]")
            return items
        pos += 1
        if t[0] == "str":
            return t[1]
        w = t[1]
        if w in ("true", "false"):
            return w == "true"
        if w == "null":
            return None
        return w

    def call() -> list[Leaf]:
        name = expect("word").lower()
        expect("p", "(")
        if name == "and":
            leaves = call()
            while peek() == ("p", ","):
                expect("p", ",")
                leaves += call()
            expect("p", ")")
            return leaves
        if name in ("or", "not"):
            raise _invalid(f"The '{name}' operator is not supported by this endpoint")
        fld = expect("word")
        if peek() == ("p", ")"):
            expect("p", ")")
            return [Leaf(name, fld, None)]
        expect("p", ",")
        val = value()
        expect("p", ")")
        return [Leaf(name, fld, val)]

    leaves = call()
    while peek() == ("p", ","):
        expect("p", ",")
        leaves += call()
    if pos != len(toks):
        raise _invalid(f"Invalid filter: trailing input in {text!r}")
    return leaves


_RANGE_OPS = {"greater-than", "greater-or-equal", "less-than", "less-or-equal"}


@dataclass
class Resource:
    """How one collection endpoint maps to a world table."""

    table: str
    type: str
    sorts: dict[str, str]  # api sort field -> column
    default_sort: str
    filters: dict[str, tuple[str, set[str]]]  # api field -> (column, allowed ops)
    page_default: int
    page_max: int
    datetime_fields: set[str] = field(default_factory=set)
    lower_fields: set[str] = field(default_factory=set)  # compared case-insensitively


PROFILES = Resource(
    table="esp/profiles",
    type="profile",
    sorts={"id": "id", "created": "created", "updated": "updated", "email": "email"},
    default_sort="id",
    filters={
        "id": ("id", {"equals", "any"}),
        "email": ("email", {"equals", "any"}),
        "phone_number": ("phone_number", {"equals", "any"}),
        "external_id": ("external_id", {"equals", "any"}),
        "created": ("created", {"greater-than", "less-than"}),
        "updated": ("updated", {"greater-than", "less-than"}),
    },
    page_default=20,
    page_max=100,
    datetime_fields={"created", "updated"},
    lower_fields={"email"},
)
EVENTS = Resource(
    table="esp/events",
    type="event",
    sorts={"datetime": "datetime", "timestamp": "datetime"},
    default_sort="datetime",
    filters={
        "metric_id": ("metric_id", {"equals"}),
        "profile_id": ("profile_id", {"equals"}),
        "datetime": ("datetime", _RANGE_OPS),
        "timestamp": ("datetime", _RANGE_OPS),
    },
    page_default=200,
    page_max=1000,
    datetime_fields={"datetime", "timestamp"},
)
METRICS = Resource(
    table="esp/metrics",
    type="metric",
    sorts={"id": "id"},
    default_sort="id",
    filters={"integration.name": ("integration_name", {"equals"})},
    page_default=200,
    page_max=200,
)
LISTS = Resource(
    table="esp/lists",
    type="list",
    sorts={"id": "id", "created": "created", "updated": "updated", "name": "name"},
    default_sort="id",
    filters={
        "id": ("id", {"equals", "any"}),
        "name": ("name", {"equals", "any"}),
        "created": ("created", {"greater-than"}),
        "updated": ("updated", {"greater-than"}),
    },
    page_default=10,
    page_max=10,
    datetime_fields={"created", "updated"},
)
LIST_MEMBERS = Resource(
    table="esp/list_members",
    type="profile",
    sorts={"joined_group_at": "joined_at"},
    default_sort="joined_group_at",
    filters={
        "joined_group_at": ("joined_at", _RANGE_OPS | {"less-or-equal"}),
        "email": ("email", {"equals", "any"}),
        "phone_number": ("phone_number", {"equals", "any"}),
    },
    page_default=20,
    page_max=100,
    datetime_fields={"joined_group_at"},
    lower_fields={"email"},
)
CAMPAIGNS = Resource(
    table="esp/campaigns",
    type="campaign",
    sorts={
        "id": "id",
        "created_at": "created_at",
        "updated_at": "updated_at",
        "name": "name",
        "scheduled_at": "send_time",
    },
    default_sort="id",
    filters={
        "id": ("id", {"any"}),
        "messages.channel": ("channel", {"equals"}),
        "name": ("name", {"contains"}),
        "status": ("status", {"equals", "any"}),
        "created_at": ("created_at", _RANGE_OPS),
        "updated_at": ("updated_at", _RANGE_OPS),
        "scheduled_at": ("send_time", _RANGE_OPS),
    },
    page_default=100,
    page_max=100,
    datetime_fields={"created_at", "updated_at", "scheduled_at"},
)
FLOWS = Resource(
    table="esp/flows",
    type="flow",
    sorts={
        "id": "id",
        "created": "created",
        "updated": "updated",
        "name": "name",
        "status": "status",
        "trigger_type": "trigger_type",
    },
    default_sort="id",
    filters={
        "id": ("id", {"any"}),
        "name": ("name", {"contains", "ends-with", "equals", "starts-with"}),
        "status": ("status", {"equals"}),
        "trigger_type": ("trigger_type", {"equals"}),
        "created": ("created", _RANGE_OPS),
        "updated": ("updated", _RANGE_OPS),
    },
    page_default=50,
    page_max=50,
    datetime_fields={"created", "updated"},
)


def _leaf_value(res: Resource, leaf: Leaf) -> Any:
    if leaf.field in res.datetime_fields and leaf.op in _RANGE_OPS:
        try:
            return to_us(leaf.value)
        except (TypeError, ValueError):
            raise _invalid(f"Invalid datetime for '{leaf.field}': {leaf.value!r}") from None
    return leaf.value


def _leaf_mask(res: Resource, leaf: Leaf, table: pa.Table) -> pa.Array:
    col_name, _ = res.filters[leaf.field]
    col = column(table, col_name)
    if pa.types.is_timestamp(col.type):
        col = pc.cast(pc.cast(col, pa.timestamp("us", tz="UTC")), pa.int64())
    value = _leaf_value(res, leaf)
    lower = leaf.field in res.lower_fields
    if lower:
        col = pc.utf8_lower(pc.cast(col, pa.string()))
    op = leaf.op
    if op == "equals":
        if isinstance(value, list):
            op = "any"
        else:
            v = value.lower() if lower and isinstance(value, str) else value
            if pa.types.is_integer(col.type) and isinstance(v, str) and v.lstrip("-").isdigit():
                v = int(v)
            return pc.fill_null(pc.equal(col, v), False)
    if op == "any":
        vals = value if isinstance(value, list) else [value]
        vals = [v.lower() if lower and isinstance(v, str) else v for v in vals]
        return pc.fill_null(pc.is_in(col, pa.array(vals)), False)
    if op in _RANGE_OPS:
        fn = {
            "greater-than": pc.greater,
            "greater-or-equal": pc.greater_equal,
            "less-than": pc.less,
            "less-or-equal": pc.less_equal,
        }[op]
        return pc.fill_null(fn(col, value), False)
    text = pc.cast(col, pa.string())
    if op == "contains":
        return pc.fill_null(pc.match_substring(text, str(value)), False)
    if op == "starts-with":
        return pc.fill_null(pc.starts_with(text, str(value)), False)
    if op == "ends-with":
        return pc.fill_null(pc.ends_with(text, str(value)), False)
    raise _invalid(f"Unsupported operator '{op}'")


def _parse_leaves(ctx: Ctx, res: Resource) -> list[Leaf]:
    raw = ctx.args.get("filter")
    if not raw:
        return []
    leaves = parse_filter(raw)
    for leaf in leaves:
        spec = res.filters.get(leaf.field)
        if spec is None:
            raise _invalid(f"'{leaf.field}' is not a valid field for the resource '{res.type}'.")
        if leaf.op not in spec[1]:
            raise _invalid(
                f"'{leaf.op}' operator for filter field '{leaf.field}' is not supported."
            )
    return leaves


# ----------------------------------------------------------------------------- paging
@dataclass
class Served:
    """Rows of one page plus the link to the next one."""

    rows: pa.Table
    next_url: str | None


def _page_size(ctx: Ctx, res: Resource) -> int:
    raw = ctx.args.get("page[size]")
    if raw in (None, ""):
        return res.page_default
    try:
        n = int(raw)
    except ValueError:
        raise _invalid(f"Invalid page[size]: {raw}", "page[size]") from None
    if n < 1 or n > res.page_max:
        raise _invalid(f"page[size] must be between 1 and {res.page_max}.", "page[size]")
    return n


def serve_collection(
    ctx: Ctx,
    res: Resource,
    leaves: list[Leaf],
    *,
    view_for: Callable[[str], SortedView],
) -> Served:
    """Resolve sort + filter + cursor into one page (binary search on the sort key)."""
    size = _page_size(ctx, res)
    token = ctx.args.get("page[cursor]")
    cursor = None
    if token:
        try:
            cursor = decode_cursor(token)
        except ValueError:
            raise _invalid("Invalid page cursor.", "page[cursor]") from None
        sort_field, desc = cursor.get("s", res.default_sort), bool(cursor.get("d"))
    else:
        raw_sort = ctx.args.get("sort")
        if raw_sort:
            desc = raw_sort.startswith("-")
            sort_field = raw_sort.lstrip("-")
            if sort_field not in res.sorts:
                raise _invalid(
                    f"'{sort_field}' is not a valid sort field for '{res.type}'.", "sort"
                )
        else:
            # No sort asked: order by the filtered range field when it is sortable, so an
            # incremental filter is a binary search rather than a scan (order is unspecified).
            desc = False
            sort_field = next(
                (lf.field for lf in leaves if lf.op in _RANGE_OPS and lf.field in res.sorts),
                res.default_sort,
            )
    if sort_field not in res.sorts:
        raise _invalid("Invalid page cursor.", "page[cursor]")
    view = view_for(res.sorts[sort_field])
    start, end = 0, view.num_rows
    residual: list[Leaf] = []
    for leaf in leaves:
        col_name = res.filters[leaf.field][0]
        if col_name == view.key and leaf.op in _RANGE_OPS:
            v = _leaf_value(res, leaf)
            s, e = view.range(
                lo=v if leaf.op.startswith("greater") else None,
                lo_incl=leaf.op == "greater-or-equal",
                hi=v if leaf.op.startswith("less") else None,
                hi_incl=leaf.op == "less-or-equal",
            )
            start, end = max(start, s), min(end, e)
        else:
            residual.append(leaf)
    end = max(start, end)
    if cursor is not None:
        if desc:
            end = min(end, view.position_before(cursor["k"], cursor.get("i")))
        else:
            start = max(start, view.position_after(cursor["k"], cursor.get("i")))

    predicate = None
    if residual:

        def predicate(t: pa.Table) -> pa.Array:
            mask = _leaf_mask(res, residual[0], t)
            for leaf in residual[1:]:
                mask = pc.and_(mask, _leaf_mask(res, leaf, t))
            return mask

    page = view.page(start, end, size, descending=desc, predicate=predicate)
    next_url = None
    if page.has_more:
        last = page.last_key(view)
        assert last is not None
        nxt = encode_cursor({"s": sort_field, "d": int(desc), "k": last[0], "i": last[1]})
        next_url = ctx.url_with({"page[cursor]": nxt})
    return Served(page.rows, next_url)


def _document(
    ctx: Ctx, data: list[dict[str, Any]], next_url: str | None, included: list[Any] | None = None
) -> Response:
    body: dict[str, Any] = {
        "data": data,
        "links": {"self": ctx.self_url(), "next": next_url, "prev": None},
    }
    if included is not None:
        body["included"] = included
    return json_response(body, mimetype=MEDIA_TYPE)


def _self_link(ctx: Ctx, kind: str, oid: Any) -> dict[str, str]:
    return {"self": f"{ctx.base_url}/api/{kind}/{oid}/"}


def _rel(ctx: Ctx, kind: str, oid: Any, name: str) -> dict[str, Any]:
    # Built with plain f-strings: this runs twice per event on 1000-event pages.
    base = f"{ctx.base_url}/api/{kind}/{oid}/"
    return {"links": {"self": f"{base}relationships/{name}/", "related": f"{base}{name}/"}}


# ---------------------------------------------------------------------------- profiles
def _render_profiles(
    ctx: Ctx, rows: pa.Table, *, subscriptions: bool, joined: list[Any] | None = None
) -> list[dict[str, Any]]:
    n = rows.num_rows
    if n == 0:
        return []
    c = {
        name: pylist(rows, name)
        for name in (
            "id",
            "email",
            "phone_number",
            "external_id",
            "first_name",
            "last_name",
            "organization",
            "title",
            "city",
            "country",
            "zip",
            "address1",
            "email_consent",
            "sms_consent",
        )
    }
    created = ts_strings(column(rows, "created"), "offset")
    updated = ts_strings(column(rows, "updated"), "offset")
    email_ts = ts_strings(column(rows, "email_consent_timestamp"), "offset")
    sms_ts = ts_strings(column(rows, "sms_consent_timestamp"), "offset")
    out = []
    for i in range(n):
        attrs: dict[str, Any] = {
            "email": c["email"][i],
            "phone_number": c["phone_number"][i],
            "external_id": c["external_id"][i],
            "anonymous_id": None,
            "first_name": c["first_name"][i],
            "last_name": c["last_name"][i],
            "organization": c["organization"][i],
            "locale": None,
            "title": c["title"][i],
            "image": None,
            "created": created[i],
            "updated": updated[i],
            "last_event_date": None,
            "location": {
                "address1": c["address1"][i],
                "address2": None,
                "city": c["city"][i],
                "country": c["country"][i],
                "latitude": None,
                "longitude": None,
                "region": None,
                "zip": c["zip"][i],
                "timezone": None,
                "ip": None,
            },
            "properties": {},
        }
        if joined is not None:
            attrs["joined_group_at"] = joined[i]
        if subscriptions:
            email_consent = c["email_consent"][i] or "NEVER_SUBSCRIBED"
            sms_consent = c["sms_consent"][i] or "NEVER_SUBSCRIBED"
            attrs["subscriptions"] = {
                "email": {
                    "marketing": {
                        "can_receive_email_marketing": email_consent == "SUBSCRIBED",
                        "consent": email_consent,
                        "consent_timestamp": email_ts[i],
                        "last_updated": email_ts[i],
                        "method": None,
                        "method_detail": None,
                        "custom_method_detail": None,
                        "double_optin": None,
                        "suppression": [],
                        "list_suppressions": [],
                    }
                },
                "sms": {
                    "marketing": {
                        "can_receive_sms_marketing": sms_consent == "SUBSCRIBED",
                        "consent": sms_consent,
                        "consent_timestamp": sms_ts[i],
                        "method": None,
                        "method_detail": None,
                        "last_updated": sms_ts[i],
                    },
                    "transactional": None,
                },
                "mobile_push": None,
            }
        pid = c["id"][i]
        out.append(
            {
                "type": "profile",
                "id": pid,
                "attributes": attrs,
                "relationships": {
                    "lists": _rel(ctx, "profiles", pid, "lists"),
                    "segments": _rel(ctx, "profiles", pid, "segments"),
                },
                "links": _self_link(ctx, "profiles", pid),
            }
        )
    return out


def _wants_subscriptions(ctx: Ctx) -> bool:
    raw = ctx.args.get("additional-fields[profile]", "")
    return "subscriptions" in [p.strip() for p in raw.split(",")]


def profiles(ctx: Ctx) -> Response:
    """``GET /api/profiles``."""
    leaves = _parse_leaves(ctx, PROFILES)
    served = serve_collection(
        ctx, PROFILES, leaves, view_for=lambda key: ctx.snap.view(PROFILES.table, key, "id")
    )
    return _document(
        ctx,
        _render_profiles(ctx, served.rows, subscriptions=_wants_subscriptions(ctx)),
        served.next_url,
    )


def profile(ctx: Ctx, profile_id: str) -> Response:
    """``GET /api/profiles/{id}``."""
    rows = ctx.snap.view(PROFILES.table, "id", None).lookup([profile_id])
    if rows.num_rows == 0:
        return error(
            404, "not_found", "Not found.", f"A profile with id {profile_id} does not exist."
        )
    data = _render_profiles(ctx, rows, subscriptions=_wants_subscriptions(ctx))[0]
    return json_response({"data": data, "links": {"self": ctx.self_url()}}, mimetype=MEDIA_TYPE)


def list_profiles(ctx: Ctx, list_id: str) -> Response:
    """``GET /api/lists/{id}/profiles``: members with ``joined_group_at``, by join time."""
    lists_view = ctx.snap.view(LISTS.table, "id", None)
    if lists_view.lookup([list_id]).num_rows == 0:
        return error(404, "not_found", "Not found.", f"A list with id {list_id} does not exist.")
    leaves = _parse_leaves(ctx, LIST_MEMBERS)
    # email / phone filters live on the profile: resolve them to profile ids first (small).
    profile_leaves = [lf for lf in leaves if lf.field in ("email", "phone_number")]
    member_leaves = [lf for lf in leaves if lf.field not in ("email", "phone_number")]
    if profile_leaves:
        pv = ctx.snap.view(PROFILES.table, "id", None)
        mask = _leaf_mask(LIST_MEMBERS, profile_leaves[0], pv.table)
        for lf in profile_leaves[1:]:
            mask = pc.and_(mask, _leaf_mask(LIST_MEMBERS, lf, pv.table))
        ids = pv.table.filter(mask).column("id").to_pylist()
        member_leaves.append(Leaf("any", "__profile_id", ids))

    def member_view(key: str) -> SortedView:
        return ctx.snap.view(
            LIST_MEMBERS.table,
            key,
            "profile_id",
            where=lambda t: t.filter(pc.equal(pc.cast(t.column("list_id"), pa.string()), list_id)),
            tag=f"list={list_id}",
        )

    res = Resource(
        **{
            **LIST_MEMBERS.__dict__,
            "filters": {**LIST_MEMBERS.filters, "__profile_id": ("profile_id", {"any"})},
        }
    )
    served = serve_collection(ctx, res, member_leaves, view_for=member_view)
    pids = pylist(served.rows, "profile_id")
    joined = ts_strings(column(served.rows, "joined_at"), "offset")
    pv = ctx.snap.view(PROFILES.table, "id", None)
    prof = pv.lookup(pids)
    by_id = {
        r["id"]: r for r in _render_profiles(ctx, prof, subscriptions=_wants_subscriptions(ctx))
    }
    data = []
    for pid, jt in zip(pids, joined, strict=True):
        item = by_id.get(pid)
        if item is None:
            continue
        item = {**item, "attributes": {**item["attributes"], "joined_group_at": jt}}
        data.append(item)
    return _document(ctx, data, served.next_url)


# ------------------------------------------------------------------------------ events
def _names(ctx: Ctx, table: str) -> dict[Any, Any]:
    def build() -> dict[Any, Any]:
        t = ctx.snap.table(table)
        return dict(zip(pylist(t, "id"), pylist(t, "name"), strict=True)) if t.num_rows else {}

    return ctx.snap.cached(f"names:{table}", build)


def events(ctx: Ctx) -> Response:
    """``GET /api/events``."""
    leaves = _parse_leaves(ctx, EVENTS)
    served = serve_collection(
        ctx, EVENTS, leaves, view_for=lambda key: ctx.snap.view(EVENTS.table, key, "id")
    )
    rows = served.rows
    campaign_names = _names(ctx, "esp/campaigns")
    iso = ts_strings(column(rows, "datetime"), "offset")
    epoch = ts_epoch_s(column(rows, "datetime"))
    cols = {
        n: pylist(rows, n)
        for n in (
            "id",
            "profile_id",
            "metric_id",
            "uuid",
            "campaign_id",
            "flow_id",
            "subject",
            "url",
            "bounce_type",
        )
    }
    data = []
    for i in range(rows.num_rows):
        props: dict[str, Any] = {}
        if cols["campaign_id"][i] is not None:
            props["$message"] = cols["campaign_id"][i]
            props["Campaign Name"] = campaign_names.get(cols["campaign_id"][i])
        if cols["flow_id"][i] is not None:
            props["$flow"] = cols["flow_id"][i]
        if cols["subject"][i] is not None:
            props["Subject"] = cols["subject"][i]
        if cols["url"][i] is not None:
            props["URL"] = cols["url"][i]
        if cols["bounce_type"][i] is not None:
            props["Bounce Type"] = cols["bounce_type"][i]
        props["$event_id"] = str(cols["id"][i])
        eid = cols["id"][i]
        data.append(
            {
                "type": "event",
                "id": str(eid),
                "attributes": {
                    "timestamp": epoch[i],
                    "event_properties": props,
                    "datetime": iso[i],
                    "uuid": cols["uuid"][i],
                },
                "relationships": {
                    "profile": {
                        "data": {"type": "profile", "id": cols["profile_id"][i]},
                        **_rel(ctx, "events", eid, "profile"),
                    },
                    "metric": {
                        "data": {"type": "metric", "id": cols["metric_id"][i]},
                        **_rel(ctx, "events", eid, "metric"),
                    },
                },
                "links": _self_link(ctx, "events", eid),
            }
        )
    return _document(ctx, data, served.next_url)


# --------------------------------------------------------------- metrics/lists/campaigns
def metrics(ctx: Ctx) -> Response:
    """``GET /api/metrics`` (fixed page size, like Klaviyo)."""
    leaves = _parse_leaves(ctx, METRICS)
    served = serve_collection(
        ctx, METRICS, leaves, view_for=lambda key: ctx.snap.view(METRICS.table, key, None)
    )
    rows = served.rows
    created, updated = (
        ts_strings(column(rows, "created"), "offset"),
        ts_strings(column(rows, "updated"), "offset"),
    )
    data = []
    for i, (mid, name, integ) in enumerate(
        zip(pylist(rows, "id"), pylist(rows, "name"), pylist(rows, "integration_name"), strict=True)
    ):
        data.append(
            {
                "type": "metric",
                "id": mid,
                "attributes": {
                    "name": name,
                    "created": created[i],
                    "updated": updated[i],
                    "integration": {
                        "object": "integration",
                        "id": "0rG4eQ",
                        "key": (integ or "klaviyo").lower(),
                        "name": integ or "Klaviyo",
                        "category": "Internal",
                    },
                },
                "relationships": {"flow-triggers": _rel(ctx, "metrics", mid, "flow-triggers")},
                "links": _self_link(ctx, "metrics", mid),
            }
        )
    return _document(ctx, data, served.next_url)


def lists(ctx: Ctx) -> Response:
    """``GET /api/lists`` (at most 10 per page, like Klaviyo)."""
    leaves = _parse_leaves(ctx, LISTS)
    served = serve_collection(
        ctx, LISTS, leaves, view_for=lambda key: ctx.snap.view(LISTS.table, key, "id")
    )
    rows = served.rows
    created, updated = (
        ts_strings(column(rows, "created"), "offset"),
        ts_strings(column(rows, "updated"), "offset"),
    )
    data = [
        {
            "type": "list",
            "id": lid,
            "attributes": {
                "name": name,
                "created": created[i],
                "updated": updated[i],
                "opt_in_process": "single_opt_in",
            },
            "relationships": {
                "profiles": _rel(ctx, "lists", lid, "profiles"),
                "tags": _rel(ctx, "lists", lid, "tags"),
            },
            "links": _self_link(ctx, "lists", lid),
        }
        for i, (lid, name) in enumerate(zip(pylist(rows, "id"), pylist(rows, "name"), strict=True))
    ]
    return _document(ctx, data, served.next_url)


def campaigns(ctx: Ctx) -> Response:
    """``GET /api/campaigns``: requires ``filter=equals(messages.channel,'email')``."""
    leaves = _parse_leaves(ctx, CAMPAIGNS)
    channel = [lf for lf in leaves if lf.field == "messages.channel"]
    if not channel:
        raise _invalid(
            "A channel filter is required to list campaigns. Please provide either: "
            "?filter=equals(messages.channel,'email') to list email campaigns, or "
            "?filter=equals(messages.channel,'sms') to list SMS campaigns."
        )
    served = serve_collection(
        ctx, CAMPAIGNS, leaves, view_for=lambda key: ctx.snap.view(CAMPAIGNS.table, key, "id")
    )
    rows = served.rows
    created = ts_strings(column(rows, "created_at"), "offset")
    updated = ts_strings(column(rows, "updated_at"), "offset")
    send = ts_strings(column(rows, "send_time"), "offset")
    data = []
    for i, (cid, name, status) in enumerate(
        zip(pylist(rows, "id"), pylist(rows, "name"), pylist(rows, "status"), strict=True)
    ):
        data.append(
            {
                "type": "campaign",
                "id": cid,
                "attributes": {
                    "name": name,
                    "status": status,
                    "archived": False,
                    "audiences": {"included": [], "excluded": []},
                    "send_options": {"use_smart_sending": True},
                    "tracking_options": {
                        "add_tracking_params": True,
                        "is_tracking_clicks": True,
                        "is_tracking_opens": True,
                    },
                    "send_strategy": {"method": "static", "datetime": send[i], "options": None},
                    "created_at": created[i],
                    "scheduled_at": send[i],
                    "updated_at": updated[i],
                    "send_time": send[i],
                },
                "relationships": {
                    "campaign-messages": _rel(ctx, "campaigns", cid, "campaign-messages"),
                    "tags": _rel(ctx, "campaigns", cid, "tags"),
                },
                "links": _self_link(ctx, "campaigns", cid),
            }
        )
    return _document(ctx, data, served.next_url)


def flows(ctx: Ctx) -> Response:
    """``GET /api/flows``."""
    leaves = _parse_leaves(ctx, FLOWS)
    served = serve_collection(
        ctx, FLOWS, leaves, view_for=lambda key: ctx.snap.view(FLOWS.table, key, "id")
    )
    rows = served.rows
    created, updated = (
        ts_strings(column(rows, "created"), "offset"),
        ts_strings(column(rows, "updated"), "offset"),
    )
    data = [
        {
            "type": "flow",
            "id": fid,
            "attributes": {
                "name": name,
                "status": status,
                "archived": False,
                "created": created[i],
                "updated": updated[i],
                "trigger_type": trigger,
            },
            "relationships": {
                "flow-actions": _rel(ctx, "flows", fid, "flow-actions"),
                "tags": _rel(ctx, "flows", fid, "tags"),
            },
            "links": _self_link(ctx, "flows", fid),
        }
        for i, (fid, name, status, trigger) in enumerate(
            zip(
                pylist(rows, "id"),
                pylist(rows, "name"),
                pylist(rows, "status"),
                pylist(rows, "trigger_type"),
                strict=True,
            )
        )
    ]
    return _document(ctx, data, served.next_url)


HANDLERS: dict[str, Callable[..., Response]] = {
    "profiles": profiles,
    "profile": profile,
    "events": events,
    "metrics": metrics,
    "lists": lists,
    "list_profiles": list_profiles,
    "campaigns": campaigns,
    "flows": flows,
}


def handle(endpoint: str, ctx: Ctx, values: dict[str, Any]) -> Response:
    """Dispatch one Klaviyo request."""
    return HANDLERS[endpoint](ctx, **values)
