"""The true population: households, people, their identifiers, behaviour parameters and consent.

One :class:`People` holds a *cohort* (all people at generation, or the new people of one
``advance``) as column arrays. System builders copy these true values into source records
with noise; ``truth/people.parquet`` stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.world.core import (
    DAY,
    TS_TYPE,
    choice,
    expand,
    num_str,
    obj,
    ts_array,
    uuid4_strings,
    weighted_vocab_idx,
    zpad,
)
from sandbox.world.names import (
    CALLING_CODE,
    COMPANY_SUFFIX,
    COMPANY_WORDS,
    COUNTRIES,
    COUNTRY_TLD,
    INDUSTRIES,
    JOB_TITLES,
    MOBILE_PREFIXES,
    PERSONAL_DOMAINS,
    country_names,
)

PURPOSES = ("analytics", "marketing_email", "sms", "ad_user_data", "ad_personalization")


@dataclass
class Companies:
    """B2B companies of a cohort (CRM company ids assigned at creation)."""

    id: np.ndarray
    name: np.ndarray
    domain: np.ndarray
    country: np.ndarray
    industry: np.ndarray
    employees: np.ndarray
    revenue: np.ndarray
    city: np.ndarray
    created_at: np.ndarray

    def __len__(self) -> int:
        return int(self.id.shape[0])


@dataclass
class People:
    """Column arrays for one cohort of true people (index = position in the cohort)."""

    cols: dict[str, np.ndarray]
    devices_person: np.ndarray  # cohort index per device
    devices_id: np.ndarray  # anonymous_id per device (object array)
    companies: Companies | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.cols[key]

    def __setitem__(self, key: str, value: np.ndarray) -> None:
        self.cols[key] = value

    def __len__(self) -> int:
        return int(self.cols["person_id"].shape[0])


def _lower(values: np.ndarray) -> np.ndarray:
    return np.asarray(pc.utf8_lower(pa.array(values, type=pa.string())), dtype=object)


def _first_char(values: np.ndarray) -> np.ndarray:
    return np.asarray(pc.utf8_slice_codeunits(pa.array(values, type=pa.string()), 0, 1), object)


def mailbox(email: str) -> str:
    """The mailbox an address delivers to: Gmail ignores dots and answers for googlemail.com."""
    local, _, domain = email.lower().partition("@")
    if domain in ("gmail.com", "googlemail.com"):
        return local.replace(".", "") + "@gmail.com"
    return f"{local}@{domain}"


def unique_fix(
    rng: np.random.Generator, values: np.ndarray, taken: set[str] | None = None
) -> np.ndarray:
    """Make email-like values unique (also against ``taken``) by appending digits to the local part.

    Real providers guarantee that one address belongs to one mailbox, so two different people
    must never share a personal address by accident (households share on purpose elsewhere).
    Uniqueness is per *mailbox*: jan.novak@gmail.com and jannovak@gmail.com are one Gmail
    account, so two people cannot hold them.
    """
    out = values.copy()
    present = np.array([v is not None for v in out], dtype=bool)
    taken_boxes = {mailbox(t) for t in taken} if taken else set()
    for _ in range(20):
        boxes = [mailbox(v) for v in out[present]]
        dup = pd.Series(boxes, dtype=object).duplicated(keep="first").to_numpy().copy()
        if taken_boxes:
            dup |= np.fromiter(
                (b in taken_boxes for b in boxes), dtype=bool, count=int(present.sum())
            )
        if not dup.any():
            return out
        idx = np.flatnonzero(present)[dup]
        digits = rng.integers(1, 999, size=idx.shape[0])
        for i, d in zip(idx, digits, strict=True):
            local, _, domain = out[i].partition("@")
            out[i] = f"{local}{d}@{domain}"
    return out


def unique_numbers(
    rng: np.random.Generator, country: np.ndarray, taken: np.ndarray | None = None
) -> np.ndarray:
    """Unique 9-digit mobile national numbers with real operator prefixes per country."""
    n = country.shape[0]
    nat = np.zeros(n, dtype=np.int64)
    todo = np.ones(n, dtype=bool)
    taken_set = np.unique(taken) if taken is not None and taken.size else np.zeros(0, np.int64)
    for _ in range(30):
        idx = np.flatnonzero(todo)
        if idx.size == 0:
            break
        for cty in COUNTRIES:
            sel = idx[country[idx] == cty]
            pref = np.asarray(MOBILE_PREFIXES[cty], dtype=np.int64)
            nat[sel] = pref[rng.integers(0, pref.size, sel.size)] * 1_000_000 + rng.integers(
                0, 1_000_000, sel.size
            )
        _, first = np.unique(nat, return_index=True)
        keep = np.zeros(n, dtype=bool)
        keep[first] = True
        if taken_set.size:
            keep &= ~np.isin(nat, taken_set)
        todo = ~keep
    return nat


def make_people(
    rng: np.random.Generator,
    n: int,
    *,
    person_id_start: int,
    household_id_start: int,
    company_id_start: int,
    t0: int,
    t1: int,
    params: dict[str, Any],
    taken_emails: set[str] | None = None,
    taken_phones: np.ndarray | None = None,
) -> People:
    """Draw a cohort of ``n`` people created in ``[t0, t1)``.

    Args:
        rng: Random stream for this cohort.
        n: Number of people.
        person_id_start: First person_id (ids are consecutive).
        household_id_start: First household_id.
        company_id_start: First CRM company id for companies founded by this cohort.
        t0: Window start (epoch µs).
        t1: Window end (epoch µs).
        params: World parameters (see :mod:`sandbox.world.params`).
        taken_emails: Emails already used in the world (kept unique across cohorts).
        taken_phones: National numbers already used in the world.

    Returns:
        The cohort.
    """
    shares = params["shares"]
    # Households: sizes from the stated distribution, truncated to exactly n people.
    hh_p = params["household_size_probs"]
    sizes = 1 + choice(rng, n, hh_p)
    csum = np.cumsum(sizes)
    n_hh = int(np.searchsorted(csum, n) + 1)
    sizes = sizes[:n_hh].copy()
    sizes[-1] -= int(csum[n_hh - 1] - n)
    hh_of = expand(sizes)  # cohort household index per person
    member = np.arange(n) - np.repeat((np.cumsum(sizes) - sizes), sizes)
    household_id = household_id_start + hh_of

    # Household-level draws.
    hh_country = obj(COUNTRIES)[choice(rng, n_hh, [params["countries"][c] for c in COUNTRIES])]
    country = hh_country[hh_of]
    hh_created = t0 + ((t1 - t0) * rng.random(n_hh) ** (1.0 / params["growth_shape"])).astype(
        np.int64
    )
    multi = sizes[hh_of] > 1
    hh_share_phone = rng.random(n_hh) < params["household_shared_phone"]
    hh_share_email = rng.random(n_hh) < params["household_shared_email"]

    sex = rng.random(n) < 0.5
    # Couples: the second member usually has the other sex than the first.
    sex = np.where((member == 1) & (rng.random(n) < 0.85), ~np.roll(sex, 1), sex)
    sex = obj(["F", "M"])[sex.astype(np.int64)]

    first = np.empty(n, dtype=object)
    first_a = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    last_a = np.empty(n, dtype=object)
    street = np.empty(n, dtype=object)
    street_a = np.empty(n, dtype=object)
    city = np.empty(n, dtype=object)
    city_a = np.empty(n, dtype=object)
    postcode = np.empty(n, dtype=object)
    hh_surname = np.zeros(n_hh, dtype=np.int64)
    hh_street = np.zeros(n_hh, dtype=np.int64)
    hh_city = np.zeros(n_hh, dtype=np.int64)
    hh_pc = np.zeros(n_hh, dtype=np.int64)
    for cty in COUNTRIES:
        v = country_names(cty)
        hsel = np.flatnonzero(hh_country == cty)
        hh_surname[hsel] = weighted_vocab_idx(rng, hsel.size, v.last_m.weights)
        hh_street[hsel] = weighted_vocab_idx(rng, hsel.size, v.streets.weights)
        hh_city[hsel] = weighted_vocab_idx(rng, hsel.size, v.cities.weights)
        if cty == "PL":
            hh_pc[hsel] = rng.integers(0, 100_000, hsel.size)
        else:
            base = 10_000 if cty == "CZ" else 80_000
            hh_pc[hsel] = base + rng.integers(0, 20_000 if cty == "CZ" else 19_000, hsel.size)
        sel = np.flatnonzero(country == cty)
        male = sex[sel] == "M"
        fidx = np.where(
            male,
            weighted_vocab_idx(rng, sel.size, v.first_m.weights),
            weighted_vocab_idx(rng, sel.size, v.first_f.weights),
        )
        fm = np.minimum(fidx, v.first_m.values.size - 1)
        ff = np.minimum(fidx, v.first_f.values.size - 1)
        first[sel] = np.where(male, v.first_m.values[fm], v.first_f.values[ff])
        first_a[sel] = np.where(male, v.first_m.ascii[fm], v.first_f.ascii[ff])
        # Most members share the family surname; some (partners, adult children) do not.
        own = rng.random(sel.size) < 0.12
        lidx = np.where(
            own & (member[sel] > 0),
            weighted_vocab_idx(rng, sel.size, v.last_m.weights),
            hh_surname[hh_of[sel]],
        )
        last[sel] = np.where(male, v.last_m.values[lidx], v.last_f.values[lidx])
        last_a[sel] = np.where(male, v.last_m.ascii[lidx], v.last_f.ascii[lidx])
        street[sel] = v.streets.values[hh_street[hh_of[sel]]]
        street_a[sel] = v.streets.ascii[hh_street[hh_of[sel]]]
        city[sel] = v.cities.values[hh_city[hh_of[sel]]]
        city_a[sel] = v.cities.ascii[hh_city[hh_of[sel]]]
        pcv = hh_pc[hh_of[sel]]
        if cty == "PL":
            z = zpad(pcv, 5)
            postcode[sel] = np.array([f"{s[:2]}-{s[2:]}" for s in z], dtype=object)
        else:
            z = zpad(pcv, 5)
            postcode[sel] = np.array([f"{s[:3]} {s[3:]}" for s in z], dtype=object)
    house_no = num_str(1 + rng.geometric(0.04, n_hh))[hh_of]
    flat = rng.random(n_hh) < 0.25
    house_no = np.where(
        flat[hh_of], house_no + "/" + num_str(rng.integers(1, 40, n_hh))[hh_of], house_no
    )

    # Ages: adults 18-85; birth dates as day numbers.
    # Other household members turn up within 60 days after the first (never after t1).
    join_span = np.minimum(60 * DAY, t1 - 1 - hh_created[hh_of])
    created = hh_created[hh_of] + (rng.random(n) * join_span * (member > 0)).astype(np.int64)
    created = np.minimum(created, t1 - 1)
    age_days = (rng.uniform(18, 82, n) * 365.25 * DAY).astype(np.int64)
    birth_day = (created - age_days) // DAY
    birth_year = 1970 + (birth_day / 365.25).astype(np.int64)

    # Personal emails: several local-part patterns, provider mix per country.
    fa = _lower(first_a)
    la = _lower(last_a)
    f1 = _first_char(fa)
    yy = zpad(birth_year % 100, 2)
    pattern = choice(rng, n, (0.32, 0.14, 0.12, 0.05, 0.07, 0.14, 0.08, 0.08))
    locals_ = np.select(
        [pattern == k for k in range(8)],
        [
            fa + "." + la,
            fa + la,
            f1 + la,
            fa + "_" + la,
            la + "." + fa,
            fa + "." + la + yy,
            la + f1 + yy,
            fa + num_str(rng.integers(1, 999, n)),
        ],
        default=fa + la,
    )
    domain = np.empty(n, dtype=object)
    alt_domain = np.empty(n, dtype=object)
    for cty in COUNTRIES:
        sel = np.flatnonzero(country == cty)
        doms = obj([d for d, _ in PERSONAL_DOMAINS[cty]])
        w = [p for _, p in PERSONAL_DOMAINS[cty]]
        domain[sel] = doms[choice(rng, sel.size, w)]
        alt_domain[sel] = doms[choice(rng, sel.size, w)]
    email_personal = locals_ + "@" + domain
    has_alt = rng.random(n) < params["alt_email_share"]
    alt_local = np.where(rng.random(n) < 0.5, f1 + la + num_str(rng.integers(1, 99, n)), fa + yy)
    email_alt = np.where(has_alt, alt_local + "@" + alt_domain, None)

    # B2B: some people work at a company (new companies for this cohort).
    is_b2b = rng.random(n) < shares["b2b"]
    b2b_idx = np.flatnonzero(is_b2b)
    n_comp = (
        max(1, int(np.ceil(b2b_idx.size / params["contacts_per_company"]))) if b2b_idx.size else 0
    )
    companies = None
    company_idx = np.full(n, -1, dtype=np.int64)
    email_work = np.full(n, None, dtype=object)
    job_title = np.full(n, None, dtype=object)
    if n_comp:
        comp_country = obj(COUNTRIES)[
            choice(rng, n_comp, [params["countries"][c] for c in COUNTRIES])
        ]
        cname = np.empty(n_comp, dtype=object)
        cdomain = np.empty(n_comp, dtype=object)
        ccity = np.empty(n_comp, dtype=object)
        for cty in COUNTRIES:
            v = country_names(cty)
            sel = np.flatnonzero(comp_country == cty)
            w1 = COMPANY_WORDS[rng.integers(0, COMPANY_WORDS.size, sel.size)]
            w2 = COMPANY_WORDS[rng.integers(0, COMPANY_WORDS.size, sel.size)]
            sur = weighted_vocab_idx(rng, sel.size, v.last_m.weights)
            by_name = rng.random(sel.size) < 0.4
            base = np.where(by_name, v.last_m.values[sur], w1 + w2.astype(object))
            base_a = np.where(by_name, v.last_m.ascii[sur], w1 + w2.astype(object))
            suffix = COMPANY_SUFFIX[cty][rng.integers(0, COMPANY_SUFFIX[cty].size, sel.size)]
            cname[sel] = base + " " + suffix
            cdomain[sel] = _lower(base_a) + COUNTRY_TLD[cty]
            ccity[sel] = v.cities.values[weighted_vocab_idx(rng, sel.size, v.cities.weights)]
        cdomain = unique_fix(rng, obj(["x@" + d for d in cdomain]))
        cdomain = obj([d[2:] for d in cdomain])
        company_idx[b2b_idx] = rng.integers(0, n_comp, b2b_idx.size)
        # Employees live in the company's country.
        country[b2b_idx] = comp_country[company_idx[b2b_idx]]
        wl = np.where(
            rng.random(b2b_idx.size) < 0.6,
            fa[b2b_idx] + "." + la[b2b_idx],
            f1[b2b_idx] + la[b2b_idx],
        )
        email_work[b2b_idx] = wl + "@" + cdomain[company_idx[b2b_idx]]
        job_title[b2b_idx] = JOB_TITLES[rng.integers(0, JOB_TITLES.size, b2b_idx.size)]
        comp_created = np.full(n_comp, t1, dtype=np.int64)
        np.minimum.at(comp_created, company_idx[b2b_idx], created[b2b_idx])
        comp_created -= (rng.random(n_comp) * 30 * DAY).astype(np.int64)
        comp_created = np.maximum(comp_created, t0)
        companies = Companies(
            id=company_id_start + np.arange(n_comp, dtype=np.int64),
            name=cname,
            domain=cdomain,
            country=comp_country,
            industry=INDUSTRIES[rng.integers(0, INDUSTRIES.size, n_comp)],
            employees=np.round(np.exp(rng.normal(3.2, 1.4, n_comp))).astype(np.int64) + 1,
            revenue=np.round(np.exp(rng.normal(16.5, 1.5, n_comp)), -3),
            city=ccity,
            created_at=comp_created,
        )

    # Shared household email (e.g. novakovi@seznam.cz) for some multi-person households.
    hh_sur = _cz_surnames(hh_country, hh_surname, ascii_=True)
    hh_email_local = _lower(hh_sur) + np.where(hh_country == "PL", "owie", "ovi")
    hh_email = (
        hh_email_local
        + num_str(rng.integers(1, 99, n_hh))
        + "@"
        + domain[(np.cumsum(sizes) - sizes)]
    )
    email_household = np.where(multi & hh_share_email[hh_of], hh_email[hh_of], None)

    all_emails = np.concatenate([email_personal, email_alt, email_work])
    all_emails = unique_fix(rng, all_emails, taken_emails)
    email_personal, email_alt, email_work = (
        all_emails[:n],
        all_emails[n : 2 * n],
        all_emails[2 * n :],
    )
    hh_fixed = unique_fix(
        rng, hh_email, (taken_emails or set()) | {e for e in all_emails if e is not None}
    )
    email_household = np.where(multi & hh_share_email[hh_of], hh_fixed[hh_of], None)

    # Phones: one unique mobile each; households may share the head's phone in records.
    cc = np.select([country == c for c in COUNTRIES], [CALLING_CODE[c] for c in COUNTRIES], 0)
    has_old = rng.random(n) < params["stale_phone_share"]
    nums = unique_numbers(rng, np.concatenate([country, country[has_old]]), taken_phones)
    phone = nums[:n]
    old_phone = np.zeros(n, dtype=np.int64)
    old_phone[has_old] = nums[n:]
    head = (np.cumsum(sizes) - sizes)[hh_of]
    household_phone = np.where(multi & hh_share_phone[hh_of], phone[head], 0)
    household_phone = np.where(np.arange(n) == head, 0, household_phone)

    # Moved people have an old address that stale records still carry.
    moved = rng.random(n) < params["stale_address_share"]

    # System presence.
    buyer = rng.random(n) < np.where(is_b2b, shares["shop_buyer_b2b"], shares["shop_buyer"])
    registered = rng.random(n) < np.where(
        buyer, shares["registered_given_buyer"], shares["registered_non_buyer"]
    )
    in_crm = is_b2b | (
        rng.random(n) < np.where(buyer, shares["crm_given_buyer"], shares["crm_other"])
    )
    in_esp = rng.random(n) < np.where(
        buyer, shares["esp_given_buyer"], np.where(is_b2b, shares["esp_b2b"], shares["esp_other"])
    )
    in_helpdesk = rng.random(n) < np.where(
        buyer, shares["helpdesk_given_buyer"], shares["helpdesk_other"]
    )
    on_web = buyer | registered | (rng.random(n) < shares["web_other"])

    # True consent per purpose.
    cons = params["consent"]
    analytics = rng.random(n) < cons["analytics"]
    ad_user_data = rng.random(n) < np.where(analytics, cons["ad_user_data_if_analytics"], 0.08)
    ad_pers = ad_user_data & (rng.random(n) < cons["ad_personalization_if_ad_user_data"])
    email_opt_in = rng.random(n) < np.where(
        in_esp, cons["marketing_email_if_esp"], cons["marketing_email_other"]
    )
    sms = email_opt_in & (rng.random(n) < cons["sms_if_email"])
    consent_at = created + (rng.random(n) * 2 * DAY).astype(np.int64)
    unsub = email_opt_in & (rng.random(n) < cons["unsubscribe_share"])
    unsub_at = np.where(unsub, consent_at + ((t1 - consent_at) * rng.random(n)).astype(np.int64), 0)
    unsub = unsub & (unsub_at < t1) & (unsub_at > consent_at)
    unsub_at = np.where(unsub, unsub_at, 0)

    # Behaviour: BG/NBD + Gamma-Gamma, drawn for everyone; only shop buyers transact.
    bg = params["bgnbd"]
    gg = params["gamma_gamma"]
    lam = rng.gamma(bg["r"], 1.0 / bg["alpha"], n)
    p = rng.beta(bg["a"], bg["b"], n)
    nu = rng.gamma(gg["q"], 1.0 / gg["gamma"], n)

    n_dev = np.where(on_web, 1 + rng.poisson(params["extra_devices_mean"], n), 0)
    dev_person = expand(n_dev)
    dev_id = np.asarray(uuid4_strings(rng, dev_person.size), dtype=object)

    cols: dict[str, np.ndarray] = {
        "person_id": person_id_start + np.arange(n, dtype=np.int64),
        "household_id": household_id.astype(np.int64),
        "household_member": member.astype(np.int64),
        "country": country,
        "calling_code": cc.astype(np.int64),
        "sex": sex,
        "first_name": first,
        "first_name_ascii": first_a,
        "last_name": last,
        "last_name_ascii": last_a,
        "birth_day": birth_day.astype(np.int64),
        "email_personal": email_personal,
        "email_alt": email_alt,
        "email_work": email_work,
        "email_household": email_household,
        "phone_nat": phone,
        "old_phone_nat": old_phone,
        "household_phone_nat": household_phone.astype(np.int64),
        "street": street + " " + house_no,
        "street_ascii": street_a + " " + house_no,
        "city": city,
        "city_ascii": city_a,
        "postcode": postcode,
        "moved": moved,
        "is_b2b": is_b2b,
        "company_id": np.where(company_idx >= 0, company_id_start + company_idx, -1),
        "job_title": job_title,
        "shop_buyer": buyer,
        "shop_registered": registered,
        "in_crm": in_crm,
        "in_esp": in_esp,
        "in_helpdesk": in_helpdesk,
        "on_web": on_web,
        "created_at": created,
        "bgnbd_lambda": lam,
        "bgnbd_p": p,
        "gg_nu": nu,
        "c_analytics": analytics,
        "c_marketing_email": email_opt_in & ~unsub,
        "c_sms": sms & ~unsub,
        "c_ad_user_data": ad_user_data,
        "c_ad_personalization": ad_pers,
        "email_opt_in": email_opt_in,
        "consent_at": consent_at,
        "unsubscribed_at": unsub_at.astype(np.int64),
        # Filled by the shop builder.
        "first_purchase_at": np.zeros(n, dtype=np.int64),
        "last_purchase_at": np.zeros(n, dtype=np.int64),
        "n_purchases": np.zeros(n, dtype=np.int64),
        "bgnbd_alive": np.ones(n, dtype=bool),
        "dropout_at": np.zeros(n, dtype=np.int64),
    }
    return People(cols=cols, devices_person=dev_person, devices_id=dev_id, companies=companies)


def _cz_surnames(
    hh_country: np.ndarray, hh_surname: np.ndarray, ascii_: bool = False
) -> np.ndarray:
    """Male family surname per household, for household email locals (CZ/SK/PL)."""
    out = np.empty(hh_country.shape[0], dtype=object)
    for cty in COUNTRIES:
        sel = np.flatnonzero(hh_country == cty)
        lm = country_names(cty).last_m
        v = lm.ascii if ascii_ else lm.values
        out[sel] = v[np.minimum(hh_surname[sel], v.size - 1)]
    return out


def emails_of(people: People) -> list[list[str]]:
    """All true emails per person (personal, alternative, work, household)."""
    cols = [people[k] for k in ("email_personal", "email_alt", "email_work", "email_household")]
    return [[e for e in row if e is not None] for row in zip(*cols, strict=True)]


def people_table(people: People, fmt_phone: Any) -> pa.Table:
    """``truth/people.parquet`` rows for a cohort."""
    c = people.cols
    n = len(people)
    zero = lambda a: a == 0  # noqa: E731
    tbl = {
        "person_id": pa.array(c["person_id"], pa.int64()),
        "household_id": pa.array(c["household_id"], pa.int64()),
        "household_member": pa.array(c["household_member"], pa.int64()),
        "first_name": pa.array(c["first_name"], pa.string()),
        "last_name": pa.array(c["last_name"], pa.string()),
        "first_name_ascii": pa.array(c["first_name_ascii"], pa.string()),
        "last_name_ascii": pa.array(c["last_name_ascii"], pa.string()),
        "sex": pa.array(c["sex"], pa.string()),
        "emails": pa.array(emails_of(people), pa.list_(pa.string())),
        "email_personal": pa.array(c["email_personal"], pa.string()),
        "email_alt": pa.array(c["email_alt"], pa.string()),
        "email_work": pa.array(c["email_work"], pa.string()),
        "email_household": pa.array(c["email_household"], pa.string()),
        "phone": pa.array(fmt_phone(c["calling_code"], c["phone_nat"]), pa.string()),
        "old_phone": pa.array(
            np.where(
                zero(c["old_phone_nat"]), None, fmt_phone(c["calling_code"], c["old_phone_nat"])
            ),
            pa.string(),
        ),
        "household_phone": pa.array(
            np.where(
                zero(c["household_phone_nat"]),
                None,
                fmt_phone(c["calling_code"], c["household_phone_nat"]),
            ),
            pa.string(),
        ),
        "birth_date": pa.array(c["birth_day"].astype(np.int32), pa.date32()),
        "country": pa.array(c["country"], pa.string()),
        "street": pa.array(c["street"], pa.string()),
        "street_ascii": pa.array(c["street_ascii"], pa.string()),
        "city": pa.array(c["city"], pa.string()),
        "city_ascii": pa.array(c["city_ascii"], pa.string()),
        "postcode": pa.array(c["postcode"], pa.string()),
        "moved": pa.array(c["moved"], pa.bool_()),
        "is_b2b": pa.array(c["is_b2b"], pa.bool_()),
        "company_id": pa.array(c["company_id"], pa.int64(), mask=c["company_id"] < 0),
        "job_title": pa.array(c["job_title"], pa.string()),
        "shop_buyer": pa.array(c["shop_buyer"], pa.bool_()),
        "shop_registered": pa.array(c["shop_registered"], pa.bool_()),
        "in_crm": pa.array(c["in_crm"], pa.bool_()),
        "in_esp": pa.array(c["in_esp"], pa.bool_()),
        "in_helpdesk": pa.array(c["in_helpdesk"], pa.bool_()),
        "on_web": pa.array(c["on_web"], pa.bool_()),
        "created_at": ts_array(c["created_at"]),
        "bgnbd_lambda": pa.array(c["bgnbd_lambda"], pa.float64()),
        "bgnbd_p": pa.array(c["bgnbd_p"], pa.float64()),
        "gg_nu": pa.array(c["gg_nu"], pa.float64()),
        "first_purchase_at": ts_array(c["first_purchase_at"], zero(c["first_purchase_at"])),
        "last_purchase_at": ts_array(c["last_purchase_at"], zero(c["last_purchase_at"])),
        "n_purchases": pa.array(c["n_purchases"], pa.int64()),
        "bgnbd_alive": pa.array(c["bgnbd_alive"], pa.bool_()),
        "dropout_at": ts_array(c["dropout_at"], zero(c["dropout_at"])),
        "email_opt_in": pa.array(c["email_opt_in"], pa.bool_()),
        "consent_at": ts_array(c["consent_at"]),
        "unsubscribed_at": ts_array(c["unsubscribed_at"], zero(c["unsubscribed_at"])),
    }
    for pur in PURPOSES:
        tbl[f"consent_{pur}"] = pa.array(c[f"c_{pur}"], pa.bool_())
    assert all(len(v) == n for v in tbl.values())
    return pa.table(tbl)


# Columns restored from people.parquet by ``advance`` (name in table -> internal column).
_BOOL_COLS = (
    "moved",
    "is_b2b",
    "shop_buyer",
    "shop_registered",
    "in_crm",
    "in_esp",
    "in_helpdesk",
    "on_web",
    "bgnbd_alive",
    "email_opt_in",
)
_TS_COLS = (
    "created_at",
    "first_purchase_at",
    "last_purchase_at",
    "dropout_at",
    "consent_at",
    "unsubscribed_at",
)


def people_from_table(tbl: pa.Table) -> People:
    """Rebuild column arrays from ``truth/people.parquet`` (used by ``advance``)."""
    from sandbox.world.names import CALLING_CODE as CC

    def strs(name: str) -> np.ndarray:
        return np.asarray(tbl.column(name).to_pylist(), dtype=object)

    def nat(name: str) -> np.ndarray:
        vals = tbl.column(name).to_pylist()
        return np.array([int(v[-9:]) if v else 0 for v in vals], dtype=np.int64)

    def ts(name: str) -> np.ndarray:
        arr = tbl.column(name).combine_chunks().cast(pa.int64())
        return np.asarray(arr.fill_null(0), dtype=np.int64)

    country = strs("country")
    cols: dict[str, np.ndarray] = {
        "person_id": np.asarray(tbl.column("person_id"), dtype=np.int64),
        "household_id": np.asarray(tbl.column("household_id"), dtype=np.int64),
        "household_member": np.asarray(tbl.column("household_member"), dtype=np.int64),
        "country": country,
        "calling_code": np.array([CC[c] for c in country], dtype=np.int64),
        "birth_day": np.asarray(tbl.column("birth_date").cast(pa.int32()), dtype=np.int64),
        "phone_nat": nat("phone"),
        "old_phone_nat": nat("old_phone"),
        "household_phone_nat": nat("household_phone"),
        "company_id": np.asarray(tbl.column("company_id").fill_null(-1), dtype=np.int64),
        "bgnbd_lambda": np.asarray(tbl.column("bgnbd_lambda"), dtype=np.float64),
        "bgnbd_p": np.asarray(tbl.column("bgnbd_p"), dtype=np.float64),
        "gg_nu": np.asarray(tbl.column("gg_nu"), dtype=np.float64),
        "n_purchases": np.asarray(tbl.column("n_purchases"), dtype=np.int64),
    }
    for name in (
        "sex",
        "first_name",
        "first_name_ascii",
        "last_name",
        "last_name_ascii",
        "email_personal",
        "email_alt",
        "email_work",
        "email_household",
        "street",
        "street_ascii",
        "city",
        "city_ascii",
        "postcode",
        "job_title",
    ):
        cols[name] = strs(name)
    for name in _BOOL_COLS:
        cols[name] = np.asarray(tbl.column(name), dtype=bool)
    for name in _TS_COLS:
        cols[name] = ts(name)
    for pur in PURPOSES:
        cols[f"c_{pur}"] = np.asarray(tbl.column(f"consent_{pur}"), dtype=bool)
    cols = {k: np.array(v, copy=True) for k, v in cols.items()}  # writable for advance
    return People(cols=cols, devices_person=np.zeros(0, np.int64), devices_id=obj([]))


TRUTH_TS = TS_TYPE
