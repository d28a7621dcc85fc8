"""``advance``: move a world's clock forward by whole days and mutate it in place.

What happens in the window ``(as_of, as_of + days]`` (random stream seeded by ``(seed,
version)``):

- new people arrive with records in every system (a cohort, as in ``generate``);
- existing customers keep buying (BG/NBD continues memorylessly for those still alive),
  with carts, guest rows, refunds, status progression of open orders;
- CRM contacts/companies/deals are updated (``lastmodifieddate`` bumped inside the window),
  some archived; open deals past their close date are won or lost; new campaigns start;
- ESP: new campaigns are sent, flows fire, some subscribers unsubscribe (profile ``updated``
  bumped, consent changed, an ``Unsubscribed`` event), and **late events** arrive whose
  ``datetime`` lies up to 2 days before the previous ``as_of``;
- helpdesk: new tickets, progression, some tickets deleted (``status='deleted'``);
- web: new daily drops plus late events in new ``part-VVVV`` files inside older ``dt=`` folders.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.world.build import (
    Globals,
    before,
    build_cohort,
    consent_truth_table,
    flow_triggers,
)
from sandbox.world.core import (
    DAY,
    HOUR,
    MINUTE,
    US,
    ProgressFn,
    WorldError,
    obj,
    parse_ts,
    sql_ts,
    stream,
)
from sandbox.world.generate import crm_campaign_rows, records_table
from sandbox.world.io import (
    MANIFEST,
    insert_rows,
    read_json,
    read_parquet,
    rows_to_table,
    write_json,
    write_parquet,
)
from sandbox.world.noise import e164
from sandbox.world.people import People, make_people, people_from_table, people_table
from sandbox.world.schema import CRM, ESP, EVENTS_SCHEMA, HELPDESK, SHOP, Schema
from sandbox.world.systems import Ids, Records, Rows
from sandbox.world.systems import esp as esp_mod
from sandbox.world.systems import helpdesk as hd_mod
from sandbox.world.systems import shop as shop_mod
from sandbox.world.systems import web as web_mod
from sandbox.world.systems.marketing import (
    FLOWS,
    CrmCampaigns,
    EmailCampaigns,
    crm_campaigns,
    email_campaigns,
)
from sandbox.world.webfiles import write_drops


def table_to_rows(tbl: pa.Table, schema: Schema) -> Rows:
    """Arrow table → internal Rows (timestamps as epoch µs with 0 = null, decimals as float)."""
    cols: dict[str, np.ndarray] = {}
    for name, kind in schema:
        a = (
            tbl.column(name).combine_chunks()
            if tbl.num_rows
            else pa.array([], tbl.schema.field(name).type)
        )
        if kind == "i64":
            cols[name] = np.asarray(a, dtype=np.int64)
        elif kind == "i64n":
            cols[name] = np.asarray(a.fill_null(0), dtype=np.int64)
        elif kind in ("str", "sqldate"):
            cols[name] = (
                np.asarray(a.to_pylist(), dtype=object) if len(a) else np.zeros(0, dtype=object)
            )
        elif kind == "ts":
            cols[name] = np.asarray(a.cast(pa.int64()).fill_null(0), dtype=np.int64)
        elif kind == "date":
            cols[name] = np.asarray(a.cast(pa.int32()), dtype=np.int64) * 86_400 * US
        elif kind == "bool":
            cols[name] = np.asarray(a, dtype=bool)
        elif kind == "dec":
            cols[name] = np.asarray(pc.cast(a, pa.float64()), dtype=np.float64)
        elif kind == "f64":
            cols[name] = np.asarray(a, dtype=np.float64)
        elif kind == "tags":
            arr = np.empty(len(a), dtype=object)
            arr[:] = a.to_pylist()
            cols[name] = arr
    # Arrow-backed numpy views are read-only; updates need writable copies.
    return Rows({k: np.array(v, copy=True) for k, v in cols.items()})


def _concat(a: Rows, b: Rows, schema: Schema) -> Rows:
    if not len(b):
        return a
    return Rows(
        {c: np.concatenate([a[c], b.cols.get(c, _empty_like(a[c], len(b)))]) for c, _ in schema}
    )


def _empty_like(col: np.ndarray, n: int) -> np.ndarray:
    if col.dtype == object:
        return np.full(n, None, dtype=object)
    return np.zeros(n, dtype=col.dtype)


def _in_window(rng: np.random.Generator, n: int, t_old: int, t_new: int) -> np.ndarray:
    """Times strictly inside ``(t_old, t_new)``."""
    return t_old + 1 + (rng.random(n) * (t_new - t_old - 2)).astype(np.int64)


def _pick(rng: np.random.Generator, mask: np.ndarray, share: float) -> np.ndarray:
    """Indices of a random ``share`` of the rows where ``mask`` holds — at least one row, so
    every increment exercises archives, deletions and unsubscribes even in tiny worlds."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return idx
    k = max(1, int(rng.binomial(idx.size, min(share, 1.0))))
    return np.sort(rng.choice(idx, size=min(k, idx.size), replace=False))


def advance(world: Path, days: int, *, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Advance a world by ``days`` days, mutating its files in place.

    Args:
        world: World directory (made by :func:`sandbox.world.generate`).
        days: Whole days to move the clock forward (>= 1).
        progress: Optional callback ``(stage, fraction)``.

    Returns:
        The new manifest (``version`` + 1, ``as_of`` + ``days``).

    Raises:
        WorldError: ``world`` is not a world directory, or ``days`` < 1.
    """
    world = Path(world)
    if not (world / MANIFEST).is_file() or not (world / "truth" / "_state.json").is_file():
        raise WorldError(f"{world} is not a world (no {MANIFEST}); run generate first")
    if int(days) != days or int(days) < 1:
        raise WorldError(f"days must be a whole number >= 1, got {days}")
    days = int(days)
    manifest = read_json(world / MANIFEST)
    state = read_json(world / "truth" / "_state.json")
    seed = int(manifest["seed"])
    v = int(manifest["version"]) + 1
    params = manifest["params"]
    t0 = parse_ts(manifest["start"])
    t_old = parse_ts(manifest["as_of"])
    t_new = t_old + days * DAY
    ap = params["advance"]
    frac30 = days / 30.0

    def tick(stage: str, frac: float) -> None:
        if progress is not None:
            progress(stage, frac)

    tick("load", 0.0)
    ids = Ids(state["ids"])
    old_people = people_from_table(read_parquet(world / "truth/people.parquet"))
    records = read_parquet(world / "truth/records.parquet")
    shop_db = world / "shop" / "shop.sqlite"
    con = sqlite3.connect(shop_db)
    g = _load_globals(
        world,
        con,
        params,
        seed,
        v,
        t_old,
        t_new,
        int(state.get("initial_people", manifest["people"])),
    )
    tick("load", 1.0)

    # --- new cohort ---------------------------------------------------------------------------
    tick("people", 0.0)
    n_new = int(
        stream(seed, v, "advance.count").poisson(g.population * ap["new_people_per_day"] * days)
    )
    taken = set()
    for col in ("email_personal", "email_alt", "email_work", "email_household"):
        taken.update(x for x in old_people[col] if x is not None)
    taken_phones = np.concatenate([old_people["phone_nat"], old_people["old_phone_nat"]])
    cohort = (
        make_people(
            stream(seed, v, "people"),
            max(n_new, 0),
            person_id_start=int(old_people["person_id"].max()) + 1,
            household_id_start=int(old_people["household_id"].max()) + 1,
            company_id_start=ids.next.get("companies", 1),
            t0=t_old,
            t1=t_new,
            params=params,
            taken_emails=taken,
            taken_phones=taken_phones,
        )
        if n_new > 0
        else None
    )
    if cohort is not None and cohort.companies is not None:
        ids.next["companies"] = int(cohort.companies.id.max()) + 1

    def sub(stage: str, frac: float) -> None:
        if progress is not None:
            progress(f"new_people.{stage}", frac)

    built = build_cohort(seed, v, cohort, t_new, t_old, ids, g, sub) if cohort is not None else None
    tick("people", 1.0)

    # --- handles of existing people -----------------------------------------------------------
    n_old = len(old_people)

    def handles(system: str, table: str) -> tuple[np.ndarray, np.ndarray]:
        sel = records.filter((pc.field("system") == system) & (pc.field("table") == table))
        ids_ = np.asarray(sel.column("record_id").to_pylist(), dtype=object)
        return ids_, np.asarray(sel.column("person_id"), dtype=np.int64) - 1

    dev_ids, dev_p = handles("web", "anonymous_ids")
    old_people.devices_person, old_people.devices_id = dev_p, dev_ids
    acc = _accounts(con, handles("shop", "customers"), n_old)
    new_records = Records()

    # --- shop ---------------------------------------------------------------------------------
    tick("shop", 0.0)
    rng = stream(seed, v, "advance.shop")
    alive = np.flatnonzero(old_people["bgnbd_alive"] & (old_people["n_purchases"] > 0))
    who, when, still, dropout = shop_mod.simulate_purchases(
        rng,
        old_people["bgnbd_lambda"][alive],
        old_people["bgnbd_p"][alive],
        np.full(alive.size, t_old, dtype=np.int64),
        np.zeros(alive.size, bool),
        t_new,
    )
    op = alive[who]
    shop_mod._record_purchase_state(
        old_people, alive, op, when, still, dropout, old_people["first_purchase_at"]
    )
    nc = int(rng.binomial(op.size, params["shop"]["cancelled_extra_share"])) if op.size else 0
    ci = rng.integers(0, max(op.size, 1), nc)
    all_p = np.concatenate([op, op[ci] if nc else np.zeros(0, np.int64)])
    all_t = np.concatenate(
        [
            when,
            np.maximum(when[ci] - (rng.random(nc) * DAY).astype(np.int64), t_old + 1)
            if nc
            else np.zeros(0, np.int64),
        ]
    )
    canc = np.r_[np.zeros(op.size, bool), np.ones(nc, bool)]
    devices = (old_people.devices_person, old_people.devices_id)
    shop_new, orders_web = shop_mod.make_orders(
        rng,
        old_people,
        all_p,
        all_t,
        canc,
        acc,
        devices,
        ids,
        g.catalog,
        g.crm_camps,
        g.esp_camps,
        params,
        t_new,
    )
    shop_people = np.flatnonzero(acc.account_id >= 0)
    ab = shop_mod.abandoned_carts(
        rng,
        old_people,
        shop_people,
        np.full(shop_people.size, t_old, np.int64),
        t_new,
        params["shop"]["abandoned_carts_per_customer"],
        acc,
        devices,
    )
    shop_new["carts"] = shop_mod.assign_cart_ids(shop_mod.concat_rows([shop_new["carts"], ab]), ids)
    for t in ("customers", "addresses", "orders", "carts"):
        rows = shop_new[t]
        if len(rows):
            new_records.add("shop", t, rows["id"], rows["_person"])
    _shop_updates(rng, con, t_old, t_new, frac30, params, ids, shop_new)
    if built is not None:
        for t in ("customers", "addresses", "orders", "order_lines", "refunds", "carts"):
            insert_rows(con, t, built.shop[t], SHOP[t])
    for t in ("customers", "addresses", "orders", "order_lines", "refunds", "carts"):
        insert_rows(con, t, shop_new[t], SHOP[t])
    con.commit()
    con.execute("VACUUM")
    con.close()
    tick("shop", 1.0)

    # --- CRM ----------------------------------------------------------------------------------
    tick("crm", 0.0)
    rng = stream(seed, v, "advance.crm")
    contacts = table_to_rows(read_parquet(world / "crm/contacts.parquet"), CRM["contacts"])
    c_ids, c_p = handles("crm", "contacts")
    person_of_contact = dict(zip(c_ids.tolist(), c_p.tolist(), strict=True))
    c_person = np.array([person_of_contact.get(str(i), -1) for i in contacts["id"]], dtype=np.int64)
    _crm_contact_updates(rng, contacts, c_person, op, when, t_old, t_new, frac30, ap)
    _crm_first_engagements(stream(seed, v, "advance.crm.first_engagement"), contacts, t_old, t_new)
    companies = table_to_rows(read_parquet(world / "crm/companies.parquet"), CRM["companies"])
    _touch(rng, companies, "hs_lastmodifieddate", ap["update_share_per_30d"] * frac30, t_old, t_new)
    arch = _pick(rng, ~companies["archived"], ap["archive_share_per_30d"] * frac30 / 2)
    at = _in_window(rng, arch.size, t_old, t_new)
    companies["archived"][arch] = True
    companies["archived_at"][arch] = at
    companies["hs_lastmodifieddate"][arch] = at
    deals = table_to_rows(read_parquet(world / "crm/deals.parquet"), CRM["deals"])
    _deal_updates(rng, deals, t_old, t_new, params)
    assoc = table_to_rows(read_parquet(world / "crm/associations.parquet"), CRM["associations"])
    if built is not None:
        contacts = _concat(contacts, built.crm["contacts"], CRM["contacts"])
        companies = _concat(companies, built.crm.get("companies", Rows()), CRM["companies"])
        deals = _concat(deals, built.crm["deals"], CRM["deals"])
        assoc = _concat(assoc, built.crm["associations"], CRM["associations"])
    write_parquet(rows_to_table(contacts, CRM["contacts"]), world / "crm/contacts.parquet")
    write_parquet(rows_to_table(companies, CRM["companies"]), world / "crm/companies.parquet")
    write_parquet(rows_to_table(deals, CRM["deals"]), world / "crm/deals.parquet")
    write_parquet(
        rows_to_table(assoc, CRM["associations"]),
        world / "crm/associations.parquet",
        sort_by=["from_type", "from_id", "to_type", "to_id"],
    )
    write_parquet(
        rows_to_table(crm_campaign_rows(g, t_new), CRM["campaigns"]),
        world / "crm/campaigns.parquet",
    )
    tick("crm", 1.0)
    del contacts, companies, deals, assoc

    # --- ESP ----------------------------------------------------------------------------------
    tick("esp", 0.0)
    rng = stream(seed, v, "advance.esp")
    prof_tbl = read_parquet(world / "esp/profiles.parquet")
    profiles = table_to_rows(prof_tbl, ESP["profiles"])
    p_ids, p_p = handles("esp", "profiles")
    person_of_profile = dict(zip(p_ids.tolist(), p_p.tolist(), strict=True))
    profiles["_person"] = np.array([person_of_profile[i] for i in profiles["id"]], dtype=np.int64)
    profiles["_country"] = old_people["country"][profiles["_person"]]
    profiles["_flags"] = _bad_email_flags(profiles["email"], profiles["_person"], old_people)
    # Unsubscribes inside the window.
    subscribed = profiles["email_consent"] == "SUBSCRIBED"
    un = _pick(rng, subscribed, ap["unsubscribe_share_per_30d"] * frac30)
    un_t = _in_window(rng, un.size, t_old, t_new)
    profiles["email_consent"][un] = "UNSUBSCRIBED"
    profiles["email_consent_timestamp"][un] = un_t
    sms_sub = un[profiles["sms_consent"][un] == "SUBSCRIBED"]
    profiles["sms_consent"][sms_sub] = "UNSUBSCRIBED"
    profiles["sms_consent_timestamp"][sms_sub] = profiles["email_consent_timestamp"][sms_sub]
    profiles["updated"][un] = un_t
    up = un_p = profiles["_person"][un]
    old_people["c_marketing_email"][up] = False
    old_people["c_sms"][up] = False
    old_people["unsubscribed_at"][un_p] = un_t
    _touch(rng, profiles, "updated", ap["update_share_per_30d"] * frac30, t_old, t_new)
    # Sends in the window to existing profiles (campaigns + flows) and unsubscribe events.
    triggers = flow_triggers(profiles, ab, orders_web, n_old)
    window_from = np.full(len(profiles), t_old, dtype=np.int64)
    sends = esp_mod.plan_sends(
        rng,
        profiles,
        g.esp_camps,
        window_from,
        t_new,
        params["esp"]["campaign_sends_mean"],
        False,
        triggers,
    )
    ev_new = esp_mod.events_from_sends(
        rng, sends, profiles, g.esp_camps, g.static, params, t_new, un, un_t
    )
    old_events = read_parquet(world / "esp/events.parquet")
    late = _late_esp_events(rng, old_events, profiles, g, t_old, ap["late_esp_share"])
    parts = [old_events, ev_new, late]
    if built is not None:
        parts.append(built.esp_events)
    events = pa.concat_tables([p.cast(EVENTS_SCHEMA) for p in parts])
    write_parquet(events, world / "esp/events.parquet")
    members = table_to_rows(read_parquet(world / "esp/list_members.parquet"), ESP["list_members"])
    if built is not None:
        profiles = _concat(profiles, built.esp["profiles"], ESP["profiles"])
        members = _concat(members, built.esp["list_members"], ESP["list_members"])
    write_parquet(rows_to_table(profiles, ESP["profiles"]), world / "esp/profiles.parquet")
    write_parquet(
        rows_to_table(members, ESP["list_members"]),
        world / "esp/list_members.parquet",
        sort_by=["list_id", "profile_id"],
    )
    write_parquet(
        rows_to_table(esp_mod.campaign_rows(g.esp_camps), ESP["campaigns"]),
        world / "esp/campaigns.parquet",
    )
    tick("esp", 1.0)
    del events, old_events, ev_new, late, parts, members, profiles, sends

    # --- helpdesk -----------------------------------------------------------------------------
    tick("helpdesk", 0.0)
    rng = stream(seed, v, "advance.helpdesk")
    users = table_to_rows(read_parquet(world / "helpdesk/users.parquet"), HELPDESK["users"])
    tickets = table_to_rows(read_parquet(world / "helpdesk/tickets.parquet"), HELPDESK["tickets"])
    ratings = table_to_rows(
        read_parquet(world / "helpdesk/satisfaction_ratings.parquet"),
        HELPDESK["satisfaction_ratings"],
    )
    nps = table_to_rows(
        read_parquet(world / "helpdesk/nps_responses.parquet"), HELPDESK["nps_responses"]
    )
    newly_solved = _ticket_updates(rng, tickets, t_old, t_new, frac30, ap)
    _touch(
        rng,
        users,
        "updated_at",
        ap["update_share_per_30d"] * frac30 * (users["role"] == "end-user"),
        t_old,
        t_new,
    )
    end_users = np.flatnonzero(users["role"] == "end-user")
    k = rng.poisson(0.5 * days / 365.0, end_users.size)
    req = np.repeat(users["id"][end_users], k)
    new_t = hd_mod.make_tickets(
        rng, req, _in_window(rng, req.size, t_old, t_new), g.agent_ids, t_new, ids
    )
    rate_src = (
        _concat(tickets.take(newly_solved), new_t, HELPDESK["tickets"])
        if newly_solved.size
        else new_t
    )
    new_r, new_n = hd_mod.ratings_and_nps(
        rng,
        rate_src,
        users,
        t_new,
        ids,
        {
            **params,
            "helpdesk": {
                **params["helpdesk"],
                "nps_share": params["helpdesk"]["nps_share"] * days / 365.0,
            },
        },
    )
    keep_n = new_n["created_at"] > t_old if len(new_n) else np.zeros(0, bool)
    new_n = new_n.take(np.flatnonzero(keep_n)) if len(new_n) else new_n
    keep_r = new_r["created_at"] > t_old if len(new_r) else np.zeros(0, bool)
    new_r = new_r.take(np.flatnonzero(keep_r)) if len(new_r) else new_r
    tickets = _concat(tickets, new_t, HELPDESK["tickets"])
    ratings = _concat(ratings, new_r, HELPDESK["satisfaction_ratings"])
    nps = _concat(nps, new_n, HELPDESK["nps_responses"])
    if built is not None:
        users = _concat(users, built.helpdesk["users"], HELPDESK["users"])
        for name, rows in (
            ("tickets", tickets),
            ("satisfaction_ratings", ratings),
            ("nps_responses", nps),
        ):
            merged = _concat(rows, built.helpdesk[name], HELPDESK[name])
            if name == "tickets":
                tickets = merged
            elif name == "satisfaction_ratings":
                ratings = merged
            else:
                nps = merged
    write_parquet(rows_to_table(users, HELPDESK["users"]), world / "helpdesk/users.parquet")
    write_parquet(rows_to_table(tickets, HELPDESK["tickets"]), world / "helpdesk/tickets.parquet")
    write_parquet(
        rows_to_table(ratings, HELPDESK["satisfaction_ratings"]),
        world / "helpdesk/satisfaction_ratings.parquet",
    )
    write_parquet(
        rows_to_table(nps, HELPDESK["nps_responses"]), world / "helpdesk/nps_responses.parquet"
    )
    tick("helpdesk", 1.0)
    del users, tickets, ratings, nps, new_t

    # --- web ----------------------------------------------------------------------------------
    tick("web", 0.0)
    rng = stream(seed, v, "advance.web")
    sessions = web_mod.build_sessions(
        rng,
        old_people,
        devices,
        acc.login,
        orders_web,
        [],
        g.crm_camps,
        g.catalog,
        t_old,
        t_new,
        params,
        n_old,
    )
    late_params = {
        **params,
        "web": {
            **params["web"],
            "browse_sessions_per_person_90d": params["web"]["browse_sessions_per_person_90d"]
            * ap["late_web_share"]
            * 30,
            "anonymous_sessions_per_person_90d": 0.0,
        },
    }
    empty_orders = orders_web.take(np.zeros(0, np.int64))
    late_s = web_mod.build_sessions(
        rng,
        old_people,
        devices,
        acc.login,
        empty_orders,
        [],
        g.crm_camps,
        g.catalog,
        t_old - 3 * DAY,
        t_old,
        late_params,
        n_old,
    )
    ev_parts = [
        before(web_mod.session_events(rng, sessions), t_new),
        before(web_mod.session_events(rng, late_s), t_old),
    ]
    co_parts = [before(web_mod.consent_events(rng, sessions, old_people), t_new)]
    if built is not None:
        ev_parts.append(built.web_events)
        co_parts.append(built.web_consent)
    ev = {k: np.concatenate([p[k] for p in ev_parts]) for k in ev_parts[0]}
    co = {k: np.concatenate([p[k] for p in co_parts]) for k in co_parts[0]}
    frng = stream(seed, v, "web.files")
    ev_files, ev_bad, ev_n = write_drops(world, "events", ev, v, frng, params)
    co_files, co_bad, co_n = write_drops(world, "consent", co, v, frng, params)
    del ev, co, ev_parts, co_parts, sessions, late_s
    tick("web", 1.0)

    # --- truth --------------------------------------------------------------------------------
    tick("truth", 0.0)
    old_people_tbl = people_table(old_people, e164)
    rec_old_tbl = records
    rec_new_old = records_table(new_records, old_people)
    parts_p = [old_people_tbl]
    parts_r = [rec_old_tbl, rec_new_old]
    if built is not None and cohort is not None:
        parts_p.append(people_table(cohort, e164))
        parts_r.append(records_table(built.records, cohort))
    people_all = pa.concat_tables(parts_p)
    write_parquet(people_all, world / "truth/people.parquet", sort_by=["person_id"])
    write_parquet(
        pa.concat_tables(parts_r),
        world / "truth/records.parquet",
        sort_by=["system", "table", "record_id"],
    )
    n_people = people_all.num_rows
    write_parquet(
        consent_truth_table(people_all, t_new),
        world / "truth/consent.parquet",
        sort_by=["person_id", "purpose"],
    )
    state["web"]["events"] = sorted(set(state["web"]["events"]) | set(ev_files))
    state["web"]["consent"] = sorted(set(state["web"]["consent"]) | set(co_files))
    state["malformed"]["events"] += ev_bad
    state["malformed"]["consent"] += co_bad
    state["web_rows"]["events"] += ev_n
    state["web_rows"]["consent"] += co_n
    state["ids"] = dict(sorted(ids.next.items()))
    state.setdefault("initial_people", int(manifest["people"]))
    write_json(state, world / "truth/_state.json")
    tick("truth", 1.0)

    from sandbox.world.generate import finish_manifest

    return finish_manifest(world, seed, n_people, v, t0, t_new, params, None)


# --- loading ------------------------------------------------------------------------------------


def _load_globals(
    world: Path,
    con: sqlite3.Connection,
    params: dict[str, Any],
    seed: int,
    v: int,
    t_old: int,
    t_new: int,
    population: int,
) -> Globals:
    """Rebuild world-level objects from the files, plus campaigns starting in the window."""
    prod = con.execute("SELECT id, sku, price FROM products ORDER BY id").fetchall()
    pid = np.array([r[0] for r in prod], dtype=np.int64)
    price = np.array([float(r[2]) for r in prod])
    catalog = shop_mod.Catalog(
        pid, obj([r[1] for r in prod]), price, np.argsort(price, kind="stable")
    )

    crm_c = read_parquet(world / "crm/campaigns.parquet")
    cr = table_to_rows(crm_c, CRM["campaigns"])
    from sandbox.world.systems.marketing import slugify

    old_c = CrmCampaigns(
        id=cr["id"],
        name=cr["hs_name"],
        slug=obj([slugify(x) for x in cr["hs_name"]]),
        channel=np.full(len(cr), "google", dtype=object),
        country=obj([x.split(" ")[-2] for x in cr["hs_name"]]),
        start=cr["hs_start_date"],
        end=cr["hs_end_date"],
        budget=cr["hs_budget_items_sum_amount"],
        expected_revenue=cr["hs_expected_revenue"],
        currency=cr["hs_currency_code"],
        created=cr["createdAt"],
    )
    new_c = crm_campaigns(stream(seed, v, "crm.campaigns"), t_old, t_new, population)
    camps = CrmCampaigns(
        **{
            f: np.concatenate([getattr(old_c, f), getattr(new_c, f)])
            for f in old_c.__dataclass_fields__
        }
    )
    order = np.argsort(camps.start, kind="stable")
    camps = CrmCampaigns(**{f: getattr(camps, f)[order] for f in camps.__dataclass_fields__})

    ec = table_to_rows(read_parquet(world / "esp/campaigns.parquet"), ESP["campaigns"])
    from sandbox.world.systems.marketing import subject_for

    subj = subject_for(ec["id"])
    old_e = EmailCampaigns(
        id=ec["id"],
        name=ec["name"],
        slug=obj([slugify(x) for x in ec["name"]]),
        subject=subj,
        country=obj([x.split(" ")[-1] for x in ec["name"]]),
        send_time=ec["send_time"],
        created=ec["created_at"],
    )
    new_e = email_campaigns(
        stream(seed, v, "esp.campaigns"), t_old, t_new, params["esp"]["campaigns_per_week"]
    )
    ecs = EmailCampaigns(
        **{
            f: np.concatenate([getattr(old_e, f), getattr(new_e, f)])
            for f in old_e.__dataclass_fields__
        }
    )
    order = np.argsort(ecs.send_time, kind="stable")
    ecs = EmailCampaigns(**{f: getattr(ecs, f)[order] for f in ecs.__dataclass_fields__})

    owners = table_to_rows(read_parquet(world / "crm/owners.parquet"), CRM["owners"])
    metrics = table_to_rows(read_parquet(world / "esp/metrics.parquet"), ESP["metrics"])
    lists = table_to_rows(read_parquet(world / "esp/lists.parquet"), ESP["lists"])
    flows = table_to_rows(read_parquet(world / "esp/flows.parquet"), ESP["flows"])
    by_name = {f[0]: f[2] for f in FLOWS}
    flows["_subject"] = obj([by_name[n] for n in flows["name"]])
    # Keep METRICS order (events index metrics by position).
    m_order = np.argsort([esp_mod.METRICS.index(n) for n in metrics["name"]])
    metrics = metrics.take(m_order)
    f_order = np.argsort([[f[0] for f in FLOWS].index(n) for n in flows["name"]])
    flows = flows.take(f_order)
    static = esp_mod.EspStatic(metrics, lists, flows)
    users = read_parquet(world / "helpdesk/users.parquet")
    role = np.asarray(users.column("role").to_pylist(), dtype=object)
    agent_ids = np.asarray(users.column("id"), dtype=np.int64)[role == "agent"]
    return Globals(params, catalog, camps, ecs, owners, static, agent_ids, population)


def _accounts(
    con: sqlite3.Connection, shop_handles: tuple[np.ndarray, np.ndarray], n: int
) -> shop_mod.Accounts:
    """Registered account (lowest id, not deleted) per existing person with its defaults."""
    ids_s, pidx = shop_handles
    person_of = dict(zip((int(x) for x in ids_s), pidx.tolist(), strict=True))
    acc = shop_mod.Accounts(
        account_id=np.full(n, -1, dtype=np.int64),
        email=np.full(n, None, dtype=object),
        phone=np.full(n, None, dtype=object),
        billing_id=np.full(n, -1, dtype=np.int64),
        shipping_id=np.full(n, -1, dtype=np.int64),
        login=np.full(n, None, dtype=object),
    )
    rows = con.execute(
        "SELECT id, email, phone, login FROM customers WHERE is_guest = 0 AND deleted_at IS NULL ORDER BY id DESC"
    ).fetchall()
    for cid, email, phone, login in rows:  # descending: the lowest id wins
        p = person_of.get(int(cid))
        if p is None:
            continue
        acc.account_id[p] = cid
        acc.email[p] = email
        acc.phone[p] = phone
        acc.login[p] = login
    addr = con.execute("SELECT id, customer_id, kind FROM addresses ORDER BY id DESC").fetchall()
    cust_person = {int(c): i for i, c in enumerate(acc.account_id.tolist()) if c >= 0}
    for aid, cid, kind in addr:
        p = cust_person.get(int(cid))
        if p is None:
            continue
        if kind == "billing":
            acc.billing_id[p] = aid
        else:
            acc.shipping_id[p] = aid
    acc.shipping_id = np.where(acc.shipping_id < 0, acc.billing_id, acc.shipping_id)
    return acc


# --- updates --------------------------------------------------------------------------------------


def _touch(
    rng: np.random.Generator, rows: Rows, col: str, share: Any, t_old: int, t_new: int
) -> np.ndarray:
    """Bump ``col`` to a time inside the window for a random share of rows."""
    n = len(rows)
    sel = np.flatnonzero(rng.random(n) < share)
    rows[col][sel] = np.maximum(rows[col][sel], _in_window(rng, sel.size, t_old, t_new))
    return sel


def _shop_updates(
    rng: np.random.Generator,
    con: sqlite3.Connection,
    t_old: int,
    t_new: int,
    frac30: float,
    params: dict[str, Any],
    ids: Ids,
    shop_new: dict[str, Rows],
) -> None:
    """Status progression, refunds, customer and product edits, carts going stale (SQL)."""
    ap = params["advance"]

    def ts(us: np.ndarray) -> list[str]:
        return sql_ts(us)  # type: ignore[return-value]

    rows = con.execute(
        "SELECT id, status, placed_at FROM orders WHERE status IN ('pending','paid','shipped') ORDER BY id"
    ).fetchall()
    if rows:
        oid = np.array([r[0] for r in rows], dtype=np.int64)
        old_status = np.array([r[1] for r in rows], dtype=object)
        placed = np.array([parse_ts(r[2].replace(" ", "T") + "Z") for r in rows], dtype=np.int64)
        status, _ = shop_mod._status(rng, placed, t_new)
        rank = {"pending": 0, "paid": 1, "shipped": 2, "delivered": 3}
        adv = np.array(
            [rank[s] > rank[o] for s, o in zip(status, old_status, strict=True)], dtype=bool
        )
        when = _in_window(rng, int(adv.sum()), t_old, t_new)
        con.executemany(
            "UPDATE orders SET status = ?, updated_at = ? WHERE id = ?",
            list(zip(status[adv].tolist(), ts(when), oid[adv].tolist(), strict=True)),
        )
    # Refunds for a few recently delivered orders.
    rows = con.execute(
        "SELECT id, total, subtotal, currency FROM orders WHERE status = 'delivered' AND placed_at >= ? ORDER BY id",
        (sql_ts(np.array([t_old - 40 * DAY]))[0],),
    ).fetchall()
    if rows:
        share = (
            (params["shop"]["refunded_share"] + params["shop"]["partially_refunded_share"])
            * frac30
            * 0.7
        )
        sel = np.flatnonzero(rng.random(len(rows)) < share)
        if sel.size:
            full = rng.random(sel.size) < 0.4
            when = np.sort(_in_window(rng, sel.size, t_old, t_new))
            oid = np.array([rows[i][0] for i in sel], dtype=np.int64)
            amount = np.array(
                [
                    rows[i][1] if f else round(rows[i][2] * float(rng.uniform(0.1, 0.6)), 2)
                    for i, f in zip(sel, full, strict=True)
                ]
            )
            cur = obj([rows[i][3] for i in sel])
            status = np.where(full, "refunded", "partially_refunded")
            con.executemany(
                "UPDATE orders SET status = ?, updated_at = ? WHERE id = ?",
                list(zip(status.tolist(), ts(when), oid.tolist(), strict=True)),
            )
            shop_new["refunds"] = shop_mod.concat_rows(
                [
                    shop_new["refunds"],
                    Rows(
                        {
                            "id": ids.take("refunds", sel.size),
                            "order_id": oid,
                            "amount": amount,
                            "currency": cur,
                            "reason": shop_mod.REFUND_REASONS[
                                rng.integers(0, shop_mod.REFUND_REASONS.size, sel.size)
                            ],
                            "refunded_at": when,
                            "created_at": when,
                            "updated_at": when,
                        }
                    ),
                ]
            )
    # Customers edit their profile (phone retyped, marketing preference) → updated_at bumped.
    (n_cust,) = con.execute("SELECT COUNT(*) FROM customers").fetchone()
    if n_cust:
        k = int(rng.binomial(n_cust, min(ap["update_share_per_30d"] * frac30, 1.0)))
        cid = np.unique(rng.integers(1, n_cust + 1, k))
        when = _in_window(rng, cid.size, t_old, t_new)
        flip = rng.random(cid.size) < 0.3
        con.executemany(
            "UPDATE customers SET updated_at = ?, accepts_marketing = CASE WHEN ? THEN 1 - accepts_marketing "
            "ELSE accepts_marketing END, phone = CASE WHEN ? AND phone IS NOT NULL THEN REPLACE(phone, ' ', '') "
            "ELSE phone END WHERE id = ?",
            list(
                zip(
                    ts(when),
                    flip.astype(int).tolist(),
                    (~flip).astype(int).tolist(),
                    cid.tolist(),
                    strict=True,
                )
            ),
        )
    # Price and stock changes on a few products.
    (n_prod,) = con.execute("SELECT COUNT(*) FROM products").fetchone()
    pid = np.unique(rng.integers(1, n_prod + 1, max(1, int(n_prod * 0.02 * frac30 * 3))))
    when = _in_window(rng, pid.size, t_old, t_new)
    stock = rng.integers(0, 500, pid.size)
    con.executemany(
        "UPDATE products SET stock_qty = ?, updated_at = ? WHERE id = ?",
        list(zip(stock.tolist(), ts(when), pid.tolist(), strict=True)),
    )
    # Open carts older than a day are abandoned now.
    rows = con.execute(
        "SELECT id, created_at FROM carts WHERE status = 'open' ORDER BY id"
    ).fetchall()
    if rows:
        cid = np.array([r[0] for r in rows], dtype=np.int64)
        created = np.array([parse_ts(r[1].replace(" ", "T") + "Z") for r in rows], dtype=np.int64)
        when = np.maximum(created + DAY, t_old + 1)
        when = np.minimum(when, t_new - 1)
        con.executemany(
            "UPDATE carts SET status = 'abandoned', updated_at = ? WHERE id = ?",
            list(zip(ts(when), cid.tolist(), strict=True)),
        )


def _crm_contact_updates(
    rng: np.random.Generator,
    contacts: Rows,
    c_person: np.ndarray,
    buyers: np.ndarray,
    bought_at: np.ndarray,
    t_old: int,
    t_new: int,
    frac30: float,
    ap: dict[str, Any],
) -> None:
    """Edits, lifecycle progress to customer for new purchases, archiving — inside the window."""
    touched = _touch(
        rng, contacts, "lastmodifieddate", ap["update_share_per_30d"] * frac30, t_old, t_new
    )
    status = obj(["OPEN", "IN_PROGRESS", "CONNECTED", "ATTEMPTED_TO_CONTACT", "BAD_TIMING"])
    contacts["hs_lead_status"][touched] = status[rng.integers(0, status.size, touched.size)]
    # Contacts of people who bought in the window become customers.
    first_buy: dict[int, int] = {}
    for p, t in zip(buyers.tolist(), bought_at.tolist(), strict=True):
        if p not in first_buy or t < first_buy[p]:
            first_buy[p] = t
    for i in np.flatnonzero(c_person >= 0):
        t = first_buy.get(int(c_person[i]))
        if t is None or contacts["archived"][i] or contacts["lifecyclestage"][i] == "customer":
            continue
        contacts["lifecyclestage"][i] = "customer"
        contacts["hs_lifecyclestage_customer_date"][i] = t
        contacts["lastmodifieddate"][i] = max(int(contacts["lastmodifieddate"][i]), t)
    arch = _pick(rng, ~contacts["archived"], ap["archive_share_per_30d"] * frac30)
    at = _in_window(rng, arch.size, t_old, t_new)
    contacts["archived"][arch] = True
    contacts["archived_at"][arch] = at
    contacts["lastmodifieddate"][arch] = np.maximum(contacts["lastmodifieddate"][arch], at)


# Contacts created this many days before the window are still followed up in it.
FOLLOW_UP_DAYS = 14


def _crm_first_engagements(
    rng: np.random.Generator, contacts: Rows, t_old: int, t_new: int
) -> None:
    """Owners follow up recent contacts they had not engaged yet — inside the window.

    Drawn like ``first_engagement`` of a new cohort, from a later start: the contact was still
    waiting at ``t_old``. Contacts older than ``FOLLOW_UP_DAYS`` that were never engaged stay
    so (leads sales let go). Setting the property modifies the contact.
    """
    from sandbox.world.systems.crm import first_engagement

    waiting = np.flatnonzero(
        (contacts["hs_sa_first_engagement_date"] == 0)
        & (contacts["hubspot_owner_id"] > 0)
        & ~contacts["archived"]
        & (contacts["createdate"] > t_old - FOLLOW_UP_DAYS * DAY)
    )
    b2b = np.array([t is not None for t in contacts["jobtitle"][waiting]], dtype=bool)
    start = np.full(waiting.size, t_old, dtype=np.int64)
    at = first_engagement(
        rng,
        contacts["hubspot_owner_id"][waiting],
        b2b,
        start,
        np.zeros(waiting.size, dtype=np.int64),
        t_new,
    )
    hit = at > 0
    rows = waiting[hit]
    contacts["hs_sa_first_engagement_date"][rows] = at[hit]
    contacts["lastmodifieddate"][rows] = np.maximum(contacts["lastmodifieddate"][rows], at[hit])


def _deal_updates(
    rng: np.random.Generator, deals: Rows, t_old: int, t_new: int, params: dict[str, Any]
) -> None:
    """Open deals whose close date passed are won or lost; others may move a stage."""
    from sandbox.world.systems.crm import DEAL_OPEN_STAGES, LOST_REASONS

    open_ = ~np.isin(deals["dealstage"], ["closedwon", "closedlost"]) & ~deals["archived"]
    closing = np.flatnonzero(open_ & (deals["closedate"] <= t_new))
    won = rng.random(closing.size) < params["crm"]["win_rate"]
    deals["dealstage"][closing] = np.where(won, "closedwon", "closedlost")
    deals["closed_lost_reason"][closing] = np.where(
        won, None, LOST_REASONS[rng.integers(0, LOST_REASONS.size, closing.size)]
    )
    cd = np.maximum(deals["closedate"][closing], t_old + 1)
    deals["closedate"][closing] = cd
    deals["hs_lastmodifieddate"][closing] = cd
    moving = np.flatnonzero(open_ & (deals["closedate"] > t_new) & (rng.random(len(deals)) < 0.3))
    stage_idx = np.array(
        [DEAL_OPEN_STAGES.index(s) for s in deals["dealstage"][moving]], dtype=np.int64
    )
    deals["dealstage"][moving] = obj(DEAL_OPEN_STAGES)[
        np.minimum(stage_idx + 1, len(DEAL_OPEN_STAGES) - 1)
    ]
    deals["hs_lastmodifieddate"][moving] = _in_window(rng, moving.size, t_old, t_new)


def _ticket_updates(
    rng: np.random.Generator,
    tickets: Rows,
    t_old: int,
    t_new: int,
    frac30: float,
    ap: dict[str, Any],
) -> np.ndarray:
    """Replies, solves, closes and deletions inside the window. Returns newly solved rows."""
    st = tickets["status"]
    days = frac30 * 30
    # Unanswered tickets get a first reply.
    new = np.flatnonzero((st == "new") & (rng.random(len(tickets)) < min(1.0, days / 1.0)))
    t = _in_window(rng, new.size, t_old, t_new)
    st[new] = "open"
    tickets["first_reply_at"][new] = t
    tickets["updated_at"][new] = t
    # Open/pending/hold tickets get solved with a ~2-day mean.
    act = np.flatnonzero(
        np.isin(st, ["open", "pending", "hold"])
        & (rng.random(len(tickets)) < 1 - np.exp(-days / 2.0))
    )
    t = _in_window(rng, act.size, t_old, t_new)
    t = np.maximum(t, tickets["first_reply_at"][act] + MINUTE)
    ok = t < t_new
    act, t = act[ok], t[ok]
    st[act] = "solved"
    tickets["solved_at"][act] = t
    tickets["updated_at"][act] = t
    # Solved for 4 days → closed.
    close_t = tickets["solved_at"] + 4 * DAY
    cl = np.flatnonzero((st == "solved") & (close_t > t_old) & (close_t < t_new))
    st[cl] = "closed"
    tickets["updated_at"][cl] = close_t[cl]
    # Deleted tickets keep their row with status 'deleted' (Zendesk exports them so).
    dele = _pick(rng, st != "deleted", ap["ticket_delete_share_per_30d"] * frac30)
    t = _in_window(rng, dele.size, t_old, t_new)
    st[dele] = "deleted"
    tickets["updated_at"][dele] = np.maximum(tickets["updated_at"][dele], t)
    return act[st[act] == "solved"]


def _bad_email_flags(emails: np.ndarray, pidx: np.ndarray, people: People) -> np.ndarray:
    """Flag addresses that are not a normalised form of one of the person's true emails
    (typos and junk values bounce hard)."""

    def norm(e: str | None) -> str | None:
        if e is None:
            return None
        e = e.strip().lower()
        local, _, dom = e.partition("@")
        local = local.split("+", 1)[0]
        if dom in ("gmail.com", "googlemail.com"):
            local, dom = local.replace(".", ""), "gmail.com"
        return f"{local}@{dom}"

    out = np.zeros(emails.size, dtype=np.int64)
    cols = [people[c] for c in ("email_personal", "email_alt", "email_work", "email_household")]
    for i, (e, p) in enumerate(zip(emails.tolist(), pidx.tolist(), strict=True)):
        n = norm(e)
        if n is None:
            continue
        if n not in {norm(c[p]) for c in cols if c[p] is not None}:
            out[i] = 16
    return out


def _late_esp_events(
    rng: np.random.Generator, ev: pa.Table, profiles: Rows, g: Globals, t_old: int, share: float
) -> pa.Table:
    """Opens/clicks that arrive late: ``datetime`` up to 2 days before the previous ``as_of``."""
    recv_id = str(g.static.metrics["id"][esp_mod.METRICS.index("Received Email")])
    ts = np.asarray(ev.column("datetime").cast(pa.int64()), dtype=np.int64)
    # Arrow kernels, not Python strings: the events table has millions of rows.
    is_recv = np.asarray(
        pc.equal(ev.column("metric_id"), recv_id).combine_chunks().fill_null(False), dtype=bool
    )
    cand = np.flatnonzero(is_recv & (ts >= t_old - 2 * DAY) & (ts < t_old - MINUTE))
    base_rate = max(share * 20, 0.05)
    pick = cand[rng.random(cand.size) < base_rate]
    if pick.size == 0 and cand.size:
        # Increments always carry late events when there are receipts to open late (as they
        # always carry archives and unsubscribes), however small the world.
        pick = cand[[int(rng.integers(0, cand.size))]]
    if pick.size == 0:
        return EVENTS_SCHEMA.empty_table()
    prof_index = {pid: i for i, pid in enumerate(profiles["id"].tolist())}
    pids = np.asarray(ev.column("profile_id").take(pa.array(pick)).to_pylist(), dtype=object)
    rows = np.array([prof_index[p] for p in pids], dtype=np.int64)
    camp_ids = ev.column("campaign_id").take(pa.array(pick)).to_pylist()
    flow_ids = ev.column("flow_id").take(pa.array(pick)).to_pylist()
    cidx = {c: i for i, c in enumerate(g.esp_camps.id.tolist())}
    fidx = {f: i for i, f in enumerate(g.static.flows["id"].tolist())}
    camp = np.array([cidx.get(c, -1) if c else -1 for c in camp_ids], dtype=np.int64)
    flow = np.array([fidx.get(f, -1) if f else -1 for f in flow_ids], dtype=np.int64)
    t = ts[pick] + ((t_old - ts[pick]) * rng.random(pick.size)).astype(np.int64)
    t = np.minimum(t, t_old - 1)
    mi = np.full(pick.size, esp_mod.METRICS.index("Opened Email"), dtype=np.int64)
    return esp_mod.build_event_table(
        rng,
        rows,
        camp,
        flow,
        mi,
        t,
        np.zeros(pick.size, bool),
        np.zeros(pick.size, bool),
        profiles,
        g.esp_camps,
        g.static,
    )


__all__ = ["HOUR", "advance"]
