"""The vendor emulator over real HTTP: paging, incremental filters, auth, limits, faults."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import requests

from sandbox.emulator import EmulatorThread, FaultConfig
from tests.sandbox.emulator_auth import HUBSPOT, KLAVIYO, ZENDESK

pytestmark = pytest.mark.timeout(120)


# ----------------------------------------------------------------------------- helpers
def _table(world: Path, name: str) -> Any:
    return pq.read_table(world / f"{name}.parquet")


def _as_of(world: Path) -> datetime:
    return datetime.fromisoformat(
        json.loads((world / "world.json").read_text())["as_of"].replace("Z", "+00:00")
    )


def _ids(world: Path, name: str, *, archived: bool | None = None) -> set[Any]:
    t = _table(world, name)
    if archived is not None and "archived" in t.column_names:
        mask = pc.fill_null(t.column("archived"), False)
        t = t.filter(mask if archived else pc.invert(mask))
    return set(t.column("id").to_pylist())


def _hubspot_sweep(
    http: requests.Session, url: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    r = http.get(url, params=params, headers=HUBSPOT)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["results"]
        nxt = body.get("paging", {}).get("next")
        if not nxt:
            return out
        assert nxt["link"].startswith("http://127.0.0.1:")
        r = http.get(nxt["link"], headers=HUBSPOT)


def _klaviyo_sweep(
    http: requests.Session, url: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    r = http.get(url, params=params, headers=KLAVIYO)
    while True:
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("application/vnd.api+json")
        body = r.json()
        out += body["data"]
        if not body["links"]["next"]:
            return out
        r = http.get(body["links"]["next"], headers=KLAVIYO)


def _once(items: list[Any]) -> set[Any]:
    assert len(items) == len(set(items)), "a row was served twice"
    return set(items)


# ----------------------------------------------------------------------------- hubspot
@pytest.mark.parametrize("obj", ["contacts", "companies", "deals"])
def test_hubspot_list_serves_every_active_row_once(
    emulator: EmulatorThread, world_dir: Path, http: requests.Session, obj: str
) -> None:
    rows = _hubspot_sweep(http, f"{emulator.url}/hubspot/crm/v3/objects/{obj}", {"limit": 37})
    assert _once([int(r["id"]) for r in rows]) == _ids(world_dir, f"crm/{obj}", archived=False)
    assert all(r["archived"] is False and r["createdAt"].endswith("Z") for r in rows)
    # Every property value is a string (or null), as HubSpot sends them.
    assert all(v is None or isinstance(v, str) for r in rows for v in r["properties"].values())
    assert all(r["properties"]["hs_object_id"] == r["id"] for r in rows)


def test_hubspot_archived_true_returns_only_archived(
    emulator: EmulatorThread, world_dir: Path, http: requests.Session
) -> None:
    rows = _hubspot_sweep(
        http, f"{emulator.url}/hubspot/crm/v3/objects/contacts", {"archived": "true", "limit": 100}
    )
    assert _once([int(r["id"]) for r in rows]) == _ids(world_dir, "crm/contacts", archived=True)
    assert all(r["archived"] is True and r["archivedAt"] for r in rows)


def test_hubspot_properties_and_associations_params(
    emulator: EmulatorThread, http: requests.Session
) -> None:
    r = http.get(
        f"{emulator.url}/hubspot/crm/v3/objects/contacts",
        params={
            "limit": 5,
            "properties": "email,country,no_such_prop",
            "associations": "companies",
        },
        headers=HUBSPOT,
    )
    body = r.json()
    assert r.status_code == 200
    assert set(body["results"][0]["properties"]) == {"email", "country"}
    with_company = [c for c in body["results"] if "companies" in c.get("associations", {})]
    assert with_company, "the sandbox links contacts to companies"
    assert with_company[0]["associations"]["companies"]["results"][0]["type"].startswith(
        "contact_to_company"
    )
    assert r.headers["X-HubSpot-RateLimit-Max"]
    assert r.headers["X-HubSpot-RateLimit-Remaining"]
    assert r.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"


def _search(http: requests.Session, url: str, body: dict[str, Any]) -> requests.Response:
    return http.post(url, json=body, headers=HUBSPOT)


def test_hubspot_search_returns_only_changed_rows(
    emulator: EmulatorThread, world_dir: Path, http: requests.Session
) -> None:
    t = _table(world_dir, "crm/contacts")
    active = t.filter(pc.invert(pc.fill_null(t.column("archived"), False)))
    stamps = sorted(active.column("lastmodifieddate").to_pylist())
    since = stamps[len(stamps) // 2]
    expected = {
        i
        for i, m in zip(
            active.column("id").to_pylist(),
            active.column("lastmodifieddate").to_pylist(),
            strict=True,
        )
        if m >= since
    }
    url = f"{emulator.url}/hubspot/crm/v3/objects/contacts/search"
    body: dict[str, Any] = {
        "filterGroups": [
            {
                "filters": [
                    {
                        "propertyName": "lastmodifieddate",
                        "operator": "GTE",
                        "value": str(int(since.timestamp() * 1000)),
                    }
                ]
            }
        ],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["email", "lastmodifieddate"],
        "limit": 50,
    }
    got: list[int] = []
    last = ""
    while True:
        r = _search(http, url, body)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == len(expected)
        for res in page["results"]:
            assert res["properties"]["lastmodifieddate"] >= last  # ascending
            last = res["properties"]["lastmodifieddate"]
        got += [int(x["id"]) for x in page["results"]]
        if "paging" not in page:
            break
        body["after"] = page["paging"]["next"]["after"]
    assert _once(got) == expected


def test_hubspot_search_caps_at_10000_and_window_requery_reads_all(
    big_world: Path, http: requests.Session
) -> None:
    with EmulatorThread(big_world, faults=FaultConfig(rate_limit_scale=10_000)) as emu:
        url = f"{emu.url}/hubspot/crm/v3/objects/contacts/search"
        expected = _ids(big_world, "crm/contacts", archived=False)
        assert len(expected) > 10_000
        seen: set[int] = set()
        since, capped = 0, False
        while True:
            body: dict[str, Any] = {
                "filterGroups": [
                    {
                        "filters": [
                            {
                                "propertyName": "lastmodifieddate",
                                "operator": "GTE",
                                "value": str(since),
                            }
                        ]
                    }
                ],
                "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
                "properties": ["lastmodifieddate"],
                "limit": 200,
            }
            last_ms = since
            while True:
                r = _search(http, url, body)
                if r.status_code == 400:
                    err = r.json()
                    assert err["status"] == "error"
                    assert err["category"] == "VALIDATION_ERROR"
                    assert int(body["after"]) >= 10_000
                    capped = True
                    break
                assert r.status_code == 200, r.text
                page = r.json()
                for res in page["results"]:
                    seen.add(int(res["id"]))
                    ts = datetime.fromisoformat(
                        res["properties"]["lastmodifieddate"].replace("Z", "+00:00")
                    )
                    last_ms = int(ts.timestamp() * 1000)
                if "paging" not in page:
                    break
                body["after"] = page["paging"]["next"]["after"]
            if r.status_code == 200:
                break
            # Move the window to the last seen modification time (GTE keeps ties; ids dedupe).
            assert last_ms > since
            since = last_ms
        assert capped, "the first query must have hit the 10,000 cap"
        assert seen == expected


def test_hubspot_search_is_limited_separately(
    fresh_emulator: EmulatorThread, http: requests.Session
) -> None:
    fresh_emulator.set_faults(rate_limit_scale=1.0)
    url = f"{fresh_emulator.url}/hubspot/crm/v3/objects/contacts/search"
    statuses = [_search(http, url, {"limit": 1}).status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5
    assert 429 in statuses[5:]
    r = _search(http, url, {"limit": 1})
    if r.status_code == 429:
        assert r.json()["policyName"] == "SECONDLY"
        assert int(r.headers["Retry-After"]) >= 1
    # The list endpoints still have their own (burst) budget.
    assert (
        http.get(
            f"{fresh_emulator.url}/hubspot/crm/v3/objects/contacts", headers=HUBSPOT
        ).status_code
        == 200
    )


def test_hubspot_v4_association_batch_read(
    emulator: EmulatorThread, world_dir: Path, http: requests.Session
) -> None:
    assoc = _table(world_dir, "crm/associations").to_pylist()
    pairs = {
        (str(a["from_id"]), str(a["to_id"]))
        for a in assoc
        if a["from_type"] in ("deals", "deal") and a["to_type"] in ("contacts", "contact")
    }
    deal_ids = sorted({f for f, _ in pairs})[:40]
    r = http.post(
        f"{emulator.url}/hubspot/crm/v4/associations/deals/contacts/batch/read",
        json={"inputs": [{"id": d} for d in deal_ids]},
        headers=HUBSPOT,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "COMPLETE"
    got = {
        (res["from"]["id"], str(to["toObjectId"])) for res in body["results"] for to in res["to"]
    }
    assert got == {p for p in pairs if p[0] in deal_ids}
    # The reverse direction is served from the same rows.
    contact = next(iter(got))[1]
    r = http.post(
        f"{emulator.url}/hubspot/crm/v4/associations/contacts/deals/batch/read",
        json={"inputs": [{"id": contact}, {"id": "999999999"}]},
        headers=HUBSPOT,
    )
    assert r.status_code == 207
    body = r.json()
    assert {str(t["toObjectId"]) for t in body["results"][0]["to"]} == {
        f for f, c in pairs if c == contact
    }
    assert body["numErrors"] == 1
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    too_many = http.post(
        f"{emulator.url}/hubspot/crm/v4/associations/deals/contacts/batch/read",
        json={"inputs": [{"id": str(i)} for i in range(1001)]},
        headers=HUBSPOT,
    )
    assert too_many.status_code == 400


def test_hubspot_owners_and_campaigns(
    emulator: EmulatorThread, world_dir: Path, http: requests.Session
) -> None:
    owners = _hubspot_sweep(http, f"{emulator.url}/hubspot/crm/v3/owners", {"limit": 2})
    assert _once([int(o["id"]) for o in owners]) == _ids(world_dir, "crm/owners", archived=False)
    assert all(o["teams"] and o["teams"][0]["name"] in ("CZ", "SK", "PL") for o in owners)
    camps = _hubspot_sweep(
        http,
        f"{emulator.url}/hubspot/marketing/v3/campaigns",
        {
            "limit": 1,
            "properties": "hs_name,hs_start_date,hs_end_date,hs_budget_items_sum_amount,hs_currency_code",
        },
    )
    assert _once([c["id"] for c in camps]) == _ids(world_dir, "crm/campaigns")
    assert all(
        "hs_name" in c["properties"] and isinstance(c["properties"]["hs_name"], str) for c in camps
    )


def test_hubspot_auth_failures(emulator: EmulatorThread, http: requests.Session) -> None:
    url = f"{emulator.url}/hubspot/crm/v3/objects/contacts"
    missing = http.get(url)
    assert missing.status_code == 401
    assert missing.json()["category"] == "INVALID_AUTHENTICATION"
    wrong = http.get(url, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["status"] == "error"
    noscope = http.get(url, headers={"Authorization": "Bearer pat-sandbox-noscope"})
    assert noscope.status_code == 403
    assert noscope.json()["category"] == "MISSING_SCOPES"


# ----------------------------------------------------------------------------- klaviyo
def test_klaviyo_profiles_follow_links_next(
    emulator: EmulatorThread, world_dir: Path, http: requests.Session
) -> None:
    rows = _klaviyo_sweep(http, f"{emulator.url}/klaviyo/api/profiles", {"page[size]": 33})
    assert _once([p["id"] for p in rows]) == _ids(world_dir, "esp/profiles")
    assert all(p["type"] == "profile" and "subscriptions" not in p["attributes"] for p in rows)


def test_klaviyo_profiles_incremental_filter_and_subscriptions(
    emulator: EmulatorThread, world_dir: Path, http: requests.Session
) -> None:
    t = _table(world_dir, "esp/profiles").to_pylist()
    since = sorted(p["updated"] for p in t)[len(t) // 3]
    expected = {p["id"] for p in t if p["updated"] > since}
    iso = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rows = _klaviyo_sweep(
        http,
        f"{emulator.url}/klaviyo/api/profiles",
        {
            "filter": f"greater-than(updated,{iso})",
            "sort": "updated",
            "page[size]": 100,
            "additional-fields[profile]": "subscriptions",
        },
    )
    assert _once([p["id"] for p in rows]) == expected
    updated = [p["attributes"]["updated"] for p in rows]
    assert updated == sorted(updated)
    consent = rows[0]["attributes"]["subscriptions"]["email"]["marketing"]["consent"]
    assert consent in ("SUBSCRIBED", "UNSUBSCRIBED", "NEVER_SUBSCRIBED")
    desc = _klaviyo_sweep(
        http,
        f"{emulator.url}/klaviyo/api/profiles",
        {"filter": f"greater-than(updated,{iso})", "sort": "-updated", "page[size]": 50},
    )
    assert [p["id"] for p in desc] == [p["id"] for p in reversed(rows)] or {
        p["id"] for p in desc
    } == expected
    bad = http.get(
        f"{emulator.url}/klaviyo/api/profiles",
        params={"filter": f"greater-or-equal(updated,{iso})"},
        headers=KLAVIYO,
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "invalid"


def test_klaviyo_events_sweep_with_timestamp_ties(
    edge_emulator: EmulatorThread, edge_world: Path, http: requests.Session
) -> None:
    # Page size 7 splits the run of 40 identical timestamps across pages: the cursor must
    # break ties by id, or rows would repeat or vanish.
    tie = "2025-06-01T11:59:59Z"
    t = _table(edge_world, "esp/events").to_pylist()
    cutoff = datetime(2025, 6, 1, 11, 59, 59, tzinfo=UTC)
    expected = {e["id"] for e in t if e["datetime"] >= cutoff}
    rows = _klaviyo_sweep(
        http,
        f"{edge_emulator.url}/klaviyo/api/events",
        {"filter": f"greater-or-equal(datetime,{tie})", "sort": "datetime", "page[size]": 7},
    )
    assert _once([e["id"] for e in rows]) == expected
    e = rows[0]
    assert e["relationships"]["profile"]["data"]["type"] == "profile"
    assert e["relationships"]["metric"]["data"]["type"] == "metric"
    assert isinstance(e["attributes"]["timestamp"], int)
    assert e["attributes"]["uuid"]
    full = _klaviyo_sweep(http, f"{edge_emulator.url}/klaviyo/api/events", {"page[size]": 1000})
    assert _once([x["id"] for x in full]) == {x["id"] for x in t}
    both = _klaviyo_sweep(
        http,
        f"{edge_emulator.url}/klaviyo/api/events",
        {
            "filter": f"and(greater-or-equal(datetime,{tie}),less-than(datetime,2025-07-01T00:00:00Z))",
            "page[size]": 200,
        },
    )
    assert {x["id"] for x in both} == {
        x["id"] for x in t if cutoff <= x["datetime"] < datetime(2025, 7, 1, tzinfo=UTC)
    }


def test_klaviyo_list_members_metrics_lists_flows_campaigns(
    emulator: EmulatorThread, world_dir: Path, http: requests.Session
) -> None:
    # Only memberships that exist at as_of are served (the world's clock).
    as_of = _as_of(world_dir)
    members = [
        m for m in _table(world_dir, "esp/list_members").to_pylist() if m["joined_at"] <= as_of
    ]
    lists = _klaviyo_sweep(http, f"{emulator.url}/klaviyo/api/lists")
    assert {x["id"] for x in lists} == _ids(world_dir, "esp/lists")
    for lst in lists:
        rows = _klaviyo_sweep(
            http, f"{emulator.url}/klaviyo/api/lists/{lst['id']}/profiles", {"page[size]": 100}
        )
        assert _once([p["id"] for p in rows]) == {
            m["profile_id"] for m in members if m["list_id"] == lst["id"]
        }
        assert all(p["attributes"]["joined_group_at"] for p in rows)
    metrics = _klaviyo_sweep(http, f"{emulator.url}/klaviyo/api/metrics")
    assert {m["id"] for m in metrics} == _ids(world_dir, "esp/metrics")
    flows = _klaviyo_sweep(http, f"{emulator.url}/klaviyo/api/flows", {"page[size]": 1})
    assert {f["id"] for f in flows} == _ids(world_dir, "esp/flows")
    no_filter = http.get(f"{emulator.url}/klaviyo/api/campaigns", headers=KLAVIYO)
    assert no_filter.status_code == 400
    assert "messages.channel" in no_filter.json()["errors"][0]["detail"]
    camps = _klaviyo_sweep(
        http,
        f"{emulator.url}/klaviyo/api/campaigns",
        {"filter": "equals(messages.channel,'email')"},
    )
    assert {c["id"] for c in camps} == _ids(world_dir, "esp/campaigns")


def test_klaviyo_auth_and_revision(emulator: EmulatorThread, http: requests.Session) -> None:
    url = f"{emulator.url}/klaviyo/api/profiles"
    no_rev = http.get(url, headers={"Authorization": KLAVIYO["Authorization"]})
    assert no_rev.status_code == 400
    assert no_rev.json()["errors"][0]["code"] == "invalid"
    assert "revision" in no_rev.json()["errors"][0]["detail"]
    no_key = http.get(url, headers={"revision": "2026-07-15"})
    assert no_key.status_code == 401
    assert no_key.json()["errors"][0]["code"] == "not_authenticated"
    bad = http.get(
        url, headers={"revision": "2026-07-15", "Authorization": "Klaviyo-API-Key pk_wrong"}
    )
    assert bad.status_code == 401
    noscope = http.get(
        url,
        headers={"revision": "2026-07-15", "Authorization": "Klaviyo-API-Key pk_sandbox_noscope"},
    )
    assert noscope.status_code == 403
    assert noscope.json()["errors"][0]["code"] == "permission_denied"
    ok = http.get(url, headers=KLAVIYO)
    assert ok.headers["RateLimit-Limit"]
    assert ok.headers["RateLimit-Remaining"]


# ----------------------------------------------------------------------------- zendesk
def _zendesk_cursor_sweep(
    http: requests.Session, url: str, key: str, start_time: int, **params: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    out: list[dict[str, Any]] = []
    r = http.get(url, params={"start_time": start_time, **params}, headers=ZENDESK)
    pages = 0
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        out += body[key]
        pages += 1
        assert pages < 1000, "pagination did not terminate"
        assert body["after_cursor"], "Zendesk always hands out an after_cursor"
        if body["end_of_stream"]:
            return out, body
        # Like dlt, re-send start_time with the cursor: the cursor must win.
        r = http.get(
            url,
            params={"start_time": start_time, "cursor": body["after_cursor"], **params},
            headers=ZENDESK,
        )


def test_zendesk_ticket_cursor_export(
    edge_emulator: EmulatorThread, edge_world: Path, http: requests.Session
) -> None:
    url = f"{edge_emulator.url}/zendesk/api/v2/incremental/tickets/cursor.json"
    t = _table(edge_world, "helpdesk/tickets").to_pylist()
    horizon = _as_of(edge_world) - timedelta(minutes=1)
    visible = {x["id"] for x in t if x["updated_at"] <= horizon}
    assert len(visible) < len(t), "the edge world has a ticket changed in the last minute"
    rows, last = _zendesk_cursor_sweep(http, url, "tickets", 0, per_page=50, include="metric_sets")
    assert _once([x["id"] for x in rows]) == visible
    assert any(x["status"] == "deleted" for x in rows)
    # At the end of the stream the cursor is still there; following it yields nothing new.
    again = http.get(url, params={"cursor": last["after_cursor"]}, headers=ZENDESK).json()
    assert again["tickets"] == []
    assert again["end_of_stream"] is True
    assert again["after_cursor"]
    r = http.get(
        url, params={"start_time": 0, "per_page": 5, "include": "metric_sets"}, headers=ZENDESK
    ).json()
    ms = {m["ticket_id"]: m for m in r["metric_sets"]}
    first = next(x for x in r["tickets"] if x["status"] != "deleted")
    assert ms[first["id"]]["reply_time_in_seconds"]["calendar"] == 37 * 60 + 5
    no_deleted, _ = _zendesk_cursor_sweep(
        http, url, "tickets", 0, per_page=1000, exclude_deleted="true"
    )
    assert {x["id"] for x in no_deleted} == {
        x["id"] for x in t if x["updated_at"] <= horizon and x["status"] != "deleted"
    }


def test_zendesk_incremental_start_time_returns_only_changed(
    emulator: EmulatorThread, world_dir: Path, http: requests.Session
) -> None:
    for table in ("tickets", "users"):
        t = _table(world_dir, f"helpdesk/{table}").to_pylist()
        horizon = _as_of(world_dir) - timedelta(minutes=1)
        stamps = sorted(x["updated_at"] for x in t)
        since = int(stamps[len(stamps) // 2].timestamp())
        expected = {
            x["id"]
            for x in t
            if int(x["updated_at"].timestamp()) >= since and x["updated_at"] <= horizon
        }
        rows, _ = _zendesk_cursor_sweep(
            http,
            f"{emulator.url}/zendesk/api/v2/incremental/{table}/cursor.json",
            table,
            since,
            per_page=40,
        )
        assert _once([x["id"] for x in rows]) == expected


def test_zendesk_satisfaction_ratings_cursor_pagination(
    emulator: EmulatorThread, world_dir: Path, http: requests.Session
) -> None:
    url = f"{emulator.url}/zendesk/api/v2/satisfaction_ratings"
    got: list[int] = []
    r = http.get(url, params={"page[size]": 30}, headers=ZENDESK)
    while True:
        body = r.json()
        got += [x["id"] for x in body["satisfaction_ratings"]]
        if not body["meta"]["has_more"]:
            assert body["links"]["next"] is None
            break
        r = http.get(body["links"]["next"], headers=ZENDESK)
    assert _once(got) == _ids(world_dir, "helpdesk/satisfaction_ratings")
    t = _table(world_dir, "helpdesk/satisfaction_ratings").to_pylist()
    since = int(sorted(x["updated_at"] for x in t)[len(t) // 2].timestamp())
    body = http.get(url, params={"page[size]": 100, "start_time": since}, headers=ZENDESK).json()
    assert {x["id"] for x in body["satisfaction_ratings"]} <= {
        x["id"] for x in t if x["updated_at"].timestamp() >= since
    }
    assert http.get(url, params={"page[size]": 101}, headers=ZENDESK).status_code == 400


def test_zendesk_nps_time_based_export(
    emulator: EmulatorThread, world_dir: Path, http: requests.Session
) -> None:
    url = f"{emulator.url}/zendesk/api/v2/nps/incremental/responses.json"
    seen: set[int] = set()
    r = http.get(url, params={"start_time": 0}, headers=ZENDESK)
    for _ in range(100):
        body = r.json()
        seen |= {x["id"] for x in body["responses"]}
        if body["end_of_stream"]:
            break
        r = http.get(body["next_page"], headers=ZENDESK)
    horizon = _as_of(world_dir) - timedelta(minutes=1)
    assert seen == {
        x["id"]
        for x in _table(world_dir, "helpdesk/nps_responses").to_pylist()
        if x["updated_at"] <= horizon
    }
    assert all(0 <= x["rating"] <= 10 for x in body["responses"])


def test_zendesk_auth_failures(emulator: EmulatorThread, http: requests.Session) -> None:
    url = f"{emulator.url}/zendesk/api/v2/incremental/users/cursor.json?start_time=0"
    assert http.get(url).status_code == 401
    assert http.get(url).json() == {"error": "Couldn't authenticate you"}
    assert (
        http.get(url, headers={"Authorization": "Bearer sandbox-helpdesk-token"}).status_code == 200
    )
    import base64

    enduser = (
        "Basic "
        + base64.b64encode(b"enduser@closedloop.test/token:sandbox-helpdesk-token").decode()
    )
    forbidden = http.get(url, headers={"Authorization": enduser})
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == "Forbidden"


# ---------------------------------------------------------------------- limits & faults
def test_429_with_retry_after_under_tight_limits(
    fresh_emulator: EmulatorThread, http: requests.Session
) -> None:
    fresh_emulator.set_faults(rate_limit_scale=0.05)  # HubSpot 5 / 10 s, Zendesk exports 1 / min
    u = fresh_emulator.url
    hs = [http.get(f"{u}/hubspot/crm/v3/objects/contacts", headers=HUBSPOT) for _ in range(7)]
    assert [r.status_code for r in hs[:5]] == [200] * 5
    assert hs[6].status_code == 429
    assert hs[6].json()["errorType"] == "RATE_LIMIT"
    assert int(hs[6].headers["Retry-After"]) >= 1
    kl = [http.get(f"{u}/klaviyo/api/flows", headers=KLAVIYO) for _ in range(5)]
    throttled = [r for r in kl if r.status_code == 429]
    assert throttled
    assert throttled[0].json()["errors"][0]["code"] == "throttled"
    assert int(throttled[0].headers["Retry-After"]) >= 1
    zd = [
        http.get(
            f"{u}/zendesk/api/v2/incremental/tickets/cursor.json?start_time=0", headers=ZENDESK
        )
        for _ in range(3)
    ]
    assert zd[0].status_code == 200
    assert zd[-1].status_code == 429
    assert int(zd[-1].headers["Retry-After"]) >= 1
    assert fresh_emulator.stats()["rate_limited"] >= 3


def test_injected_5xx_rate_is_seeded(edge_world: Path, http: requests.Session) -> None:
    def run() -> list[int]:
        with EmulatorThread(
            edge_world, faults=FaultConfig(rate_limit_scale=10_000, status_5xx_rate=0.3, seed=5)
        ) as emu:
            codes = [
                http.get(f"{emu.url}/hubspot/crm/v3/owners", headers=HUBSPOT).status_code
                for _ in range(120)
            ]
            stats = emu.stats()
            # Faults never touch the admin routes.
            assert all(http.get(f"{emu.url}/_sandbox/health").status_code == 200 for _ in range(20))
        assert stats["injected_5xx"] == sum(c >= 500 for c in codes)
        return codes

    first = run()
    assert 15 <= sum(c >= 500 for c in first) <= 60
    assert set(first) <= {200, 500, 502, 503}
    assert run() == first


def test_dropped_connection_is_a_client_connection_error(fresh_emulator: EmulatorThread) -> None:
    fresh_emulator.set_faults(drop_rate=1.0)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{fresh_emulator.url}/klaviyo/api/metrics", headers=KLAVIYO, timeout=5)
    assert fresh_emulator.stats()["dropped"] == 1
    fresh_emulator.set_faults(drop_rate=0.0)
    assert (
        requests.get(
            f"{fresh_emulator.url}/klaviyo/api/metrics", headers=KLAVIYO, timeout=5
        ).status_code
        == 200
    )


def test_admin_routes(fresh_emulator: EmulatorThread, http: requests.Session) -> None:
    u = fresh_emulator.url
    health = http.get(f"{u}/_sandbox/health").json()
    assert health["status"] == "ok"
    assert health["world_version"] == 0
    r = http.post(f"{u}/_sandbox/faults", json={"slow_ms": 1, "seed": 9})
    assert r.status_code == 200
    assert r.json()["slow_ms"] == 1
    assert r.json()["seed"] == 9
    assert http.post(f"{u}/_sandbox/faults", json={"bogus": 1}).status_code == 400
    http.get(f"{u}/hubspot/crm/v3/owners", headers=HUBSPOT)
    http.get(f"{u}/hubspot/crm/v3/owners")
    stats = http.get(f"{u}/_sandbox/stats").json()
    assert stats["requests"]["hubspot.owners"] == 2
    assert stats["statuses"]["401"] == 1


def test_reload_when_world_version_changes(
    edge_world: Path, tmp_path: Path, http: requests.Session
) -> None:
    world = tmp_path / "w"
    shutil.copytree(edge_world, world)
    with EmulatorThread(world, faults=FaultConfig(rate_limit_scale=10_000)) as emu:
        url = f"{emu.url}/hubspot/crm/v3/objects/contacts"
        before = _hubspot_sweep(http, url, {"limit": 100})
        # "advance": drop the first ten contacts and bump the version.
        t = pq.read_table(world / "crm/contacts.parquet")
        pq.write_table(t.slice(10), world / "crm/contacts.parquet")
        manifest = json.loads((world / "world.json").read_text())
        manifest["version"] += 1
        (world / "world.json").write_text(json.dumps(manifest))
        after = _hubspot_sweep(http, url, {"limit": 100})
        dropped = set(t.slice(0, 10).column("id").to_pylist())
        assert {int(r["id"]) for r in after} == {int(r["id"]) for r in before} - dropped
        assert http.get(f"{emu.url}/_sandbox/health").json()["world_version"] == 1
        assert emu.stats()["reloads"] == 1


# ------------------------------------------------------------------- dlt compatibility
def test_dlt_rest_client_paginators_terminate(emulator: EmulatorThread, world_dir: Path) -> None:
    """The paginators the pipelines use stop after every row, with no custom code."""
    from dlt.sources.helpers.rest_client import RESTClient
    from dlt.sources.helpers.rest_client.paginators import (
        JSONLinkPaginator,
        JSONResponseCursorPaginator,
    )

    hs = RESTClient(base_url=f"{emulator.url}/hubspot", headers=HUBSPOT)
    pages = hs.paginate(
        "/crm/v3/objects/deals",
        params={"limit": 100},
        paginator=JSONLinkPaginator(next_url_path="paging.next.link"),
        data_selector="results",
    )
    assert {int(r["id"]) for page in pages for r in page} == _ids(
        world_dir, "crm/deals", archived=False
    )

    kl = RESTClient(base_url=f"{emulator.url}/klaviyo", headers=KLAVIYO)
    pages = kl.paginate(
        "/api/profiles",
        params={"page[size]": 100},
        paginator=JSONLinkPaginator(next_url_path="links.next"),
        data_selector="data",
    )
    assert {p["id"] for page in pages for p in page} == _ids(world_dir, "esp/profiles")

    zd = RESTClient(base_url=f"{emulator.url}/zendesk", headers=ZENDESK)
    pages = zd.paginate(
        "/api/v2/incremental/tickets/cursor.json",
        params={"start_time": 0, "per_page": 100},
        paginator=JSONResponseCursorPaginator(
            cursor_path="after_cursor", cursor_param="cursor", stop_after_empty_page=True
        ),
        data_selector="tickets",
    )
    horizon = _as_of(world_dir) - timedelta(minutes=1)
    got = [t["id"] for page in pages for t in page]
    assert _once(got) == {
        t["id"]
        for t in _table(world_dir, "helpdesk/tickets").to_pylist()
        if t["updated_at"] <= horizon
    }


def test_incremental_after_real_advance(tmp_path: Path, http: requests.Session) -> None:
    """After ``advance`` the emulator reloads and the stored cursors yield exactly the changes."""
    from sandbox.world import advance, generate

    world = tmp_path / "w"
    generate(1000, 3, world)
    with EmulatorThread(world, faults=FaultConfig(rate_limit_scale=10_000)) as emu:
        url = f"{emu.url}/zendesk/api/v2/incremental/tickets/cursor.json"
        first, last = _zendesk_cursor_sweep(http, url, "tickets", 0)
        old_horizon = _as_of(world) - timedelta(minutes=1)
        advance(world, 7)
        assert http.get(f"{emu.url}/_sandbox/health").json()["world_version"] == 1
        r = http.get(url, params={"cursor": last["after_cursor"]}, headers=ZENDESK)
        rows = r.json()["tickets"]
        while not r.json()["end_of_stream"]:
            r = http.get(url, params={"cursor": r.json()["after_cursor"]}, headers=ZENDESK)
            rows += r.json()["tickets"]
        horizon = _as_of(world) - timedelta(minutes=1)
        t = _table(world, "helpdesk/tickets").to_pylist()
        changed = {x["id"] for x in t if old_horizon < x["updated_at"] <= horizon}
        assert {x["id"] for x in rows} == changed
        assert {x["id"] for x in first} | changed == {
            x["id"] for x in t if x["updated_at"] <= horizon
        }
