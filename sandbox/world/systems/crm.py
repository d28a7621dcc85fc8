"""The CRM (HubSpot-like): owners, companies, contacts with lifecycle stages, deals, campaigns
and associations (contacts→companies, deals→contacts, deals→companies, contacts→campaigns).

Who is in the CRM: every B2B lead, about a third of shop buyers (synced customers) and some
newsletter subscribers/leads; a few people have two contacts (form fills with another email).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sandbox.world.core import DAY, HOUR, choice, num_str, obj
from sandbox.world.names import COUNTRIES, country_names
from sandbox.world.noise import EmailNoise
from sandbox.world.people import People
from sandbox.world.systems import Ids, Rows
from sandbox.world.systems.marketing import CrmCampaigns, active_campaign
from sandbox.world.typed import (
    EmailChoice,
    country_text,
    pick_address,
    pick_email,
    pick_names,
    pick_phone,
)

STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
)
DEAL_OPEN_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
)
LOST_REASONS = obj(
    [
        "Price too high",
        "Chose competitor",
        "No budget",
        "Bad timing",
        "No response",
        "Not a fit",
        "Project cancelled",
    ]
)
SOURCES = obj(
    [
        "ORGANIC_SEARCH",
        "PAID_SEARCH",
        "EMAIL_MARKETING",
        "SOCIAL_MEDIA",
        "REFERRALS",
        "OTHER_CAMPAIGNS",
        "DIRECT_TRAFFIC",
        "OFFLINE",
        "PAID_SOCIAL",
    ]
)
LEAD_STATUS = obj(
    [
        "NEW",
        "OPEN",
        "IN_PROGRESS",
        "OPEN_DEAL",
        "UNQUALIFIED",
        "ATTEMPTED_TO_CONTACT",
        "CONNECTED",
        "BAD_TIMING",
    ]
)
DEAL_PRODUCTS = obj(
    [
        "Velkoobchod",
        "Roční kontrakt",
        "Pilotní objednávka",
        "Rámcová smlouva",
        "Dodávka Q",
        "Zamówienie hurtowe",
        "Partnerský program",
    ]
)
# Association type ids (HubSpot v4 defaults; contacts→campaigns is sandbox-specific).
ASSOC_CONTACT_COMPANY = 1
ASSOC_DEAL_CONTACT = 3
ASSOC_DEAL_COMPANY = 5
ASSOC_CONTACT_CAMPAIGN = 1001

CRM_EMAIL = EmailNoise(case=0.08, dots=0.1, tag=0.03, alias=0.05, typo=0.02, space=0.01, junk=0.012)
BUSINESS_DOMAIN = "vltava-shop.cz"


def build_owners(rng: np.random.Generator, people: int, t0: int) -> Rows:
    """Sales owners with a region (CZ/SK/PL); a few archived."""
    n = int(np.clip(6 + people // 5000, 6, 200))
    region = obj(COUNTRIES)[choice(rng, n, (0.55, 0.2, 0.25))]
    region[:3] = obj(COUNTRIES)  # every region has an owner
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    fa = np.empty(n, dtype=object)
    la = np.empty(n, dtype=object)
    for cty in COUNTRIES:
        sel = np.flatnonzero(region == cty)
        v = country_names(cty)
        fi = rng.integers(0, v.first_m.values.size, sel.size)
        li = rng.integers(0, v.last_m.values.size, sel.size)
        first[sel], fa[sel] = v.first_m.values[fi], v.first_m.ascii[fi]
        last[sel], la[sel] = v.last_m.values[li], v.last_m.ascii[li]
    ids = 100_000 + np.arange(1, n + 1, dtype=np.int64) * 37
    email = (
        obj([f"{a.lower()}.{b.lower()}" for a, b in zip(fa, la, strict=True)])
        + num_str(ids % 100)
        + "@"
        + BUSINESS_DOMAIN
    )
    created = t0 - rng.integers(30, 400, n) * DAY
    return Rows(
        {
            "id": ids,
            "email": email,
            "firstName": first,
            "lastName": last,
            "region": region,
            "createdAt": created,
            "updatedAt": created + rng.integers(0, 30, n) * DAY,
            "archived": rng.random(n) < 0.05,
        }
    )


def owner_for(rng: np.random.Generator, owners: Rows, country: np.ndarray) -> np.ndarray:
    """A random active owner from the record's region."""
    out = np.zeros(country.size, dtype=np.int64)
    active = ~owners["archived"]
    for cty in COUNTRIES:
        sel = np.flatnonzero(country == cty)
        pool = owners["id"][active & (owners["region"] == cty)]
        if pool.size == 0:
            pool = owners["id"][owners["region"] == cty]
        out[sel] = pool[rng.integers(0, pool.size, sel.size)]
    return out


def _next_stage_time(rng: np.random.Generator, t: np.ndarray, mean_days: float) -> np.ndarray:
    return t + (rng.exponential(mean_days, t.size) * DAY).astype(np.int64) + HOUR


def crm_cohort(
    rng: np.random.Generator,
    people: People,
    t_end: int,
    ids: Ids,
    owners: Rows,
    camps: CrmCampaigns,
    params: dict[str, Any],
    engagement_rng: np.random.Generator,
) -> dict[str, Rows]:
    """Companies, contacts, deals and associations for a cohort (times < ``t_end``).

    ``engagement_rng`` draws the owners' first engagements (its own stream, so the other
    values do not depend on it).
    """
    cp = params["crm"]
    out: dict[str, Rows] = {}
    comp = people.companies
    if comp is not None and len(comp):
        nco = len(comp)
        c_owner = owner_for(rng, owners, comp.country)
        c_mod = np.where(
            rng.random(nco) < 0.4,
            comp.created_at + ((t_end - comp.created_at) * rng.random(nco)).astype(np.int64),
            comp.created_at,
        )
        c_arch = rng.random(nco) < cp["archived_share"] / 2
        c_arch_at = np.where(
            c_arch, c_mod + ((t_end - c_mod) * rng.random(nco)).astype(np.int64), 0
        )
        out["companies"] = Rows(
            {
                "id": comp.id,
                "name": comp.name,
                "domain": np.where(rng.random(nco) < 0.1, "www." + comp.domain, comp.domain),
                "industry": comp.industry,
                "numberofemployees": comp.employees,
                "annualrevenue": comp.revenue,
                "city": comp.city,
                "country": country_text(rng, comp.country),
                "hubspot_owner_id": c_owner,
                "createdate": comp.created_at,
                "hs_lastmodifieddate": np.maximum(c_mod, c_arch_at),
                "archived": c_arch,
                "archived_at": c_arch_at,
            }
        )
        owner_of_company = dict(zip(comp.id.tolist(), c_owner.tolist(), strict=True))
        name_of_company = dict(zip(comp.id.tolist(), comp.name.tolist(), strict=True))
        country_of_company = dict(zip(comp.id.tolist(), comp.country.tolist(), strict=True))
    else:
        owner_of_company, name_of_company, country_of_company = {}, {}, {}

    base = np.flatnonzero(people["in_crm"])
    dup = base[rng.random(base.size) < cp["duplicate_contact_share"]]
    pidx = np.concatenate([base, dup])
    is_dup = np.r_[np.zeros(base.size, bool), np.ones(dup.size, bool)]
    n = pidx.size
    b2b = people["is_b2b"][pidx]
    buyer_first = people["first_purchase_at"][pidx]
    created = people["created_at"][pidx] + (rng.random(n) * np.where(b2b, 3, 20) * DAY).astype(
        np.int64
    )
    synced = ~b2b & (buyer_first > 0) & (rng.random(n) < 0.6)
    created = np.where(synced, buyer_first + (rng.random(n) * 2 * DAY).astype(np.int64), created)
    created = np.where(is_dup, created + (rng.random(n) * 200 * DAY).astype(np.int64), created)
    created = np.minimum(created, t_end - HOUR)
    order = np.argsort(created, kind="stable")
    pidx, b2b, created, is_dup, buyer_first = (
        pidx[order],
        b2b[order],
        created[order],
        is_dup[order],
        buyer_first[order],
    )
    cid = ids.take("contacts", n)

    how_b2b = EmailChoice(personal=0.15, alt=0.05, work=0.8, household=0.0)
    e_b2b, _ = pick_email(rng, people, pidx, how_b2b, CRM_EMAIL, missing=0.03)
    e_oth, _ = pick_email(rng, people, pidx, EmailChoice(household=0.1), CRM_EMAIL, missing=0.05)
    email = np.where(b2b, e_b2b, e_oth)
    # Duplicates were created from another channel: a different email if the person has one.
    e_dup, _ = pick_email(
        rng, people, pidx, EmailChoice(personal=0.3, alt=0.5, work=0.3, household=0.2), CRM_EMAIL
    )
    email = np.where(is_dup, e_dup, email)
    first, last = pick_names(rng, people, pidx, drop=0.2)
    phone, _, _ = pick_phone(
        rng,
        people,
        pidx,
        present=0.5,
        mix=(0.1, 0.35, 0.1, 0.1, 0.15, 0.04, 0.05, 0.03, 0.04, 0.02, 0.02),
    )
    mobile, _, _ = pick_phone(rng, people, pidx, present=0.3, household=0.0)
    street, city, zipc, cc = pick_address(rng, people, pidx, drop=0.2)
    has_addr = rng.random(n) < np.where(b2b, 0.3, 0.45)
    company_id = people["company_id"][pidx]
    assoc_company = b2b & (company_id > 0) & (rng.random(n) < 0.9)
    comp_name = np.array(
        [name_of_company.get(int(c)) if c > 0 else None for c in company_id], dtype=object
    )
    typed_company = comp_name.copy()
    lowered = rng.random(n) < 0.15
    typed_company[lowered] = obj(
        [x.split(" ")[0].lower() if x else None for x in comp_name[lowered]]
    )
    owner = np.where(
        b2b | (rng.random(n) < 0.5), owner_for(rng, owners, people["country"][pidx]), 0
    )
    owner_b2b = np.array([owner_of_company.get(int(c), 0) for c in company_id], dtype=np.int64)
    owner = np.where(b2b & (owner_b2b > 0), owner_b2b, owner)

    # Lifecycle stage dates.
    opt_in = people["email_opt_in"][pidx]
    st = {s: np.zeros(n, dtype=np.int64) for s in STAGES}
    st["subscriber"] = np.where(~b2b & opt_in, created, 0)
    st["lead"] = np.where(b2b | ~opt_in, created, 0)
    mql = b2b & (rng.random(n) < 0.6)
    st["marketingqualifiedlead"] = np.where(mql, _next_stage_time(rng, created, 7), 0)
    sql = mql & (rng.random(n) < 0.6)
    st["salesqualifiedlead"] = np.where(
        sql, _next_stage_time(rng, st["marketingqualifiedlead"], 10), 0
    )
    opp = sql & (rng.random(n) < 0.7) & ~is_dup
    st["opportunity"] = np.where(opp, _next_stage_time(rng, st["salesqualifiedlead"], 10), 0)
    nonb2b_mql = ~b2b & (buyer_first == 0) & (rng.random(n) < 0.08)
    st["marketingqualifiedlead"] = np.where(
        nonb2b_mql, _next_stage_time(rng, created, 20), st["marketingqualifiedlead"]
    )
    for s in STAGES:  # stages not reached by now do not exist yet
        st[s] = np.where(st[s] >= t_end, 0, st[s])
    st["salesqualifiedlead"] = np.where(
        st["marketingqualifiedlead"] == 0, 0, st["salesqualifiedlead"]
    )
    st["opportunity"] = np.where(st["salesqualifiedlead"] == 0, 0, st["opportunity"])

    # Deals for contacts that reached the opportunity stage.
    dp = np.flatnonzero(st["opportunity"] > 0)
    extra = dp[rng.random(dp.size) < 0.2]
    dci = np.concatenate([dp, extra])
    nd = dci.size
    d_created = (
        st["opportunity"][dci]
        + np.r_[np.zeros(dp.size, np.int64), (rng.random(extra.size) * 120 * DAY).astype(np.int64)]
    )
    d_close = d_created + ((7 + rng.exponential(30, nd)) * DAY).astype(np.int64)
    closed = d_close < t_end
    won = closed & (rng.random(nd) < cp["win_rate"])
    keep = d_created < t_end
    dci, d_created, d_close, closed, won = (
        dci[keep],
        d_created[keep],
        d_close[keep],
        closed[keep],
        won[keep],
    )
    nd = dci.size
    frac = np.clip((t_end - d_created) / np.maximum(d_close - d_created, 1), 0, 0.999)
    open_stage = obj(DEAL_OPEN_STAGES)[(frac * len(DEAL_OPEN_STAGES)).astype(np.int64)]
    stage = np.where(closed, np.where(won, "closedwon", "closedlost"), open_stage).astype(object)
    d_company = company_id[dci]
    d_country = np.array([country_of_company.get(int(c), "CZ") for c in d_company], dtype=object)
    cur = obj([{"CZ": "CZK", "SK": "EUR", "PL": "PLN"}[c] for c in d_country])
    fx = np.array([params["fx_to_czk"][c] for c in cur])
    amount = np.round(np.exp(rng.normal(11.5, 1.0, nd)) / fx, 0)
    camp = active_campaign(rng, camps, d_created)
    src_camp = np.where(
        (camp >= 0) & (rng.random(nd) < 0.7),
        camps.id[np.maximum(camp, 0)] if len(camps) else None,
        None,
    )
    d_mod = np.where(
        closed, d_close, d_created + ((t_end - d_created) * rng.random(nd)).astype(np.int64)
    )
    d_mod = np.minimum(d_mod, t_end - 1)
    d_order = np.argsort(d_created, kind="stable")
    did = ids.take("deals", nd)
    d_arch = rng.random(nd) < cp["archived_share"]
    d_arch_at = np.where(d_arch, d_mod + ((t_end - d_mod) * rng.random(nd)).astype(np.int64), 0)
    deals = Rows(
        {
            "id": did,
            "dealname": (
                np.array([name_of_company.get(int(c), "Lead") for c in d_company], dtype=object)
                + " - "
                + DEAL_PRODUCTS[rng.integers(0, DEAL_PRODUCTS.size, nd)]
            ),
            "amount": amount,
            "deal_currency_code": cur,
            "dealstage": stage,
            "pipeline": np.full(nd, "default", dtype=object),
            "closedate": d_close,
            "closed_lost_reason": np.where(
                stage == "closedlost", LOST_REASONS[rng.integers(0, LOST_REASONS.size, nd)], None
            ),
            "hubspot_owner_id": np.where(
                owner[dci] > 0, owner[dci], owner_for(rng, owners, d_country)
            ),
            "hs_campaign": src_camp,
            "createdate": d_created,
            "hs_lastmodifieddate": np.maximum(d_mod, d_arch_at),
            "archived": d_arch,
            "archived_at": d_arch_at,
            "_contact": cid[dci],
            "_company": np.where(d_company > 0, d_company, 0),
        }
    ).take(d_order)
    deals["id"] = did
    won_at = np.zeros(n, dtype=np.int64)
    np.maximum.at(won_at, dci[won], d_close[won])
    # Customers: won B2B deals, or shop purchases (when the CRM knows the person bought).
    cust_at = np.where(won_at > 0, won_at, 0)
    shop_cust = (buyer_first > 0) & ~b2b
    cust_at = np.where(shop_cust, np.maximum(buyer_first, created), cust_at)
    cust_at = np.where(cust_at >= t_end, 0, cust_at)
    st["customer"] = cust_at

    reached = np.stack([st[s] > 0 for s in STAGES], axis=1)
    last_stage = np.where(
        reached.any(axis=1), len(STAGES) - 1 - np.argmax(reached[:, ::-1], axis=1), 1
    )
    lifecycle = obj(STAGES)[last_stage]
    stage_max = np.max(np.stack([st[s] for s in STAGES], axis=1), axis=1)
    modified = np.maximum(created, stage_max)
    touched = rng.random(n) < 0.35
    modified = np.where(
        touched, modified + ((t_end - modified) * rng.random(n)).astype(np.int64), modified
    )
    archived = rng.random(n) < cp["archived_share"]
    archived_at = np.where(
        archived, modified + ((t_end - modified) * rng.random(n)).astype(np.int64), 0
    )
    modified = np.minimum(np.maximum(modified, archived_at), t_end - 1)
    lead_status = np.where(b2b, LEAD_STATUS[rng.integers(0, LEAD_STATUS.size, n)], None)
    lead_status = np.where(st["opportunity"] > 0, "OPEN_DEAL", lead_status)
    source = SOURCES[choice(rng, n, (0.22, 0.15, 0.15, 0.1, 0.08, 0.08, 0.12, 0.05, 0.05))]
    first_engaged = first_engagement(
        engagement_rng, owner, b2b, created, st["salesqualifiedlead"], t_end
    )
    dob = np.where(
        rng.random(n) < 0.1,
        obj([str(np.datetime64(int(d), "D")) for d in people["birth_day"][pidx]]),
        None,
    )
    # A share of birth dates typed day-first, as people do.
    dmy = rng.random(n) < 0.3
    typed = dmy & np.array([x is not None for x in dob], dtype=bool)
    dob[typed] = obj([f"{x[8:10]}.{x[5:7]}.{x[:4]}" for x in dob[typed]])
    contacts = Rows(
        {
            "id": cid,
            "email": email,
            "firstname": first,
            "lastname": last,
            "phone": phone,
            "mobilephone": mobile,
            "jobtitle": np.where(b2b, people["job_title"][pidx], None),
            "company": np.where(b2b & (rng.random(n) < 0.85), typed_company, None),
            "associatedcompanyid": np.where(assoc_company, company_id, 0),
            "lifecyclestage": lifecycle,
            "hs_lead_status": lead_status,
            "hubspot_owner_id": owner,
            "address": np.where(has_addr, street, None),
            "city": np.where(has_addr | (rng.random(n) < 0.3), city, None),
            "zip": np.where(has_addr, zipc, None),
            "country": np.where(rng.random(n) < 0.7, country_text(rng, cc), None),
            "date_of_birth": dob,
            "hs_analytics_source": source,
            **{f"hs_lifecyclestage_{s}_date": st[s] for s in STAGES},
            "hs_sa_first_engagement_date": first_engaged,
            "createdate": created,
            "lastmodifieddate": modified,
            "archived": archived,
            "archived_at": archived_at,
            "_person": pidx,
        }
    )
    out["contacts"] = contacts
    out["deals"] = deals
    out["associations"] = _associations(rng, contacts, deals, camps, t_end)
    return out


def first_engagement(
    rng: np.random.Generator,
    owner: np.ndarray,
    b2b: np.ndarray,
    created: np.ndarray,
    sql_at: np.ndarray,
    t_end: int,
) -> np.ndarray:
    """When the owner first engaged the contact (a logged call, email or meeting); 0 = not yet.

    HubSpot's ``hs_sa_first_engagement_date``. The owner is assigned when the contact is
    created and follows up B2B leads nearly always, within hours; other contacts less often
    and more slowly. The lognormal tail misses a 24-hour response rule for about one B2B lead
    in eight. A contact sales accepted (SQL) had been engaged by then at the latest.
    """
    n = owner.size
    engaged = (owner > 0) & (rng.random(n) < np.where(b2b, 0.92, 0.5))
    median_hours = np.where(b2b, 5.0, 20.0)
    at = created + (median_hours * np.exp(rng.normal(0.0, 1.2, n)) * HOUR).astype(np.int64)
    accepted = (owner > 0) & (sql_at > 0)
    at = np.where(accepted, np.minimum(at, sql_at), at)
    return np.where((engaged | accepted) & (at < t_end), at, 0)


def _associations(
    rng: np.random.Generator, contacts: Rows, deals: Rows, camps: CrmCampaigns, t_end: int
) -> Rows:
    """Association rows; contacts→campaigns is a many-to-many membership."""
    parts: list[tuple[str, np.ndarray, str, np.ndarray, int, np.ndarray]] = []
    has_c = contacts["associatedcompanyid"] > 0
    parts.append(
        (
            "contacts",
            contacts["id"][has_c],
            "companies",
            contacts["associatedcompanyid"][has_c],
            ASSOC_CONTACT_COMPANY,
            contacts["createdate"][has_c],
        )
    )
    parts.append(
        (
            "deals",
            deals["id"],
            "contacts",
            deals["_contact"],
            ASSOC_DEAL_CONTACT,
            deals["createdate"],
        )
    )
    dc = deals["_company"] > 0
    parts.append(
        (
            "deals",
            deals["id"][dc],
            "companies",
            deals["_company"][dc],
            ASSOC_DEAL_COMPANY,
            deals["createdate"][dc],
        )
    )
    n = len(contacts)
    k = rng.poisson(0.9, n)
    ci = np.repeat(np.arange(n), k)
    when = contacts["createdate"][ci] + (
        (t_end - contacts["createdate"][ci]) * rng.random(ci.size)
    ).astype(np.int64)
    camp = active_campaign(rng, camps, when)
    ok = camp >= 0
    ci, when, camp = ci[ok], when[ok], camp[ok]
    # De-duplicate (contact, campaign) pairs, keeping the first membership time.
    key = ci.astype(np.int64) * 1_000_003 + camp
    order = np.lexsort((when, key))
    first = np.r_[True, key[order][1:] != key[order][:-1]] if order.size else np.zeros(0, bool)
    sel = order[first]
    parts.append(
        (
            "contacts",
            contacts["id"][ci[sel]].astype(object),
            "campaigns",
            camps.id[camp[sel]],
            ASSOC_CONTACT_CAMPAIGN,
            when[sel],
        )
    )
    rows = Rows(
        {
            "from_type": np.concatenate([np.full(p[1].size, p[0], dtype=object) for p in parts]),
            "from_id": np.concatenate([num_str(np.asarray(p[1], dtype=np.int64)) for p in parts]),
            "to_type": np.concatenate([np.full(p[3].size, p[2], dtype=object) for p in parts]),
            "to_id": np.concatenate(
                [p[3] if p[3].dtype == object else num_str(p[3]) for p in parts]
            ),
            "association_type_id": np.concatenate(
                [np.full(p[1].size, p[4], dtype=np.int64) for p in parts]
            ),
            "updated_at": np.concatenate([p[5] for p in parts]),
        }
    )
    return rows
