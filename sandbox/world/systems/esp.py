"""The ESP (Klaviyo-like): profiles with per-channel consent, lists and members, email
campaigns and flows, metrics, and events (sent, received, opened, clicked, bounced,
unsubscribed, marked as spam) tied to campaigns or flows.

Volume is kept moderate on purpose: a subscriber receives campaigns at ``campaign_sends_mean``
a year (not every campaign), plus flow emails (welcome, abandoned cart, post-purchase), so a
profile averages well under 15 events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from sandbox.world.core import (
    DAY,
    HOUR,
    MINUTE,
    US,
    char_matrix_to_strings,
    obj,
    short_ids,
    sorted_ulids,
    ulid_matrix,
    uuid4_strings,
)
from sandbox.world.names import COUNTRIES
from sandbox.world.noise import EmailNoise, format_phones
from sandbox.world.people import People
from sandbox.world.systems import Rows
from sandbox.world.systems.marketing import FLOWS, EmailCampaigns
from sandbox.world.typed import EmailChoice, country_text, pick_address, pick_email, pick_names

METRICS = (
    "Sent Email",
    "Received Email",
    "Opened Email",
    "Clicked Email",
    "Bounced Email",
    "Unsubscribed",
    "Marked Email as Spam",
)
LISTS = (
    "Newsletter CZ",
    "Newsletter SK",
    "Newsletter PL",
    "Zákazníci",
    "VIP zákazníci",
    "B2B partneři",
    "Soutěž 2025",
)
ESP_EMAIL = EmailNoise(case=0.02, dots=0.12, tag=0.05, alias=0.08, typo=0.02, space=0.0, junk=0.006)
SITE = {
    "CZ": "https://www.vltava-shop.cz",
    "SK": "https://www.vltava-shop.sk",
    "PL": "https://www.vltava-shop.pl",
}


@dataclass
class EspStatic:
    """Objects that exist from the start: metrics, lists, flows (ids are stable)."""

    metrics: Rows
    lists: Rows
    flows: Rows

    def metric_id(self, name: str) -> str:
        return str(self.metrics["id"][METRICS.index(name)])


def esp_static(rng: np.random.Generator, t0: int) -> EspStatic:
    """Metrics, lists and flows, created before the world starts."""
    mids = np.array(short_ids(rng, len(METRICS)), dtype=object)
    rng.shuffle(mids)
    created = np.full(len(METRICS), t0 - 500 * DAY, dtype=np.int64)
    metrics = Rows(
        {
            "id": mids,
            "name": obj(METRICS),
            "integration_name": np.full(len(METRICS), "Klaviyo", dtype=object),
            "created": created,
            "updated": created,
        }
    )
    lids = np.array(short_ids(rng, len(LISTS)), dtype=object)
    rng.shuffle(lids)
    lc = t0 - rng.integers(10, 400, len(LISTS)) * DAY
    lists = Rows({"id": lids, "name": obj(LISTS), "created": lc, "updated": lc + 5 * DAY})
    fids = np.array(short_ids(rng, len(FLOWS)), dtype=object)
    rng.shuffle(fids)
    fc = t0 - rng.integers(10, 300, len(FLOWS)) * DAY
    flows = Rows(
        {
            "id": fids,
            "name": obj([f[0] for f in FLOWS]),
            "status": obj(["live", "live", "live", "live", "draft", "manual"]),
            "trigger_type": obj([f[1] for f in FLOWS]),
            "created": fc,
            "updated": fc + 3 * DAY,
            "_subject": obj([f[2] for f in FLOWS]),
        }
    )
    return EspStatic(metrics, lists, flows)


def campaign_rows(camps: EmailCampaigns) -> Rows:
    """ESP campaign rows from the marketing calendar."""
    n = len(camps)
    return Rows(
        {
            "id": camps.id,
            "name": camps.name,
            "status": np.full(n, "Sent", dtype=object),
            "channel": np.full(n, "email", dtype=object),
            "send_time": camps.send_time,
            "created_at": camps.created,
            "updated_at": camps.send_time + 2 * HOUR,
            "_subject": camps.subject,
            "_country": camps.country,
        }
    )


def esp_profiles(
    rng: np.random.Generator,
    people: People,
    t_end: int,
    account_id: np.ndarray,
    params: dict[str, Any],
) -> Rows:
    """Profiles for the cohort's ESP people (+ a few duplicate profiles), sorted by id."""
    ep = params["esp"]
    base = np.flatnonzero(people["in_esp"])
    dup = base[rng.random(base.size) < ep["duplicate_profile_share"]]
    pidx = np.concatenate([base, dup])
    is_dup = np.r_[np.zeros(base.size, bool), np.ones(dup.size, bool)]
    n = pidx.size
    opt = people["email_opt_in"][pidx] & ~is_dup
    fp = people["first_purchase_at"][pidx]
    created = np.where(
        opt,
        people["consent_at"][pidx],
        np.where(fp > 0, fp + HOUR, people["created_at"][pidx] + DAY),
    )
    created = np.where(is_dup, created + (rng.random(n) * 100 * DAY).astype(np.int64), created)
    created = np.minimum(created, t_end - MINUTE)
    email, flags = pick_email(rng, people, pidx, EmailChoice(household=0.1), ESP_EMAIL)
    e_dup, f_dup = pick_email(
        rng, people, pidx, EmailChoice(personal=0.3, alt=0.6, work=0.3, household=0.3), ESP_EMAIL
    )
    email = np.where(is_dup, e_dup, email)
    flags = np.where(is_dup, f_dup, flags)
    first, last = pick_names(rng, people, pidx, drop=0.25, missing=0.4)
    has_phone = rng.random(n) < 0.4
    nat = np.where(
        people["household_phone_nat"][pidx] > 0,
        people["household_phone_nat"][pidx],
        people["phone_nat"][pidx],
    )
    nat = np.where(rng.random(n) < 0.7, people["phone_nat"][pidx], nat)
    phone = np.where(
        has_phone, format_phones(people["calling_code"][pidx], nat, np.zeros(n, np.int64)), None
    )
    street, city, zipc, cc = pick_address(rng, people, pidx, drop=0.3)
    loc = rng.random(n)
    acc = account_id[pidx]
    ext = np.where((acc > 0) & (rng.random(n) < 0.6), obj([str(a) for a in acc]), None)
    b2b = people["is_b2b"][pidx]
    unsub_at = np.where(is_dup, 0, people["unsubscribed_at"][pidx])
    unsub_at = np.where(unsub_at >= t_end, 0, unsub_at)
    e_cons = np.where(
        unsub_at > 0, "UNSUBSCRIBED", np.where(opt, "SUBSCRIBED", "NEVER_SUBSCRIBED")
    ).astype(object)
    e_ts = np.where(unsub_at > 0, unsub_at, np.where(opt, created, 0))
    sms_in = (
        people["email_opt_in"][pidx]
        & (people["c_sms"][pidx] | (unsub_at > 0))
        & has_phone
        & ~is_dup
    )
    s_cons = np.where(
        sms_in & (unsub_at > 0), "UNSUBSCRIBED", np.where(sms_in, "SUBSCRIBED", "NEVER_SUBSCRIBED")
    ).astype(object)
    s_ts = np.where(sms_in & (unsub_at > 0), unsub_at, np.where(sms_in, created, 0))
    updated = np.maximum(created, e_ts)
    touched = rng.random(n) < 0.4
    updated = np.where(
        touched, updated + ((t_end - updated) * rng.random(n)).astype(np.int64), updated
    )
    updated = np.minimum(updated, t_end - 1)
    order, ids = sorted_ulids(created // 1000, rng)
    rows = Rows(
        {
            "id": np.asarray(ids, dtype=object),
            "email": email,
            "phone_number": phone,
            "external_id": ext,
            "first_name": first,
            "last_name": last,
            "organization": np.where(
                b2b & (rng.random(n) < 0.7), obj([str(x) for x in people["company_id"][pidx]]), None
            ),
            "title": np.where(b2b, people["job_title"][pidx], None),
            "city": np.where(loc < 0.5, city, None),
            "country": np.where(loc < 0.6, country_text(rng, cc), None),
            "zip": np.where(loc < 0.3, zipc, None),
            "address1": np.where(loc < 0.25, street, None),
            "created": created,
            "updated": updated,
            "email_consent": e_cons,
            "email_consent_timestamp": e_ts,
            "sms_consent": s_cons,
            "sms_consent_timestamp": s_ts,
            "_person": pidx,
            "_flags": flags,
            "_country": people["country"][pidx],
        }
    )
    rows = Rows({k: v[order] for k, v in rows.cols.items()})
    rows["id"] = np.asarray(ids, dtype=object)
    return rows


def organization_names(profiles: Rows, company_names: dict[int, str]) -> None:
    """Replace company ids placed in ``organization`` by the company name (as typed)."""
    org = profiles["organization"]
    for i in np.flatnonzero(org != None):  # noqa: E711
        org[i] = company_names.get(int(org[i]))


def list_members(
    rng: np.random.Generator, profiles: Rows, people: People, static: EspStatic
) -> Rows:
    """Many-to-many list membership (unique per list and profile)."""
    lid = static.lists["id"]
    pidx = profiles["_person"]
    sub = profiles["email_consent"] != "NEVER_SUBSCRIBED"
    country = profiles["_country"]
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for j, cty in enumerate(COUNTRIES):
        sel = np.flatnonzero(sub & (country == cty))
        parts.append((np.full(sel.size, j), sel, profiles["created"][sel]))
    cust = np.flatnonzero(people["first_purchase_at"][pidx] > 0)
    parts.append(
        (
            np.full(cust.size, 3),
            cust,
            np.maximum(profiles["created"][cust], people["first_purchase_at"][pidx[cust]]),
        )
    )
    vip = cust[people["n_purchases"][pidx[cust]] >= 5]
    parts.append((np.full(vip.size, 4), vip, profiles["updated"][vip]))
    b2b = np.flatnonzero(people["is_b2b"][pidx])
    parts.append((np.full(b2b.size, 5), b2b, profiles["created"][b2b]))
    contest = np.flatnonzero(rng.random(pidx.size) < 0.05)
    # A day after sign-up, but never after the profile's last change: a profile created on
    # the world's last day must not join a list after the world's clock.
    joined = np.minimum(
        profiles["created"][contest] + DAY,
        np.maximum(profiles["updated"][contest], profiles["created"][contest]),
    )
    parts.append((np.full(contest.size, 6), contest, joined))
    li = np.concatenate([p[0] for p in parts]).astype(np.int64)
    pi = np.concatenate([p[1] for p in parts]).astype(np.int64)
    jt = np.concatenate([p[2] for p in parts]).astype(np.int64)
    order = np.lexsort((pi, li))
    return Rows(
        {"list_id": lid[li[order]], "profile_id": profiles["id"][pi[order]], "joined_at": jt[order]}
    )


@dataclass
class Sends:
    """Emails sent: profile row, time, campaign or flow index (-1 = none), subject."""

    profile: np.ndarray
    time: np.ndarray
    campaign: np.ndarray
    flow: np.ndarray


def plan_sends(
    rng: np.random.Generator,
    profiles: Rows,
    camps: EmailCampaigns,
    t_from: np.ndarray,
    t_end: int,
    rate_per_year: float,
    welcome: bool,
    flow_triggers: list[tuple[int, np.ndarray, np.ndarray]],
) -> Sends:
    """Campaign and flow sends to subscribed profiles in ``[t_from, t_end)``.

    Args:
        rng: Random stream.
        profiles: Profile rows (needs ``email_consent``, ``email_consent_timestamp``, ``created``).
        camps: Email campaigns (sorted by send time).
        t_from: Per-profile start of the window.
        t_end: Window end.
        rate_per_year: Campaign sends per subscribed profile-year.
        welcome: Send the welcome flow at profile creation.
        flow_triggers: ``(flow_index, profile_row, trigger_time)`` for triggered flows.
    """
    n = len(profiles)
    cons = profiles["email_consent"]
    unsub = np.where(cons == "UNSUBSCRIBED", profiles["email_consent_timestamp"], 0)
    subscribed_from = np.where(cons == "NEVER_SUBSCRIBED", t_end, profiles["created"])
    lo = np.maximum(subscribed_from, t_from)
    hi = np.where(unsub > 0, np.minimum(unsub, t_end), t_end)
    span = np.maximum(hi - lo, 0)
    k = rng.poisson(rate_per_year * span / (365.0 * DAY))
    pr = np.repeat(np.arange(n), k)
    t = np.repeat(lo, k) + (rng.random(pr.size) * np.repeat(span, k)).astype(np.int64)
    camp = np.full(pr.size, -1, dtype=np.int64)
    country = profiles["_country"]
    for cty in COUNTRIES:
        cidx = np.flatnonzero(camps.country == cty) if len(camps) else np.zeros(0, np.int64)
        sel = np.flatnonzero(country[pr] == cty)
        if cidx.size == 0 or sel.size == 0:
            continue
        pos = np.searchsorted(camps.send_time[cidx], t[sel], side="right") - 1
        ok = pos >= 0
        c = cidx[np.maximum(pos, 0)]
        ok &= camps.send_time[c] >= lo[pr[sel]]
        camp[sel[ok]] = c[ok]
    ok = camp >= 0
    pr, camp = pr[ok], camp[ok]
    t = (
        camps.send_time[camp] + rng.integers(0, 1800, pr.size) * US
        if pr.size
        else np.zeros(0, np.int64)
    )
    key = pr.astype(np.int64) * 10_000_000 + camp
    _, first = np.unique(key, return_index=True)
    pr, camp, t = pr[first], camp[first], t[first]
    sp, st, sc, sf = [pr], [t], [camp], [np.full(pr.size, -1, np.int64)]
    if welcome:
        w = np.flatnonzero((cons != "NEVER_SUBSCRIBED") & (profiles["created"] >= t_from))
        wt = profiles["created"][w] + (rng.uniform(1, 30, w.size) * MINUTE).astype(np.int64)
        sp.append(w)
        st.append(wt)
        sc.append(np.full(w.size, -1, np.int64))
        sf.append(np.zeros(w.size, np.int64))
    for flow_idx, prow, ttime in flow_triggers:
        ok = (cons[prow] != "NEVER_SUBSCRIBED") & (rng.random(prow.size) < 0.5)
        prow, ttime = prow[ok], ttime[ok]
        sp.append(prow)
        st.append(ttime)
        sc.append(np.full(prow.size, -1, np.int64))
        sf.append(np.full(prow.size, flow_idx, np.int64))
    p_all = np.concatenate(sp)
    t_all = np.concatenate(st)
    keep = (t_all < np.where(unsub[p_all] > 0, unsub[p_all], t_end)) & (t_all < t_end)
    return Sends(p_all[keep], t_all[keep], np.concatenate(sc)[keep], np.concatenate(sf)[keep])


def events_from_sends(
    rng: np.random.Generator,
    sends: Sends,
    profiles: Rows,
    camps: EmailCampaigns,
    static: EspStatic,
    params: dict[str, Any],
    t_end: int,
    unsub_rows: np.ndarray,
    unsub_time: np.ndarray,
) -> pa.Table:
    """Expand sends into metric events; adds ``Unsubscribed`` events. Sorted by id."""
    ep = params["esp"]
    n = sends.profile.size
    flags = profiles["_flags"][sends.profile]
    bad = (flags & (16 | 64)) > 0  # typo'd or junk addresses bounce hard
    soft = ~bad & (rng.random(n) < ep["soft_bounce_rate"])
    received = ~bad & ~soft
    t_recv = sends.time + rng.integers(1, 120, n) * US
    opened = received & (rng.random(n) < ep["open_rate"])
    t_open = t_recv + (rng.exponential(8.0, n) * HOUR).astype(np.int64)
    clicked = opened & (rng.random(n) < ep["click_rate_of_opens"])
    t_click = t_open + (rng.exponential(5.0, n) * MINUTE).astype(np.int64)
    spam = received & (rng.random(n) < ep["spam_rate"])
    t_spam = t_recv + (rng.exponential(4.0, n) * HOUR).astype(np.int64)
    parts = [
        ("Sent Email", np.ones(n, bool), sends.time),
        ("Received Email", received, t_recv),
        ("Bounced Email", bad | soft, t_recv),
        ("Opened Email", opened, t_open),
        ("Clicked Email", clicked, t_click),
        ("Marked Email as Spam", spam, t_spam),
    ]
    s_idx: list[np.ndarray] = []
    m_name: list[np.ndarray] = []
    times: list[np.ndarray] = []
    for name, mask, tt in parts:
        sel = np.flatnonzero(mask & (tt < t_end))
        s_idx.append(sel)
        m_name.append(np.full(sel.size, METRICS.index(name), np.int64))
        times.append(tt[sel])
    si = np.concatenate(s_idx)
    mi = np.concatenate(m_name)
    tt = np.concatenate(times)
    prof = sends.profile[si]
    camp = sends.campaign[si]
    flow = sends.flow[si]
    # Unsubscribed events (from the consent change), attributed to no particular message.
    prof = np.concatenate([prof, unsub_rows])
    camp = np.concatenate([camp, np.full(unsub_rows.size, -1, np.int64)])
    flow = np.concatenate([flow, np.full(unsub_rows.size, -1, np.int64)])
    mi = np.concatenate([mi, np.full(unsub_rows.size, METRICS.index("Unsubscribed"), np.int64)])
    tt = np.concatenate([tt, unsub_time])
    is_bounce = np.concatenate(
        [mi[: si.size] == METRICS.index("Bounced Email"), np.zeros(unsub_rows.size, bool)]
    )
    hard = np.concatenate([bad[si], np.zeros(unsub_rows.size, bool)])
    return build_event_table(
        rng, prof, camp, flow, mi, tt, is_bounce, hard, profiles, camps, static
    )


def build_event_table(
    rng: np.random.Generator,
    prof: np.ndarray,
    camp: np.ndarray,
    flow: np.ndarray,
    mi: np.ndarray,
    tt: np.ndarray,
    is_bounce: np.ndarray,
    hard: np.ndarray,
    profiles: Rows,
    camps: EmailCampaigns,
    static: EspStatic,
) -> pa.Table:
    """Arrow table of events sorted by their ULID ``id`` (time-ordered)."""
    m = ulid_matrix(tt // 1000, rng)
    keys = m.view("S26").ravel()
    order = np.argsort(keys, kind="stable")
    prof, camp, flow, mi, tt, is_bounce, hard = (
        a[order] for a in (prof, camp, flow, mi, tt, is_bounce, hard)
    )
    n = prof.size
    has_c = camp >= 0
    has_f = flow >= 0
    subj_c = camps.subject[np.maximum(camp, 0)] if len(camps) else np.full(n, None, dtype=object)
    subj_f = static.flows["_subject"][np.maximum(flow, 0)]
    subject = np.where(has_c, subj_c, np.where(has_f, subj_f, None))
    unsub = mi == METRICS.index("Unsubscribed")
    subject[unsub] = None
    click = mi == METRICS.index("Clicked Email")
    country = profiles["_country"][prof]
    slug = np.where(has_c, camps.slug[np.maximum(camp, 0)] if len(camps) else "flow", "flow")
    url = np.full(n, None, dtype=object)
    if click.any():
        url[click] = obj(
            [
                f"{SITE[c]}/?utm_source=klaviyo&utm_medium=email&utm_campaign={s}"
                for c, s in zip(country[click], slug[click], strict=True)
            ]
        )
    bounce_type = np.where(is_bounce, np.where(hard, "hard", "soft"), None)
    return pa.table(
        {
            "id": char_matrix_to_strings(m[order]),
            "profile_id": pa.array(profiles["id"][prof], pa.string()),
            "metric_id": pa.array(static.metrics["id"][mi], pa.string()),
            "datetime": pa.array(tt, pa.timestamp("us", tz="UTC")),
            "uuid": uuid4_strings(rng, n),
            "campaign_id": pa.array(
                np.where(has_c, camps.id[np.maximum(camp, 0)] if len(camps) else None, None),
                pa.string(),
            ),
            "flow_id": pa.array(
                np.where(has_f, static.flows["id"][np.maximum(flow, 0)], None), pa.string()
            ),
            "subject": pa.array(subject, pa.string()),
            "url": pa.array(url, pa.string()),
            "bounce_type": pa.array(bounce_type, pa.string()),
        }
    )
