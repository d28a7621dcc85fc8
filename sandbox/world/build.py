"""Build everything a cohort of new people brings into the world, for ``generate`` and
``advance`` alike: their records in every system, their activity up to ``t_end``, their web
sessions inside the web window, and the truth rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from sandbox.world.core import DAY, HOUR, MINUTE, stream
from sandbox.world.people import PURPOSES, People
from sandbox.world.systems import Ids, Records, Rows
from sandbox.world.systems import crm as crm_mod
from sandbox.world.systems import esp as esp_mod
from sandbox.world.systems import helpdesk as hd_mod
from sandbox.world.systems import shop as shop_mod
from sandbox.world.systems import web as web_mod
from sandbox.world.systems.marketing import CrmCampaigns, EmailCampaigns


@dataclass
class Globals:
    """World-level objects cohorts refer to."""

    params: dict[str, Any]
    catalog: shop_mod.Catalog
    crm_camps: CrmCampaigns
    esp_camps: EmailCampaigns
    owners: Rows
    static: esp_mod.EspStatic
    agent_ids: np.ndarray
    population: int
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class CohortOut:
    """New rows per system table (internal Rows), ESP events, web events and consent."""

    shop: dict[str, Rows] = field(default_factory=dict)
    crm: dict[str, Rows] = field(default_factory=dict)
    esp: dict[str, Rows] = field(default_factory=dict)
    esp_events: pa.Table | None = None
    helpdesk: dict[str, Rows] = field(default_factory=dict)
    web_events: dict[str, np.ndarray] = field(default_factory=dict)
    web_consent: dict[str, np.ndarray] = field(default_factory=dict)
    records: Records = field(default_factory=Records)
    accounts: shop_mod.Accounts | None = None


def build_cohort(
    seed: int,
    version: int,
    people: People,
    t_end: int,
    web_from: int,
    ids: Ids,
    g: Globals,
    progress: Any = None,
    sink: Any = None,
) -> CohortOut:
    """All records and activity of a new cohort.

    Args:
        seed: World seed.
        version: World version being produced (0 for ``generate``).
        people: The cohort (BG/NBD state columns are filled in here).
        t_end: End of activity (the new ``as_of``).
        web_from: Start of the web window.
        ids: Id allocator (continues existing maxima).
        g: World-level objects.
        progress: Optional ``(stage, fraction)`` callback.
        sink: Optional ``sink(system, out)``: called as soon as a system is complete; the
            system's rows are dropped from ``out`` afterwards (keeps peak memory low when
            ``generate`` writes a large world).
    """
    out = CohortOut()

    def flush(system: str) -> None:
        if sink is None:
            return
        sink(system, out)
        if system == "esp":
            out.esp, out.esp_events = {}, None
        elif system in ("web",):
            out.web_events, out.web_consent = {}, {}
        else:
            setattr(out, system, {})

    rec = out.records
    p = g.params

    def tick(stage: str, frac: float) -> None:
        if progress is not None:
            progress(stage, frac)

    tick("shop", 0.0)
    shop = shop_mod.shop_cohort(
        stream(seed, version, "shop"),
        people,
        t_end,
        ids,
        g.catalog,
        g.crm_camps,
        g.esp_camps,
        p,
    )
    out.shop = shop.tables
    out.accounts = shop.accounts
    for t in ("customers", "addresses", "orders", "carts"):
        rows = out.shop[t]
        if len(rows):
            person = rows["_person"]
            keep = person >= 0
            rec.add("shop", t, rows["id"][keep], person[keep])
    shop.tables = {}
    # Keep only what later systems need: every order's (person, time) for post-purchase
    # flows, full attribution only for orders inside the web window.
    ow = shop.orders_web
    purchases = Rows({k: ow[k] for k in ("person", "placed_at", "cancelled")})
    shop.orders_web = ow.take(np.flatnonzero(ow["placed_at"] >= web_from)) if len(ow) else ow
    del ow
    flush("shop")
    tick("shop", 1.0)

    tick("crm", 0.0)
    out.crm = crm_mod.crm_cohort(
        stream(seed, version, "crm"),
        people,
        t_end,
        ids,
        g.owners,
        g.crm_camps,
        p,
        stream(seed, version, "crm.first_engagement"),
    )
    rec.add("crm", "contacts", out.crm["contacts"]["id"], out.crm["contacts"]["_person"])
    forms = [crm_form_submits(out.crm["contacts"])]
    flush("crm")
    tick("crm", 1.0)

    tick("esp", 0.0)
    rng = stream(seed, version, "esp")
    profiles = esp_mod.esp_profiles(rng, people, t_end, shop.accounts.account_id, p)
    if people.companies is not None:
        esp_mod.organization_names(
            profiles,
            dict(zip(people.companies.id.tolist(), people.companies.name.tolist(), strict=True)),
        )
    else:
        esp_mod.organization_names(profiles, {})
    rec.add("esp", "profiles", profiles["id"], profiles["_person"])
    members = esp_mod.list_members(rng, profiles, people, g.static)
    triggers = flow_triggers(profiles, shop.abandoned, purchases, len(people))
    sends = esp_mod.plan_sends(
        rng,
        profiles,
        g.esp_camps,
        profiles["created"],
        t_end,
        p["esp"]["campaign_sends_mean"],
        True,
        triggers,
    )
    unsub_rows = np.flatnonzero(profiles["email_consent"] == "UNSUBSCRIBED")
    out.esp_events = esp_mod.events_from_sends(
        rng,
        sends,
        profiles,
        g.esp_camps,
        g.static,
        p,
        t_end,
        unsub_rows,
        profiles["email_consent_timestamp"][unsub_rows],
    )
    out.esp = {"profiles": profiles, "list_members": members}
    forms.append(esp_form_submits(profiles))
    del sends, members, profiles
    flush("esp")
    tick("esp", 1.0)

    tick("helpdesk", 0.0)
    rng = stream(seed, version, "helpdesk")
    users = hd_mod.helpdesk_users(rng, people, t_end, ids, p)
    rec.add("helpdesk", "users", users["id"], users["_person"])
    tickets = hd_mod.tickets_for_users(rng, users, g.agent_ids, t_end, ids, p)
    ratings, nps = hd_mod.ratings_and_nps(rng, tickets, users, t_end, ids, p)
    out.helpdesk = {
        "users": users,
        "tickets": tickets,
        "satisfaction_ratings": ratings,
        "nps_responses": nps,
    }
    del users, tickets, ratings, nps
    flush("helpdesk")
    tick("helpdesk", 1.0)

    tick("web", 0.0)
    rec.add("web", "anonymous_ids", people.devices_id, people.devices_person)
    rng = stream(seed, version, "web")
    devices = (people.devices_person, people.devices_id)
    login = shop.accounts.login
    sessions = web_mod.build_sessions(
        rng,
        people,
        devices,
        login,
        shop.orders_web,
        forms,
        g.crm_camps,
        g.catalog,
        web_from,
        t_end,
        p,
        len(people),
    )
    out.web_events = before(web_mod.session_events(rng, sessions), t_end)
    out.web_consent = before(web_mod.consent_events(rng, sessions, people), t_end)
    del sessions
    flush("web")
    tick("web", 1.0)
    return out


def flow_triggers(
    profiles: Rows, abandoned: Rows, orders_web: Rows, n_people: int
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Abandoned-cart (flow 1) and post-purchase (flow 2) triggers for people with a profile."""
    prof_of = np.full(n_people, -1, dtype=np.int64)
    # First profile per person receives flow emails.
    order = np.argsort(profiles["_person"], kind="stable")[::-1]
    prof_of[profiles["_person"][order]] = order
    out: list[tuple[int, np.ndarray, np.ndarray]] = []
    if len(abandoned):
        pr = prof_of[abandoned["_person"]]
        ok = (pr >= 0) & (abandoned["status"] == "abandoned")
        out.append((1, pr[ok], abandoned["created_at"][ok] + HOUR))
    if len(orders_web):
        pr = prof_of[orders_web["person"]]
        ok = (pr >= 0) & ~orders_web["cancelled"]
        out.append((2, pr[ok], orders_web["placed_at"][ok] + 2 * DAY))
    return out


def crm_form_submits(contacts: Rows) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """Web demo-request forms behind CRM contacts (all but offline sources)."""
    c = np.flatnonzero(contacts["hs_analytics_source"] != "OFFLINE")
    return (
        "b2b-demo-request",
        contacts["_person"][c],
        contacts["createdate"][c] - MINUTE,
        contacts["email"][c],
    )


def esp_form_submits(profiles: Rows) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """Newsletter sign-up forms behind subscribed ESP profiles."""
    s = np.flatnonzero(profiles["email_consent"] != "NEVER_SUBSCRIBED")
    return (
        "newsletter-signup",
        profiles["_person"][s],
        profiles["created"][s] - MINUTE,
        profiles["email"][s],
    )


def consent_truth(people: People, as_of: int) -> pa.Table:
    """``truth/consent.parquet`` rows: the true state per person and purpose at ``as_of``."""
    n = len(people)
    pid = np.tile(people["person_id"], len(PURPOSES))
    purpose = np.repeat(np.array(PURPOSES, dtype=object), n)
    granted = np.concatenate([people[f"c_{x}"] for x in PURPOSES])
    decided = np.concatenate(
        [
            np.where(
                (people["unsubscribed_at"] > 0) & (x in ("marketing_email", "sms")),
                people["unsubscribed_at"],
                people["consent_at"],
            )
            for x in PURPOSES
        ]
    )
    from sandbox.world.schema import CONSENT_SCHEMA

    tbl = pa.table(
        {
            "person_id": pa.array(pid, pa.int64()),
            "purpose": pa.array(purpose, pa.string()),
            "granted": pa.array(granted, pa.bool_()),
            "as_of": pa.array(
                np.full(pid.size, as_of, dtype=np.int64), CONSENT_SCHEMA.field("as_of").type
            ),
            "decided_at": pa.array(decided, CONSENT_SCHEMA.field("decided_at").type),
        },
        schema=CONSENT_SCHEMA,
    )
    return tbl


def consent_truth_table(people: pa.Table, as_of: int) -> pa.Table:
    """``truth/consent.parquet`` straight from a ``truth/people.parquet`` table (no Python rows)."""
    from sandbox.world.schema import CONSENT_SCHEMA

    n = people.num_rows
    pid = np.asarray(people.column("person_id"), dtype=np.int64)
    unsub = np.asarray(
        people.column("unsubscribed_at").cast(pa.int64()).fill_null(0), dtype=np.int64
    )
    at = np.asarray(people.column("consent_at").cast(pa.int64()).fill_null(0), dtype=np.int64)
    granted = np.concatenate(
        [np.asarray(people.column(f"consent_{x}"), dtype=bool) for x in PURPOSES]
    )
    decided = np.concatenate(
        [np.where((unsub > 0) & (x in ("marketing_email", "sms")), unsub, at) for x in PURPOSES]
    )
    return pa.table(
        {
            "person_id": pa.array(np.tile(pid, len(PURPOSES)), pa.int64()),
            "purpose": pa.array(np.repeat(np.array(PURPOSES, dtype=object), n), pa.string()),
            "granted": pa.array(granted, pa.bool_()),
            "as_of": pa.array(
                np.full(n * len(PURPOSES), as_of, dtype=np.int64),
                CONSENT_SCHEMA.field("as_of").type,
            ),
            "decided_at": pa.array(decided, CONSENT_SCHEMA.field("decided_at").type),
        },
        schema=CONSENT_SCHEMA,
    )


def before(rows: dict[str, np.ndarray], t_end: int) -> dict[str, np.ndarray]:
    """Drop web rows at or after the clock (a session may run past ``as_of``)."""
    if not rows or rows["event_ts"].size == 0:
        return rows
    keep = rows["event_ts"] < t_end
    return {k: v[keep] for k, v in rows.items()}
