"""A small, deterministic world in the docs/world-format.md layout, for emulator tests.

Used until ``sandbox.world.generate`` exists (the tests switch to it automatically). It
deliberately contains the awkward cases: archived CRM rows, deleted tickets, events sharing
one timestamp (cursor tie-breaks), and rows changed in the last minute before ``as_of``
(Zendesk must hide them).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

START = datetime(2024, 1, 1, tzinfo=UTC)
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")
METRICS = [
    "Sent Email",
    "Received Email",
    "Opened Email",
    "Clicked Email",
    "Bounced Email",
    "Unsubscribed",
    "Marked Email as Spam",
]


def _ts(rng: random.Random, lo: datetime = START, hi: datetime = AS_OF) -> datetime:
    span = int((hi - lo).total_seconds() * 1_000_000)
    return lo + timedelta(microseconds=rng.randrange(span))


def _write(path: Path, data: dict[str, Any], schema: dict[str, pa.DataType] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = schema or {}
    table = pa.table({k: pa.array(v, type=schema.get(k)) for k, v in data.items()})
    pq.write_table(table, path)


def _ulid(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "".join(rng.choice(alphabet) for _ in range(26))


def build_world(
    out: Path, people: int = 300, seed: int = 7, *, version: int = 0, as_of: datetime = AS_OF
) -> Path:
    """Write a world directory and return it."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    n = people
    recent = as_of - timedelta(seconds=20)  # inside Zendesk's excluded last minute
    counts: dict[str, int] = {}

    # ---------------------------------------------------------------- crm
    owners = list(range(1, 7))
    _write(
        out / "crm/owners.parquet",
        {
            "id": owners,
            "email": [f"owner{i}@closedloop.test" for i in owners],
            "firstName": [f"Owner{i}" for i in owners],
            "lastName": ["Novák", "Kováč", "Nowak", "Dvořák", "Horváth", "Wiśniewski"],
            "region": ["CZ", "SK", "PL", "CZ", "SK", "PL"],
            "createdAt": [START] * 6,
            "updatedAt": [START + timedelta(days=i) for i in owners],
            "archived": [False] * 5 + [True],
        },
        {"id": pa.int64(), "createdAt": TS, "updatedAt": TS},
    )
    companies = max(5, n // 10)
    c_created = [_ts(rng) for _ in range(companies)]
    _write(
        out / "crm/companies.parquet",
        {
            "id": [1000 + i for i in range(companies)],
            "name": [f"Firma {i} s.r.o." for i in range(companies)],
            "domain": [f"firma{i}.cz" for i in range(companies)],
            "industry": ["RETAIL"] * companies,
            "numberofemployees": [rng.randrange(1, 500) for _ in range(companies)],
            "annualrevenue": [Decimal(rng.randrange(10**5, 10**8)) / 100 for _ in range(companies)],
            "city": ["Praha"] * companies,
            "country": ["Czech Republic"] * companies,
            "hubspot_owner_id": [rng.choice(owners) for _ in range(companies)],
            "createdate": c_created,
            "hs_lastmodifieddate": [_ts(rng, c) for c in c_created],
            "archived": [i % 17 == 0 for i in range(companies)],
            "archived_at": [_ts(rng, c) if i % 17 == 0 else None for i, c in enumerate(c_created)],
        },
        {
            "createdate": TS,
            "hs_lastmodifieddate": TS,
            "archived_at": TS,
            "annualrevenue": pa.decimal128(14, 2),
        },
    )
    created = [_ts(rng) for _ in range(n)]
    modified = [_ts(rng, c) for c in created]
    archived = [i % 11 == 3 for i in range(n)]
    _write(
        out / "crm/contacts.parquet",
        {
            "id": [i + 1 for i in range(n)],
            "email": [f"Person{i}@Example.cz" for i in range(n)],
            "firstname": [rng.choice(["Jan", "Petra", "Zuzana", "Łukasz"]) for _ in range(n)],
            "lastname": [rng.choice(["Novák", "Kováčová", "Wójcik"]) for _ in range(n)],
            "phone": [f"+420 6{i:08d}" for i in range(n)],
            "mobilephone": [None] * n,
            "jobtitle": [None] * n,
            "company": [None] * n,
            "associatedcompanyid": [1000 + (i % companies) for i in range(n)],
            "lifecyclestage": [rng.choice(["subscriber", "lead", "customer"]) for _ in range(n)],
            "hs_lead_status": [None] * n,
            "hubspot_owner_id": [rng.choice(owners) for _ in range(n)],
            "address": [None] * n,
            "city": ["Brno"] * n,
            "zip": ["60200"] * n,
            "country": [rng.choice(["CZ", "Česko", "Slovakia", "Polska"]) for _ in range(n)],
            "date_of_birth": [None] * n,
            "hs_analytics_source": ["ORGANIC_SEARCH"] * n,
            "hs_lifecyclestage_lead_date": list(created),
            "createdate": created,
            "lastmodifieddate": modified,
            "archived": archived,
            "archived_at": [
                _ts(rng, m) if a else None for m, a in zip(modified, archived, strict=True)
            ],
        },
        {
            "id": pa.int64(),
            "associatedcompanyid": pa.int64(),
            "hubspot_owner_id": pa.int64(),
            "createdate": TS,
            "lastmodifieddate": TS,
            "archived_at": TS,
            "hs_lifecyclestage_lead_date": TS,
            "mobilephone": pa.string(),
            "jobtitle": pa.string(),
            "company": pa.string(),
            "hs_lead_status": pa.string(),
            "address": pa.string(),
            "date_of_birth": pa.string(),
        },
    )
    counts["crm.contacts"] = n
    deals = max(5, n // 3)
    d_created = [_ts(rng) for _ in range(deals)]
    campaign_ids = [f"0b6f{i:04d}-1c2d-4e5f-8a9b-{i:012d}" for i in range(4)]
    _write(
        out / "crm/deals.parquet",
        {
            "id": [5000 + i for i in range(deals)],
            "dealname": [f"Deal {i}" for i in range(deals)],
            "amount": [Decimal(rng.randrange(1000, 10**6)) / 100 for _ in range(deals)],
            "deal_currency_code": [rng.choice(["CZK", "EUR", "PLN"]) for _ in range(deals)],
            "dealstage": [
                rng.choice(["closedwon", "closedlost", "qualifiedtobuy"]) for _ in range(deals)
            ],
            "pipeline": ["default"] * deals,
            "closedate": [_ts(rng, c) for c in d_created],
            "closed_lost_reason": [None] * deals,
            "hubspot_owner_id": [rng.choice(owners) for _ in range(deals)],
            "hs_campaign": [rng.choice([*campaign_ids, None]) for _ in range(deals)],
            "createdate": d_created,
            "hs_lastmodifieddate": [_ts(rng, c) for c in d_created],
            "archived": [i % 13 == 5 for i in range(deals)],
            "archived_at": [_ts(rng, c) if i % 13 == 5 else None for i, c in enumerate(d_created)],
        },
        {
            "amount": pa.decimal128(12, 2),
            "createdate": TS,
            "closedate": TS,
            "hs_lastmodifieddate": TS,
            "archived_at": TS,
            "closed_lost_reason": pa.string(),
        },
    )
    _write(
        out / "crm/campaigns.parquet",
        {
            "id": campaign_ids,
            "hs_name": [f"Campaign {i}" for i in range(4)],
            "hs_start_date": [START.date() + timedelta(days=30 * i) for i in range(4)],
            "hs_end_date": [START.date() + timedelta(days=30 * i + 20) for i in range(4)],
            "hs_budget_items_sum_amount": [Decimal("1000.00") * (i + 1) for i in range(4)],
            "hs_expected_revenue": [Decimal("5000.00")] * 4,
            "hs_currency_code": ["CZK", "EUR", "PLN", "CZK"],
            "hs_campaign_status": ["active"] * 4,
            "createdAt": [START] * 4,
            "updatedAt": [START + timedelta(days=i) for i in range(4)],
        },
        {
            "createdAt": TS,
            "updatedAt": TS,
            "hs_budget_items_sum_amount": pa.decimal128(12, 2),
            "hs_expected_revenue": pa.decimal128(12, 2),
        },
    )
    a_from_type, a_from, a_to_type, a_to, a_type = [], [], [], [], []
    for i in range(n):
        a_from_type.append("contacts")
        a_from.append(str(i + 1))
        a_to_type.append("companies")
        a_to.append(str(1000 + i % companies))
        a_type.append(279)
        if i % 4 == 0:
            a_from_type.append("contacts")
            a_from.append(str(i + 1))
            a_to_type.append("campaigns")
            a_to.append(campaign_ids[i % 4])
            a_type.append(0)
    for d in range(deals):
        for c in {d % n + 1, (d * 7) % n + 1}:
            a_from_type.append("deals")
            a_from.append(str(5000 + d))
            a_to_type.append("contacts")
            a_to.append(str(c))
            a_type.append(3)
        a_from_type.append("deals")
        a_from.append(str(5000 + d))
        a_to_type.append("companies")
        a_to.append(str(1000 + d % companies))
        a_type.append(5)
    _write(
        out / "crm/associations.parquet",
        {
            "from_type": a_from_type,
            "from_id": a_from,
            "to_type": a_to_type,
            "to_id": a_to,
            "association_type_id": a_type,
            "updated_at": [START] * len(a_from),
        },
        {"association_type_id": pa.int32(), "updated_at": TS},
    )

    # ---------------------------------------------------------------- esp
    p_ids = sorted(_ulid(rng) for _ in range(n))
    p_created = [_ts(rng) for _ in range(n)]
    p_updated = [_ts(rng, c) for c in p_created]
    consent = [rng.choice(["SUBSCRIBED", "UNSUBSCRIBED", "NEVER_SUBSCRIBED"]) for _ in range(n)]
    _write(
        out / "esp/profiles.parquet",
        {
            "id": p_ids,
            "email": [f"person{i}@example.cz" if i % 9 else None for i in range(n)],
            "phone_number": [f"+42160{i:07d}" for i in range(n)],
            "external_id": [None] * n,
            "first_name": ["Jana"] * n,
            "last_name": ["Malá"] * n,
            "organization": [None] * n,
            "title": [None] * n,
            "city": ["Ostrava"] * n,
            "country": ["CZ"] * n,
            "zip": ["70030"] * n,
            "address1": [None] * n,
            "created": p_created,
            "updated": p_updated,
            "email_consent": consent,
            "email_consent_timestamp": [
                u if c != "NEVER_SUBSCRIBED" else None
                for u, c in zip(p_updated, consent, strict=True)
            ],
            "sms_consent": ["NEVER_SUBSCRIBED"] * n,
            "sms_consent_timestamp": [None] * n,
        },
        {
            "created": TS,
            "updated": TS,
            "email_consent_timestamp": TS,
            "sms_consent_timestamp": TS,
            "external_id": pa.string(),
            "organization": pa.string(),
            "title": pa.string(),
            "address1": pa.string(),
        },
    )
    list_ids = ["Xa1Lst", "Yb2Lst", "Zc3Lst"]
    _write(
        out / "esp/lists.parquet",
        {
            "id": list_ids,
            "name": ["Newsletter", "VIP", "Leads"],
            "created": [START] * 3,
            "updated": [START] * 3,
        },
        {"created": TS, "updated": TS},
    )
    lm_list, lm_profile, lm_joined = [], [], []
    for i, pid in enumerate(p_ids):
        for j, lid in enumerate(list_ids):
            if (i + j) % (j + 2) == 0:
                lm_list.append(lid)
                lm_profile.append(pid)
                lm_joined.append(_ts(rng, p_created[i]))
    _write(
        out / "esp/list_members.parquet",
        {"list_id": lm_list, "profile_id": lm_profile, "joined_at": lm_joined},
        {"joined_at": TS},
    )
    esp_campaigns = [f"01CMP{i:021d}" for i in range(5)]
    _write(
        out / "esp/campaigns.parquet",
        {
            "id": esp_campaigns,
            "name": [f"Newsletter #{i}" for i in range(5)],
            "status": ["Sent"] * 5,
            "channel": ["email"] * 5,
            "send_time": [START + timedelta(days=60 * i) for i in range(5)],
            "created_at": [START] * 5,
            "updated_at": [START + timedelta(days=60 * i) for i in range(5)],
        },
        {"send_time": TS, "created_at": TS, "updated_at": TS},
    )
    flows = ["FlWelcome", "FlWinback"]
    _write(
        out / "esp/flows.parquet",
        {
            "id": flows,
            "name": ["Welcome", "Winback"],
            "status": ["live", "draft"],
            "trigger_type": ["Added to List", "Metric"],
            "created": [START] * 2,
            "updated": [START] * 2,
        },
        {"created": TS, "updated": TS},
    )
    metric_ids = [f"M{i}x{i}" for i in range(len(METRICS))]
    _write(
        out / "esp/metrics.parquet",
        {
            "id": metric_ids,
            "name": METRICS,
            "integration_name": ["Klaviyo"] * len(METRICS),
            "created": [START] * len(METRICS),
            "updated": [START] * len(METRICS),
        },
        {"created": TS, "updated": TS},
    )
    ne = n * 8
    e_dt = [_ts(rng) for _ in range(ne)]
    tie_time = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
    for k in range(0, min(ne, 40)):
        e_dt[k * 3] = tie_time  # a run of identical timestamps
    e_metric = [rng.choice(metric_ids) for _ in range(ne)]
    _write(
        out / "esp/events.parquet",
        {
            "id": [f"EV{i:010d}" for i in range(ne)],
            "profile_id": [rng.choice(p_ids) for _ in range(ne)],
            "metric_id": e_metric,
            "datetime": e_dt,
            "uuid": [f"00000000-0000-4000-8000-{i:012d}" for i in range(ne)],
            "campaign_id": [rng.choice([*esp_campaigns, None]) for _ in range(ne)],
            "flow_id": [None] * ne,
            "subject": ["Hello"] * ne,
            "url": [("https://shop.example/p" if m == metric_ids[3] else None) for m in e_metric],
            "bounce_type": [("hard" if m == metric_ids[4] else None) for m in e_metric],
        },
        {"datetime": TS, "flow_id": pa.string()},
    )
    counts["esp.events"] = ne

    # ---------------------------------------------------------------- helpdesk
    nu = n
    u_created = [_ts(rng) for _ in range(nu)]
    u_updated = [_ts(rng, c) for c in u_created]
    u_updated[0] = recent
    _write(
        out / "helpdesk/users.parquet",
        {
            "id": [70000 + i for i in range(nu)],
            "name": [f"User {i}" for i in range(nu)],
            "email": [f"user{i}@example.sk" for i in range(nu)],
            "phone": [None] * nu,
            "role": ["agent" if i < 3 else "end-user" for i in range(nu)],
            "created_at": u_created,
            "updated_at": u_updated,
        },
        {"created_at": TS, "updated_at": TS, "phone": pa.string()},
    )
    nt = n * 2
    t_created = [_ts(rng) for _ in range(nt)]
    t_updated = [_ts(rng, c) for c in t_created]
    t_updated[1] = recent
    t_status = [rng.choice(["new", "open", "solved", "closed"]) for _ in range(nt)]
    for i in range(0, nt, 23):
        t_status[i] = "deleted"
    _write(
        out / "helpdesk/tickets.parquet",
        {
            "id": [i + 1 for i in range(nt)],
            "subject": [f"Problem {i}" for i in range(nt)],
            "status": t_status,
            "priority": ["normal"] * nt,
            "channel": ["email"] * nt,
            "requester_id": [70000 + rng.randrange(3, nu) for _ in range(nt)],
            "assignee_id": [70000 + rng.randrange(0, 3) for _ in range(nt)],
            "tags": [["vip"] if i % 5 == 0 else [] for i in range(nt)],
            "created_at": t_created,
            "updated_at": t_updated,
            "first_reply_at": [c + timedelta(minutes=37, seconds=5) for c in t_created],
            "solved_at": [
                c + timedelta(hours=5) if s in ("solved", "closed") else None
                for c, s in zip(t_created, t_status, strict=True)
            ],
        },
        {
            "created_at": TS,
            "updated_at": TS,
            "first_reply_at": TS,
            "solved_at": TS,
            "tags": pa.list_(pa.string()),
        },
    )
    counts["helpdesk.tickets"] = nt
    nr = nt // 2
    r_created = [_ts(rng) for _ in range(nr)]
    _write(
        out / "helpdesk/satisfaction_ratings.parquet",
        {
            "id": [900 + i for i in range(nr)],
            "ticket_id": [2 * i + 2 for i in range(nr)],
            "requester_id": [70003] * nr,
            "score": [rng.choice(["good", "bad"]) for _ in range(nr)],
            "comment": [None if i % 3 else "díky" for i in range(nr)],
            "created_at": r_created,
            "updated_at": r_created,
        },
        {"created_at": TS, "updated_at": TS},
    )
    nn = n // 2
    n_created = [_ts(rng) for _ in range(nn)]
    _write(
        out / "helpdesk/nps_responses.parquet",
        {
            "id": [i + 1 for i in range(nn)],
            "user_id": [70000 + rng.randrange(3, nu) for _ in range(nn)],
            "score": [rng.randrange(0, 11) for _ in range(nn)],
            "comment": [None] * nn,
            "created_at": n_created,
            "updated_at": n_created,
        },
        {"created_at": TS, "updated_at": TS, "comment": pa.string()},
    )

    manifest = {
        "format": 1,
        "seed": seed,
        "people": people,
        "version": version,
        "start": START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "as_of": as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "params": {},
        "counts": counts,
    }
    (out / "world.json").write_text(json.dumps(manifest, indent=2))
    return out
