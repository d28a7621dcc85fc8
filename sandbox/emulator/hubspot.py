"""HubSpot CRM v3 / v4 and Marketing v3 campaigns, served from ``crm/*.parquet``.

Docs: https://developers.hubspot.com/docs/api-reference/crm-contacts-v3/guide,
https://developers.hubspot.com/docs/api-reference/search/guide (limitations: 200 per page,
10,000 results per query, 5 requests / s), https://developers.hubspot.com/docs/api-reference/crm-associations-v4/guide,
https://developers.hubspot.com/docs/api-reference/crm-owners-v3/guide,
https://developers.hubspot.com/docs/api/marketing/campaigns,
https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from sandbox.emulator.http import ApiError, Ctx, correlation_id, json_response
from sandbox.emulator.paging import Page, SortedView, column, pylist, to_us, ts_strings
from sandbox.emulator.store import Snapshot

SEARCH_CAP = 10_000
OBJECTS = ("contacts", "companies", "deals")
_ALIASES = {
    "contact": "contacts",
    "0-1": "contacts",
    "company": "companies",
    "0-2": "companies",
    "deal": "deals",
    "0-3": "deals",
    "campaign": "campaigns",
}
MODIFIED = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}
DEFAULT_PROPS = {
    "contacts": [
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    ],
    "companies": ["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
    "deals": [
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ],
}
_INTERNAL = {"__k", "id", "archived", "archived_at"}
_SINGULAR = {
    "contacts": "contact",
    "companies": "company",
    "deals": "deal",
    "campaigns": "campaign",
}
# HubSpot-defined association type ids, both directions.
_TYPE_REVERSE = {
    1: 2,
    2: 1,
    279: 280,
    280: 279,
    3: 4,
    4: 3,
    5: 6,
    6: 5,
    341: 342,
    342: 341,
    15: 16,
    16: 15,
}
_PRIMARY = {1, 5}
TEAM_IDS = {"CZ": "5001", "SK": "5002", "PL": "5003"}

RULES = [
    Rule("/crm/v3/objects/<obj>", endpoint="list", methods=["GET"]),
    Rule("/crm/v3/objects/<obj>/search", endpoint="search", methods=["POST"]),
    Rule("/crm/v3/objects/<obj>/<object_id>", endpoint="read", methods=["GET"]),
    Rule("/crm/v3/properties/<obj>", endpoint="properties", methods=["GET"]),
    Rule("/crm/v3/pipelines/deals", endpoint="pipelines", methods=["GET"]),
    Rule("/crm/v3/owners", endpoint="owners", methods=["GET"], strict_slashes=False),
    Rule("/marketing/v3/campaigns", endpoint="campaigns", methods=["GET"], strict_slashes=False),
    Rule("/marketing/v3/campaigns/<campaign_id>", endpoint="campaign", methods=["GET"]),
    Rule(
        "/crm/v4/associations/<from_type>/<to_type>/batch/read",
        endpoint="assoc_batch_read",
        methods=["POST"],
    ),
]
SEARCH_ENDPOINTS = {"search"}


# ------------------------------------------------------------------------------ errors
def error(status: int, message: str, category: str, **extra: Any) -> Response:
    """HubSpot's error envelope."""
    body = {
        "status": "error",
        "message": message,
        "correlationId": correlation_id(),
        "category": category,
    }
    body.update(extra)
    return json_response(body, status)


def _bad(message: str) -> ApiError:
    return ApiError(error(400, message, "VALIDATION_ERROR"))


def _object_type(name: str) -> str:
    obj = _ALIASES.get(name.lower(), name.lower())
    if obj not in OBJECTS:
        raise ApiError(error(400, f"Unable to infer object type from: {name}", "VALIDATION_ERROR"))
    return obj


# ---------------------------------------------------------------------------- rendering
def _hs_strings(col: pa.ChunkedArray | pa.Array) -> list[Any]:
    """Vectorised conversion to HubSpot's all-strings property values."""
    t = col.type
    if pa.types.is_timestamp(t):
        return ts_strings(col, "ms")
    if pa.types.is_date(t):
        return pc.strftime(pc.cast(col, pa.timestamp("s")), format="%Y-%m-%d").to_pylist()
    if pa.types.is_boolean(t):
        return [None if v is None else ("true" if v else "false") for v in col.to_pylist()]
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return [None if v is None else ";".join(map(str, v)) for v in col.to_pylist()]
    if pa.types.is_null(t):
        return [None] * len(col)
    if pa.types.is_floating(t):
        return [
            None if v is None else (str(int(v)) if float(v).is_integer() else repr(v))
            for v in col.to_pylist()
        ]
    return pc.cast(col, pa.string()).to_pylist()


def _property_columns(obj: str, table: pa.Table) -> dict[str, str]:
    """Public property name -> column, including ``hs_object_id`` and modified-date aliases."""
    cols = {c: c for c in table.column_names if c not in _INTERNAL}
    cols["hs_object_id"] = "id"
    mod = MODIFIED[obj]
    if mod in table.column_names:
        cols.setdefault("hs_lastmodifieddate", mod)
        cols.setdefault("lastmodifieddate", mod)
    return cols


def _requested_props(ctx: Ctx, obj: str, explicit: list[str] | None = None) -> list[str]:
    if explicit is None:
        explicit = []
        for raw in ctx.args.getlist("properties"):
            explicit += [p.strip() for p in raw.split(",") if p.strip()]
    return explicit or DEFAULT_PROPS[obj]


def render_objects(
    obj: str,
    rows: pa.Table,
    props: list[str],
    assoc: dict[str, dict[int, list[dict[str, Any]]]] | None = None,
) -> list[dict[str, Any]]:
    """CRM objects in the v3 shape (``id``, ``properties``, ``createdAt`` …)."""
    n = rows.num_rows
    if n == 0:
        return []
    cols = _property_columns(obj, rows)
    # Unknown properties are silently ignored, as HubSpot does.
    wanted = [p for p in dict.fromkeys(props) if p in cols]
    values = {p: _hs_strings(rows.column(cols[p])) for p in wanted}
    ids = pylist(rows, "id")
    created = (
        ts_strings(column(rows, "createdate"), "ms")
        if "createdate" in rows.column_names
        else [None] * n
    )
    mod = MODIFIED[obj]
    updated = ts_strings(column(rows, mod), "ms") if mod in rows.column_names else created
    archived = pylist(rows, "archived")
    archived_at = (
        ts_strings(column(rows, "archived_at"), "ms")
        if "archived_at" in rows.column_names
        else [None] * n
    )
    out = []
    for i in range(n):
        item: dict[str, Any] = {
            "id": str(ids[i]),
            "properties": {p: values[p][i] for p in wanted},
            "createdAt": created[i],
            "updatedAt": updated[i],
            "archived": bool(archived[i]),
        }
        if archived[i]:
            item["archivedAt"] = archived_at[i]
        if assoc:
            item["associations"] = {
                to: {"results": hits[ids[i]]} for to, hits in assoc.items() if hits.get(ids[i])
            }
        out.append(item)
    return out


# ------------------------------------------------------------------------------- views
def _is_archived(t: pa.Table) -> pa.Array:
    if "archived" not in t.column_names:
        return pa.array([False] * t.num_rows)
    return pc.fill_null(t.column("archived"), False)


def active_view(snap: Snapshot, obj: str, key: str = "id") -> SortedView:
    """Non-archived objects sorted by ``key``."""
    return snap.view(
        f"crm/{obj}", key, "id", where=lambda t: t.filter(pc.invert(_is_archived(t))), tag="active"
    )


def archived_view(snap: Snapshot, obj: str) -> SortedView:
    """Archived objects sorted by id."""
    return snap.view(
        f"crm/{obj}", "id", "id", where=lambda t: t.filter(_is_archived(t)), tag="archived"
    )


# ------------------------------------------------------------------------ associations
def _norm_type(name: str) -> str:
    return _ALIASES.get(name.lower(), name.lower())


def _type_label(from_type: str, to_type: str, type_id: int | None) -> str:
    base = f"{_SINGULAR.get(from_type, from_type)}_to_{_SINGULAR.get(to_type, to_type)}"
    if type_id is not None and type_id not in _PRIMARY and type_id in _TYPE_REVERSE:
        return base + "_unlabeled"
    return base


def assoc_view(snap: Snapshot, from_type: str, to_type: str) -> SortedView:
    """Associations ``from_type -> to_type`` (stored in either direction) sorted by from id."""

    def build() -> SortedView:
        t = snap.table("crm/associations")
        if t.num_rows == 0:
            return SortedView(
                pa.table({"from_id": pa.array([], pa.int64()), "to_id": pa.array([], pa.int64())}),
                "from_id",
                "to_id",
            )
        ft = pc.utf8_lower(pc.cast(t.column("from_type"), pa.string()))
        tt = pc.utf8_lower(pc.cast(t.column("to_type"), pa.string()))
        names_from = [
            k
            for k, v in {**_ALIASES, **{o: o for o in (*OBJECTS, "campaigns")}}.items()
            if v == from_type
        ]
        names_to = [
            k
            for k, v in {**_ALIASES, **{o: o for o in (*OBJECTS, "campaigns")}}.items()
            if v == to_type
        ]
        fwd = t.filter(
            pc.and_(pc.is_in(ft, pa.array(names_from)), pc.is_in(tt, pa.array(names_to)))
        )
        rev = t.filter(
            pc.and_(pc.is_in(ft, pa.array(names_to)), pc.is_in(tt, pa.array(names_from)))
        )
        type_col = "association_type_id"
        parts = []
        if fwd.num_rows:
            parts.append(
                pa.table(
                    {
                        "from_id": fwd.column("from_id"),
                        "to_id": fwd.column("to_id"),
                        "type_id": column(fwd, type_col),
                    }
                )
            )
        if rev.num_rows:
            rtypes = [None if v is None else _TYPE_REVERSE.get(v, v) for v in pylist(rev, type_col)]
            parts.append(
                pa.table(
                    {
                        "from_id": rev.column("to_id"),
                        "to_id": rev.column("from_id"),
                        "type_id": pa.array(rtypes, pa.int64()),
                    }
                )
            )
        if not parts:
            return SortedView(
                pa.table({"from_id": pa.array([], pa.int64()), "to_id": pa.array([], pa.int64())}),
                "from_id",
                "to_id",
            )
        parts = [
            p.cast(
                pa.schema(
                    [
                        ("from_id", p.schema.field("from_id").type),
                        ("to_id", p.schema.field("to_id").type),
                        ("type_id", pa.int64()),
                    ]
                )
            )
            for p in parts
        ]
        return SortedView(pa.concat_tables(parts, promote_options="permissive"), "from_id", "to_id")

    return snap.cached(f"assoc:{from_type}:{to_type}", build)


def _assoc_rows(view: SortedView, from_id: Any) -> pa.Table:
    start, end = view.range(from_id, True, from_id, True)
    return view.table.slice(start, end - start)


def _numeric_id(v: Any) -> Any:
    """v4 answers ``toObjectId`` as a number; campaign ids (uuids) stay strings."""
    if isinstance(v, str) and v.isdigit():
        return int(v)
    return v


def _coerce_id(view: SortedView, raw: Any) -> Any:
    if view.num_rows and pa.types.is_integer(view.table.column("from_id").type):
        return int(raw)
    return str(raw)


# ---------------------------------------------------------------------------- handlers
def handle(endpoint: str, ctx: Ctx, values: dict[str, Any]) -> Response:
    """Dispatch one HubSpot request."""
    return HANDLERS[endpoint](ctx, **values)


def _limit(raw: Any, default: int, maximum: int) -> int:
    if raw in (None, ""):
        return default
    try:
        n = int(raw)
    except (TypeError, ValueError):
        raise _bad(f"Invalid limit: {raw}") from None
    if n < 1:
        raise _bad("limit must be >= 1")
    return min(n, maximum)


def _after_id(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)  # type: ignore[arg-type]
    except ValueError:
        raise _bad(f"Invalid after token: {raw}") from None


def list_objects(ctx: Ctx, obj: str) -> Response:
    """``GET /crm/v3/objects/{obj}``: id-ordered pages, ``archived=true`` → archived only."""
    obj = _object_type(obj)
    limit = _limit(ctx.args.get("limit"), 10, 100)
    after = _after_id(ctx.args.get("after"))
    archived = ctx.args.get("archived", "false").lower() == "true"
    view = archived_view(ctx.snap, obj) if archived else active_view(ctx.snap, obj)
    start = 0 if after is None else view.bound(after, "left")
    page = view.page(start, view.num_rows, limit)
    assoc = _list_associations(ctx, obj, page.rows)
    body: dict[str, Any] = {
        "results": render_objects(obj, page.rows, _requested_props(ctx, obj), assoc)
    }
    if page.has_more:
        nxt = str(int(page.rows.column("id")[-1].as_py()) + 1)
        body["paging"] = {"next": {"after": nxt, "link": ctx.url_with({"after": nxt})}}
    return json_response(body)


def _list_associations(
    ctx: Ctx, obj: str, rows: pa.Table
) -> dict[str, dict[int, list[dict[str, Any]]]]:
    out: dict[str, dict[int, list[dict[str, Any]]]] = {}
    names: list[str] = []
    for raw in ctx.args.getlist("associations"):
        names += [a.strip() for a in raw.split(",") if a.strip()]
    for name in names:
        to = _norm_type(name)
        view = assoc_view(ctx.snap, obj, to)
        hits: dict[int, list[dict[str, Any]]] = {}
        for oid in pylist(rows, "id"):
            sub = _assoc_rows(view, _coerce_id(view, oid))
            if sub.num_rows:
                hits[oid] = [
                    {"id": str(t), "type": _type_label(obj, to, ty)}
                    for t, ty in zip(pylist(sub, "to_id"), pylist(sub, "type_id"), strict=True)
                ]
        out[name] = hits
    return out


def read_object(ctx: Ctx, obj: str, object_id: str) -> Response:
    """``GET /crm/v3/objects/{obj}/{id}``."""
    obj = _object_type(obj)
    archived = ctx.args.get("archived", "false").lower() == "true"
    view = archived_view(ctx.snap, obj) if archived else active_view(ctx.snap, obj)
    try:
        rows = view.lookup([int(object_id)])
    except ValueError:
        rows = view.table.slice(0, 0)
    if rows.num_rows == 0:
        return error(404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND")
    return json_response(render_objects(obj, rows, _requested_props(ctx, obj))[0])


# -------------------------------------------------------------------------------- search
_CMP = {"GT": pc.greater, "GTE": pc.greater_equal, "LT": pc.less, "LTE": pc.less_equal}


def _coerce(col_type: pa.DataType, value: Any) -> Any:
    if pa.types.is_timestamp(col_type) or pa.types.is_date(col_type):
        try:
            return to_us(value)
        except ValueError:
            raise _bad(f"Invalid value for a datetime property: {value}") from None
    if pa.types.is_integer(col_type):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            raise _bad(f"Invalid numeric value: {value}") from None
    if pa.types.is_floating(col_type) or pa.types.is_decimal(col_type):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _bad(f"Invalid numeric value: {value}") from None
    if pa.types.is_boolean(col_type):
        return str(value).lower() == "true"
    return str(value).lower()


def _comparable(col: pa.ChunkedArray | pa.Array) -> pa.Array | pa.ChunkedArray:
    t = col.type
    if pa.types.is_timestamp(t):
        return pc.cast(pc.cast(col, pa.timestamp("us", tz="UTC")), pa.int64())
    if pa.types.is_date(t):
        return pc.cast(pc.cast(col, pa.timestamp("us")), pa.int64())
    if pa.types.is_decimal(t):
        return pc.cast(col, pa.float64())
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pc.utf8_lower(col)
    return col


def _filter_mask(obj: str, table: pa.Table, flt: dict[str, Any]) -> pa.Array:
    prop = flt.get("propertyName")
    op = str(flt.get("operator", "EQ")).upper()
    cols = _property_columns(obj, table)
    if prop not in cols:
        raise _bad(f"Property '{prop}' does not exist or cannot be used in a filter")
    raw = table.column(cols[prop])
    col = _comparable(raw)
    n = table.num_rows
    if op == "HAS_PROPERTY":
        return pc.is_valid(raw)
    if op == "NOT_HAS_PROPERTY":
        return pc.is_null(raw)
    if op in ("IN", "NOT_IN"):
        vals = [_coerce(raw.type, v) for v in flt.get("values", [])]
        m = pc.is_in(col, pa.array(vals)) if vals else pa.array([False] * n)
        return pc.fill_null(pc.invert(m) if op == "NOT_IN" else m, op == "NOT_IN")
    if op == "BETWEEN":
        lo, hi = _coerce(raw.type, flt.get("value")), _coerce(raw.type, flt.get("highValue"))
        return pc.fill_null(pc.and_(pc.greater_equal(col, lo), pc.less_equal(col, hi)), False)
    if op == "CONTAINS_TOKEN":
        token = str(flt.get("value", "")).lower().strip("*")
        return pc.fill_null(pc.match_substring(pc.cast(col, pa.string()), token), False)
    if op == "NOT_CONTAINS_TOKEN":
        token = str(flt.get("value", "")).lower().strip("*")
        return pc.fill_null(pc.invert(pc.match_substring(pc.cast(col, pa.string()), token)), True)
    value = _coerce(raw.type, flt.get("value"))
    if op == "EQ":
        return pc.fill_null(pc.equal(col, value), False)
    if op == "NEQ":
        return pc.fill_null(pc.not_equal(col, value), True)
    if op in _CMP:
        return pc.fill_null(_CMP[op](col, value), False)
    raise _bad(f"Unsupported operator: {op}")


def _search_predicate(
    obj: str, groups: list[dict[str, Any]]
) -> Callable[[pa.Table], pa.Array] | None:
    if not groups:
        return None
    if len(groups) > 5 or sum(len(g.get("filters", [])) for g in groups) > 25:
        raise _bad("Too many filter groups or filters (max 5 groups, 25 filters)")

    def predicate(table: pa.Table) -> pa.Array:
        result = None
        for g in groups:
            mask = None
            for f in g.get("filters", []):
                m = _filter_mask(obj, table, f)
                mask = m if mask is None else pc.and_(mask, m)
            if mask is None:
                mask = pa.array([True] * table.num_rows)
            result = mask if result is None else pc.or_(result, mask)
        return result  # type: ignore[return-value]

    return predicate


def search(ctx: Ctx, obj: str) -> Response:
    """``POST /crm/v3/objects/{obj}/search``: offset paging capped at 10,000 results."""
    obj = _object_type(obj)
    body = ctx.json_body()
    if not isinstance(body, dict):
        raise _bad("Invalid input JSON on line 1")
    limit = _limit(body.get("limit"), 10, 200)
    if body.get("limit") not in (None, "") and int(body["limit"]) > 200:
        raise _bad("limit must be <= 200")
    try:
        after = int(body.get("after") or 0)
    except (TypeError, ValueError):
        raise _bad(f"Invalid after: {body.get('after')}") from None
    if after >= SEARCH_CAP:
        # HubSpot refuses to page past 10,000 results; clients must narrow the filter instead.
        raise ApiError(
            error(
                400,
                "The search API returns at most 10000 results per query; narrow the filter "
                "(e.g. move the lastmodifieddate window) to read further.",
                "VALIDATION_ERROR",
            )
        )
    sorts = body.get("sorts") or []
    sort_prop, descending = "hs_object_id", False
    if sorts:
        s = sorts[0]
        if isinstance(s, str):
            descending = s.startswith("-")
            sort_prop = s.lstrip("-")
        else:
            sort_prop = s.get("propertyName", "hs_object_id")
            descending = str(s.get("direction", "ASCENDING")).upper().startswith("DESC")
    probe = active_view(ctx.snap, obj).table
    cols = _property_columns(obj, probe)
    if sort_prop not in cols:
        raise _bad(f"Property '{sort_prop}' does not exist and cannot be used to sort")
    view = active_view(ctx.snap, obj, cols[sort_prop])
    groups = body.get("filterGroups") or []
    start, end = 0, view.num_rows
    # Fast path: a single group whose filters are ranges on the sort key → binary search.
    residual = groups
    if len(groups) == 1:
        rest = []
        for f in groups[0].get("filters", []):
            op = str(f.get("operator", "")).upper()
            if cols.get(f.get("propertyName")) == view.key and op in _CMP:
                v = _coerce(view.table.column(view.key).type, f.get("value"))
                if isinstance(v, str):
                    rest.append(f)
                    continue
                s, e = view.range(
                    lo=v if op in ("GT", "GTE") else None,
                    lo_incl=op == "GTE",
                    hi=v if op in ("LT", "LTE") else None,
                    hi_incl=op == "LTE",
                )
                start, end = max(start, s), min(end, e)
            else:
                rest.append(f)
        residual = [{"filters": rest}] if rest else []
    end = max(start, end)
    predicate = _search_predicate(obj, residual)
    want = min(limit, SEARCH_CAP - after)
    page = _offset_page(view, start, end, after, want, descending, predicate)
    out: dict[str, Any] = {
        "total": page.total,
        "results": render_objects(
            obj, page.rows, _requested_props(ctx, obj, body.get("properties") or None)
        ),
    }
    if after + page.rows.num_rows < (page.total or 0):
        out["paging"] = {"next": {"after": str(after + page.rows.num_rows)}}
    return json_response(out)


def _offset_page(
    view: SortedView,
    start: int,
    end: int,
    offset: int,
    limit: int,
    descending: bool,
    predicate: Callable[[pa.Table], pa.Array] | None,
) -> Page:
    if predicate is None:
        total = end - start
        if descending:
            hi = max(start, end - offset)
            lo = max(start, hi - limit)
            rows = view.table.slice(lo, hi - lo)
            rows = rows.take(pa.array(list(range(rows.num_rows - 1, -1, -1)), pa.int64()))
        else:
            lo = min(end, start + offset)
            rows = view.table.slice(lo, min(limit, end - lo))
        return Page(rows, False, total)
    mask = predicate(view.table.slice(start, end - start))
    idx = pc.indices_nonzero(mask).to_numpy() + start
    total = len(idx)
    if descending:
        idx = idx[::-1]
    chosen = idx[offset : offset + limit]
    return Page(view.table.take(pa.array(chosen, pa.int64())), False, total)


# ------------------------------------------------------------------ properties/pipelines
def _hs_type(t: pa.DataType) -> tuple[str, str]:
    if pa.types.is_timestamp(t):
        return "datetime", "date"
    if pa.types.is_date(t):
        return "date", "date"
    if pa.types.is_boolean(t):
        return "bool", "booleancheckbox"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number", "number"
    return "string", "text"


def properties(ctx: Ctx, obj: str) -> Response:
    """``GET /crm/v3/properties/{obj}``: property definitions derived from the world schema."""
    obj = _object_type(obj)
    table = ctx.snap.table(f"crm/{obj}")
    cols = _property_columns(obj, table)
    results = []
    for name, col in sorted(cols.items()):
        typ, field_type = (
            _hs_type(table.schema.field(col).type)
            if col in table.column_names
            else ("string", "text")
        )
        results.append(
            {
                "name": name,
                "label": name.replace("_", " ").title(),
                "type": typ,
                "fieldType": field_type,
                "groupName": f"{_SINGULAR[obj]}information",
                "description": "",
                "options": [],
                "hidden": False,
                "calculated": False,
                "hasUniqueValue": name == "hs_object_id",
                "modificationMetadata": {
                    "archivable": True,
                    "readOnlyDefinition": True,
                    "readOnlyValue": False,
                },
            }
        )
    return json_response({"results": results})


_STAGES = [
    ("appointmentscheduled", "Appointment Scheduled", "0.2"),
    ("qualifiedtobuy", "Qualified To Buy", "0.4"),
    ("presentationscheduled", "Presentation Scheduled", "0.6"),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"),
    ("contractsent", "Contract Sent", "0.9"),
    ("closedwon", "Closed Won", "1.0"),
    ("closedlost", "Closed Lost", "0.0"),
]


def pipelines(ctx: Ctx) -> Response:
    """``GET /crm/v3/pipelines/deals``: the single default pipeline the world uses."""
    start = ctx.snap.manifest.get("start", "2024-01-01T00:00:00Z")
    stages = [
        {
            "id": sid,
            "label": label,
            "displayOrder": i,
            "metadata": {
                "isClosed": "true" if sid.startswith("closed") else "false",
                "probability": p,
            },
            "createdAt": start,
            "updatedAt": start,
            "archived": False,
        }
        for i, (sid, label, p) in enumerate(_STAGES)
    ]
    pipeline = {
        "id": "default",
        "label": "Sales Pipeline",
        "displayOrder": 0,
        "stages": stages,
        "createdAt": start,
        "updatedAt": start,
        "archived": False,
    }
    return json_response({"results": [pipeline]})


# ------------------------------------------------------------------------------- owners
def owners(ctx: Ctx) -> Response:
    """``GET /crm/v3/owners``: owners with their region as team."""
    limit = _limit(ctx.args.get("limit"), 100, 500)
    after = _after_id(ctx.args.get("after"))
    want_archived = ctx.args.get("archived", "false").lower() == "true"

    def where(t: pa.Table) -> pa.Table:
        arch = _is_archived(t)
        return t.filter(arch if want_archived else pc.invert(arch))

    view = ctx.snap.view("crm/owners", "id", "id", where=where, tag=f"arch={want_archived}")
    start = 0 if after is None else view.bound(after, "left")
    page = view.page(start, view.num_rows, limit)
    rows = page.rows
    created = ts_strings(column(rows, "createdAt"), "ms")
    updated = ts_strings(column(rows, "updatedAt"), "ms")
    results = []
    for i, (oid, email, first, last, region) in enumerate(
        zip(
            pylist(rows, "id"),
            pylist(rows, "email"),
            pylist(rows, "firstName"),
            pylist(rows, "lastName"),
            pylist(rows, "region"),
            strict=True,
        )
    ):
        results.append(
            {
                "id": str(oid),
                "email": email,
                "type": "PERSON",
                "firstName": first,
                "lastName": last,
                "userId": oid,
                "userIdIncludingInactive": oid,
                "createdAt": created[i],
                "updatedAt": updated[i],
                "archived": want_archived,
                "teams": [
                    {"id": TEAM_IDS.get(region or "", "5000"), "name": region, "primary": True}
                ]
                if region
                else [],
            }
        )
    body: dict[str, Any] = {"results": results}
    if page.has_more:
        nxt = str(int(rows.column("id")[-1].as_py()) + 1)
        body["paging"] = {"next": {"after": nxt, "link": ctx.url_with({"after": nxt})}}
    return json_response(body)


# ----------------------------------------------------------------------------- campaigns
def _campaign_value(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d")
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _render_campaigns(rows: pa.Table, props: list[str]) -> list[dict[str, Any]]:
    created = ts_strings(column(rows, "createdAt"), "ms")
    updated = ts_strings(column(rows, "updatedAt"), "ms")
    present = [
        p
        for p in props
        if p in rows.column_names and p not in ("id", "createdAt", "updatedAt", "__k")
    ]
    vals = {p: pylist(rows, p) for p in present}
    out = []
    for i, cid in enumerate(pylist(rows, "id")):
        # HubSpot omits requested properties that are empty on a campaign.
        out.append(
            {
                "id": str(cid),
                "properties": {
                    p: _campaign_value(vals[p][i]) for p in present if vals[p][i] is not None
                },
                "createdAt": created[i],
                "updatedAt": updated[i],
                "businessUnits": [{"id": 0}],
            }
        )
    return out


def campaigns(ctx: Ctx) -> Response:
    """``GET /marketing/v3/campaigns``: id-ordered pages; ``properties`` chooses the values."""
    limit = _limit(ctx.args.get("limit"), 50, 100)
    props: list[str] = []
    for raw in ctx.args.getlist("properties"):
        props += [p.strip() for p in raw.split(",") if p.strip()]
    view = ctx.snap.view("crm/campaigns", "id", None)
    start = 0
    token = ctx.args.get("after")
    if token:
        start = view.bound(token, "right")
    page = view.page(start, view.num_rows, limit)
    body: dict[str, Any] = {"total": view.num_rows, "results": _render_campaigns(page.rows, props)}
    if page.has_more:
        nxt = str(page.rows.column("id")[-1].as_py())
        body["paging"] = {"next": {"after": nxt, "link": ctx.url_with({"after": nxt})}}
    return json_response(body)


def campaign(ctx: Ctx, campaign_id: str) -> Response:
    """``GET /marketing/v3/campaigns/{campaignGuid}``."""
    props: list[str] = []
    for raw in ctx.args.getlist("properties"):
        props += [p.strip() for p in raw.split(",") if p.strip()]
    rows = ctx.snap.view("crm/campaigns", "id", None).lookup([campaign_id])
    if rows.num_rows == 0:
        return error(404, f"Campaign {campaign_id} not found", "OBJECT_NOT_FOUND")
    return json_response(_render_campaigns(rows, props)[0])


# --------------------------------------------------------------------- v4 associations
def assoc_batch_read(ctx: Ctx, from_type: str, to_type: str) -> Response:
    """``POST /crm/v4/associations/{from}/{to}/batch/read`` (≤ 1000 inputs)."""
    ft, tt = _norm_type(from_type), _norm_type(to_type)
    known = (*OBJECTS, "campaigns")
    if ft not in known or tt not in known:
        raise _bad(f"Unknown object type: {from_type if ft not in known else to_type}")
    body = ctx.json_body()
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise _bad("Invalid input JSON: 'inputs' is required")
    if len(inputs) > 1000:
        raise _bad("Batch input size exceeds the maximum of 1000")
    started = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    view = assoc_view(ctx.snap, ft, tt)
    results, errors = [], []
    for item in inputs:
        raw = item.get("id") if isinstance(item, dict) else None
        try:
            key = _coerce_id(view, raw)
        except (TypeError, ValueError):
            key = None
        sub = _assoc_rows(view, key) if key is not None else None
        if sub is None or sub.num_rows == 0:
            errors.append(
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                    "message": f"No {_SINGULAR.get(tt, tt)} is associated with {_SINGULAR.get(ft, ft)} {raw}.",
                    "context": {"fromObjectId": [str(raw)], "toObjectType": [tt]},
                }
            )
            continue
        to = [
            {
                "toObjectId": _numeric_id(t),
                "associationTypes": [
                    {
                        # Ids HubSpot does not define (e.g. the world's contact→campaign
                        # membership type) are custom labels in a real portal.
                        "category": "HUBSPOT_DEFINED" if ty in _TYPE_REVERSE else "USER_DEFINED",
                        "typeId": ty,
                        "label": "Primary" if ty in _PRIMARY else None,
                    }
                ],
            }
            for t, ty in zip(pylist(sub, "to_id"), pylist(sub, "type_id"), strict=True)
        ]
        results.append({"from": {"id": str(raw)}, "to": to})
    completed = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    out: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": completed,
    }
    if errors:
        out["numErrors"] = len(errors)
        out["errors"] = errors
        return json_response(out, 207)
    return json_response(out)


HANDLERS: dict[str, Callable[..., Response]] = {
    "list": list_objects,
    "search": search,
    "read": read_object,
    "properties": properties,
    "pipelines": pipelines,
    "owners": owners,
    "campaigns": campaigns,
    "campaign": campaign,
    "assoc_batch_read": assoc_batch_read,
}
