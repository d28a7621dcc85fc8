"""The e-shop: catalog, customers (registered and guest), addresses, orders from BG/NBD +
Gamma-Gamma, order lines, refunds, carts (converted, abandoned, open).

Purchases: for every buyer the first purchase happens after they appear; after each purchase
they drop out with probability ``p``; while alive, gaps are ``Exp(lambda)`` days. Cancelled
orders are *extra* orders outside the process (an attempt next to a real purchase), so the
transactions of the stated process are exactly the orders whose status is not ``cancelled``.
Order value: ``z ~ Gamma(p, nu)`` CZK equals the ``subtotal`` (after line discounts) converted
to CZK, up to rounding to cents: line prices are catalog prices scaled to the drawn value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sandbox.world.core import (
    DAY,
    HOUR,
    MINUTE,
    choice,
    expand,
    num_str,
    obj,
    random_tokens,
    zpad,
)
from sandbox.world.names import CATEGORIES, PRODUCT_BRANDS, PRODUCT_NOUNS
from sandbox.world.noise import EmailNoise
from sandbox.world.people import People
from sandbox.world.systems import Ids, Rows
from sandbox.world.systems.marketing import CrmCampaigns, EmailCampaigns, active_campaign
from sandbox.world.typed import EmailChoice, pick_address, pick_email, pick_names, pick_phone

CURRENCY_OF = {"CZ": "CZK", "SK": "EUR", "PL": "PLN"}
DISCOUNT_CODES = obj(
    ["WELCOME10", "SLEVA15", "LETO20", "BLACKFRIDAY", "VIP10", "NEWSLETTER5", "ZLAVA10", "RABAT15"]
)
CHANNELS = ("direct", "organic", "google_ads", "facebook_ads", "email", "referral", "seznam")
CHANNEL_P = (0.3, 0.2, 0.2, 0.1, 0.13, 0.04, 0.03)
REFUND_REASONS = obj(["damaged", "wrong_size", "not_as_described", "changed_mind", "late_delivery"])
SEARCH_TERMS = obj(
    [
        "kavovar",
        "sluchatka bezdratova",
        "stan 4 osoby",
        "darek pro muze",
        "levne boty",
        "vysavac akce",
        "lego",
        "parfem damsky",
        "gril plynovy",
    ]
)


@dataclass
class Catalog:
    """Product catalog used to compose order lines."""

    id: np.ndarray
    sku: np.ndarray
    price_czk: np.ndarray  # sorted ascending with ``id``
    by_price: np.ndarray  # product positions sorted by price


def build_catalog(
    rng: np.random.Generator, people: int, t_start: int
) -> tuple[Rows, Rows, Catalog]:
    """Categories (two levels) and products; prices log-uniform 49-39 990 CZK ending in 9."""
    names: list[str] = []
    parents: list[int] = []
    for top, subs in CATEGORIES:
        names.append(top)
        parents.append(0)
        top_id = len(names)
        for sub in subs:
            names.append(sub)
            parents.append(top_id)
    ncat = len(names)
    cat_ids = np.arange(1, ncat + 1, dtype=np.int64)
    categories = Rows(
        {
            "id": cat_ids,
            "name": obj(names),
            "parent_id": np.asarray(parents, dtype=np.int64),  # 0 = null
            "updated_at": np.full(ncat, t_start - 400 * DAY, dtype=np.int64),
        }
    )
    n = int(np.clip(300 + people // 400, 300, 3000))
    leaf = cat_ids[np.asarray(parents) > 0]
    price = np.exp(rng.uniform(np.log(49), np.log(39_990), n))
    price = np.ceil(price / 10) * 10 - 1
    created = t_start - rng.integers(30, 700, n) * DAY
    updated = created + (rng.random(n) * (t_start - created)).astype(np.int64)
    ids = np.arange(1, n + 1, dtype=np.int64)
    name = (
        PRODUCT_BRANDS[rng.integers(0, PRODUCT_BRANDS.size, n)]
        + " "
        + PRODUCT_NOUNS[rng.integers(0, PRODUCT_NOUNS.size, n)]
        + " "
        + obj([chr(65 + int(x)) for x in rng.integers(0, 26, n)])
        + "-"
        + num_str(rng.integers(100, 999, n))
    )
    sku = "SKU-" + zpad(ids * 7 + 100_000, 6)
    products = Rows(
        {
            "id": ids,
            "sku": sku,
            "name": name,
            "category_id": leaf[rng.integers(0, leaf.size, n)],
            "price": price,
            "currency": np.full(n, "CZK", dtype=object),
            "stock_qty": rng.integers(0, 500, n),
            "is_active": rng.random(n) < 0.95,
            "created_at": created,
            "updated_at": updated,
        }
    )
    return categories, products, Catalog(ids, sku, price, np.argsort(price, kind="stable"))


def simulate_purchases(
    rng: np.random.Generator,
    lam: np.ndarray,
    p: np.ndarray,
    start: np.ndarray,
    first_at_start: np.ndarray,
    t_end: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """BG/NBD purchase times in ``[start, t_end)`` per customer.

    Args:
        rng: Random stream.
        lam: Purchase rate per day (alive customers).
        p: Dropout probability after each purchase.
        start: Start time per customer.
        first_at_start: True if a purchase happens at ``start`` (a new customer's first order);
            otherwise the process continues memorylessly from ``start``.
        t_end: End of the window (exclusive).

    Returns:
        (customer_index, times, alive_at_end, dropout_at) — dropout_at 0 if still alive.
    """
    n = lam.shape[0]
    who: list[np.ndarray] = []
    when: list[np.ndarray] = []
    alive = np.ones(n, dtype=bool)
    dropout = np.zeros(n, dtype=np.int64)
    cur = start.astype(np.int64).copy()
    first = np.flatnonzero(first_at_start & (cur < t_end))
    who.append(first)
    when.append(cur[first])
    # BG/NBD: dropout can follow *repeat* purchases only (P(X(t)=0) = exp(-lambda t)), so the
    # first purchase never ends the relationship.
    just = np.zeros(n, dtype=bool)
    active = np.flatnonzero(cur < t_end)
    while active.size:
        # Dropout after a purchase.
        jb = active[just[active]]
        drop = jb[rng.random(jb.size) < p[jb]]
        alive[drop] = False
        dropout[drop] = cur[drop]
        active = active[alive[active]]
        # Cap at ~27 years so tiny rates cannot overflow int64 microseconds.
        gap_days = np.minimum(rng.exponential(1.0, active.size) / lam[active], 10_000.0)
        gap = (gap_days * DAY).astype(np.int64)
        nxt = cur[active] + gap
        ok = nxt < t_end
        active = active[ok]
        cur[active] = nxt[ok]
        who.append(active)
        when.append(cur[active])
        just[:] = False
        just[active] = True
    return np.concatenate(who), np.concatenate(when), alive, dropout


@dataclass
class Accounts:
    """Per-person shop handles of a cohort (registered account and its defaults)."""

    account_id: np.ndarray  # -1 none
    email: np.ndarray
    phone: np.ndarray
    billing_id: np.ndarray
    shipping_id: np.ndarray
    login: np.ndarray


@dataclass
class ShopOut:
    """New shop rows and the cross-system facts other builders need."""

    tables: dict[str, Rows]
    accounts: Accounts
    orders_web: Rows
    abandoned: Rows


SHOP_EMAIL = EmailNoise(
    case=0.05, dots=0.12, tag=0.05, alias=0.08, typo=0.015, space=0.01, junk=0.008
)
GUEST_EMAIL = EmailNoise(
    case=0.08, dots=0.15, tag=0.04, alias=0.1, typo=0.025, space=0.02, junk=0.025
)


def _addresses(
    rng: np.random.Generator,
    people: People,
    pidx: np.ndarray,
    customer_id: np.ndarray,
    created: np.ndarray,
    ids: Ids,
) -> tuple[Rows, np.ndarray, np.ndarray]:
    """Billing (+ sometimes a distinct shipping) address per customer row.

    Returns:
        (rows, billing_id, shipping_id) with ids aligned to the input rows.
    """
    n = pidx.shape[0]
    ship = rng.random(n) < 0.2
    rows_p = np.concatenate([pidx, pidx[ship]])
    kind = np.concatenate(
        [np.full(n, "billing", dtype=object), np.full(int(ship.sum()), "shipping", dtype=object)]
    )
    street, city, postcode, cc = pick_address(rng, people, rows_p, drop=0.15)
    # Distinct shipping addresses are elsewhere (work, parents): re-draw as "stale" addresses.
    if ship.any():
        s2, c2, p2, _ = pick_address(rng, people, pidx[ship], drop=0.15, stale=1.0)
        moved = people["moved"][pidx[ship]]
        street[n:] = np.where(moved, s2, street[n:])
        city[n:] = np.where(moved, c2, city[n:])
        postcode[n:] = np.where(moved, p2, postcode[n:])
    phone, _, _ = pick_phone(rng, people, rows_p, present=0.6)
    cust = np.concatenate([customer_id, customer_id[ship]])
    cr = np.concatenate([created, created[ship]])
    order = np.lexsort((kind == "shipping", cust))
    aid = ids.take("addresses", rows_p.size)
    rows = Rows(
        {
            "id": aid,
            "customer_id": cust[order],
            "kind": kind[order],
            "street": street[order],
            "city": city[order],
            "postcode": postcode[order],
            "country_code": cc[order],
            "phone": phone[order],
            "created_at": cr[order],
            "updated_at": cr[order],
        }
    )
    rid = np.empty(rows_p.size, dtype=np.int64)
    rid[order] = aid
    billing = rid[:n]
    shipping = billing.copy()
    shipping[np.flatnonzero(ship)] = rid[n:]
    rows.cols["_person"] = rows_p[order]
    return rows, billing, shipping


def make_accounts(
    rng: np.random.Generator,
    people: People,
    pidx: np.ndarray,
    created: np.ndarray,
    t_end: int,
    ids: Ids,
    params: dict[str, Any],
) -> tuple[Rows, Rows, Accounts]:
    """Registered customer accounts (one per person in ``pidx``) with their addresses."""
    n_people = len(people)
    order = np.argsort(created, kind="stable")
    pidx, created = pidx[order], created[order]
    n = pidx.size
    cid = ids.take("customers", n)
    email, _ = pick_email(rng, people, pidx, EmailChoice(household=0.08), SHOP_EMAIL)
    first, last = pick_names(rng, people, pidx, drop=0.2)
    phone, _, _ = pick_phone(rng, people, pidx, present=0.85)
    sp = params["shop"]
    loyalty = np.where(
        rng.random(n) < sp["loyalty_share"], "L" + zpad(cid * 31 + rng.integers(0, 31, n), 9), None
    )
    fa = obj([x.lower() for x in people["first_name_ascii"][pidx]])
    la = obj([x.lower().replace(" ", "") for x in people["last_name_ascii"][pidx]])
    login = obj([f[:1] for f in fa]) + la + num_str(cid)
    dob = np.where(
        rng.random(n) < 0.35,
        obj([str(np.datetime64(int(d), "D")) for d in people["birth_day"][pidx]]),
        None,
    )
    updated = np.where(
        rng.random(n) < 0.3, created + ((t_end - created) * rng.random(n)).astype(np.int64), created
    )
    deleted = np.where(
        rng.random(n) < sp["deleted_customer_share"],
        created + ((t_end - created) * rng.random(n)).astype(np.int64),
        0,
    )
    updated = np.maximum(updated, deleted)
    rows = Rows(
        {
            "id": cid,
            "email": email,
            "first_name": first,
            "last_name": last,
            "phone": phone,
            "is_guest": np.zeros(n, dtype=bool),
            "loyalty_id": loyalty,
            "login": login,
            "date_of_birth": dob,
            "accepts_marketing": people["email_opt_in"][pidx].copy(),
            "created_at": created,
            "updated_at": updated,
            "deleted_at": deleted,
            "_person": pidx,
        }
    )
    addr, billing, shipping = _addresses(rng, people, pidx, cid, created, ids)
    acc = Accounts(
        account_id=np.full(n_people, -1, dtype=np.int64),
        email=np.full(n_people, None, dtype=object),
        phone=np.full(n_people, None, dtype=object),
        billing_id=np.full(n_people, -1, dtype=np.int64),
        shipping_id=np.full(n_people, -1, dtype=np.int64),
        login=np.full(n_people, None, dtype=object),
    )
    acc.account_id[pidx] = cid
    acc.email[pidx] = email
    acc.phone[pidx] = phone
    acc.billing_id[pidx] = billing
    acc.shipping_id[pidx] = shipping
    acc.login[pidx] = login
    return rows, addr, acc


def _status(
    rng: np.random.Generator, placed: np.ndarray, t_end: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fulfilment status from order age at ``t_end`` and the time of the last status change."""
    n = placed.size
    age = (t_end - placed) / DAY
    u = rng.random(n)
    status = np.full(n, "delivered", dtype=object)
    status[(age < 1) & (u < 0.4)] = "pending"
    status[(age < 1) & (u >= 0.4)] = "paid"
    status[(age >= 1) & (age < 3)] = np.where(u[(age >= 1) & (age < 3)] < 0.3, "paid", "shipped")
    status[(age >= 3) & (age < 6)] = np.where(
        u[(age >= 3) & (age < 6)] < 0.5, "shipped", "delivered"
    )
    step = {"pending": 0.0, "paid": 0.2, "shipped": 1.5, "delivered": 3.5}
    offs = np.array([step[s] for s in status]) * DAY * rng.uniform(0.6, 1.4, n)
    upd = np.minimum(placed + offs.astype(np.int64), t_end - 1)
    return status, np.maximum(upd, placed)


def make_orders(
    rng: np.random.Generator,
    people: People,
    op: np.ndarray,
    placed: np.ndarray,
    cancelled: np.ndarray,
    acc: Accounts,
    devices: tuple[np.ndarray, np.ndarray],
    ids: Ids,
    catalog: Catalog,
    crm_camps: CrmCampaigns,
    esp_camps: EmailCampaigns,
    params: dict[str, Any],
    t_end: int,
) -> tuple[dict[str, Rows], Rows]:
    """Orders for (person, time) pairs, with lines, refunds, guest rows and converted carts.

    Returns:
        (tables, orders_web) — new rows per shop table and per-order facts for the web builder.
    """
    sp = params["shop"]
    fx_map = params["fx_to_czk"]
    order = np.lexsort((op, placed))
    op, placed, cancelled = op[order], placed[order], cancelled[order]
    n = op.size
    country = people["country"][op]
    currency = obj([CURRENCY_OF[c] for c in country])
    fx = np.array([fx_map[c] for c in currency])

    # Who checks out as a guest: everyone without an account, and a few account holders.
    has_acc = acc.account_id[op] >= 0
    guest = ~has_acc | (rng.random(n) < sp["guest_order_share_registered"])
    gidx = np.flatnonzero(guest)
    g_p = op[gidx]
    g_created = placed[gidx] - MINUTE
    g_ids = ids.take("customers", gidx.size)
    g_email, _ = pick_email(rng, people, g_p, EmailChoice(household=0.15), GUEST_EMAIL)
    g_first, g_last = pick_names(rng, people, g_p, drop=0.3)
    g_phone, _, _ = pick_phone(rng, people, g_p, present=0.95)
    guests = Rows(
        {
            "id": g_ids,
            "email": g_email,
            "first_name": g_first,
            "last_name": g_last,
            "phone": g_phone,
            "is_guest": np.ones(gidx.size, dtype=bool),
            "loyalty_id": np.full(gidx.size, None, dtype=object),
            "login": np.full(gidx.size, None, dtype=object),
            "date_of_birth": np.full(gidx.size, None, dtype=object),
            "accepts_marketing": people["email_opt_in"][g_p] & (rng.random(gidx.size) < 0.7),
            "created_at": g_created,
            "updated_at": g_created,
            "deleted_at": np.zeros(gidx.size, dtype=np.int64),
            "_person": g_p,
        }
    )
    g_addr, g_bill, g_ship = _addresses(rng, people, g_p, g_ids, g_created, ids)

    customer_id = np.where(guest, 0, acc.account_id[op])
    customer_id[gidx] = g_ids
    email = np.where(guest, None, acc.email[op])
    # Registered customers sometimes type another email at checkout.
    retype = ~guest & (rng.random(n) < 0.08)
    if retype.any():
        e2, _ = pick_email(rng, people, op[retype], EmailChoice(), SHOP_EMAIL)
        email[retype] = e2
    email[gidx] = g_email
    phone = np.where(guest, None, acc.phone[op])
    phone[gidx] = g_phone
    billing = np.where(guest, 0, acc.billing_id[op])
    billing[gidx] = g_bill
    shipping = np.where(guest, 0, acc.shipping_id[op])
    shipping[gidx] = g_ship

    # Value and lines (Gamma-Gamma spend in CZK).
    gg = params["gamma_gamma"]
    z = rng.gamma(gg["p"], 1.0 / people["gg_nu"][op])
    has_disc = rng.random(n) < sp["discount_share"]
    disc_frac = np.where(has_disc, rng.choice([0.05, 0.1, 0.15, 0.2], n), 0.0)
    gross_target = z / (1.0 - disc_frac)
    k = 1 + rng.poisson(sp["lines_extra_mean"], n)
    lo = expand(k)  # order index per line
    w = rng.gamma(1.0, 1.0, lo.size)
    wsum = np.bincount(lo, weights=w, minlength=n)
    share = gross_target[lo] * w / wsum[lo]
    qty = 1 + choice(rng, lo.size, (0.78, 0.16, 0.06))
    unit_target = share / qty
    prices = catalog.price_czk[catalog.by_price]
    pos = np.clip(
        np.searchsorted(prices, unit_target) + rng.integers(-2, 2, lo.size), 0, prices.size - 1
    )
    prod_pos = catalog.by_price[pos]
    unit_czk = catalog.price_czk[prod_pos]
    line_fx = fx[lo]
    unit_price = np.where(line_fx == 1.0, unit_czk, np.round(unit_czk / line_fx, 2))
    # Catalog prices only approximate the basket's value (the cheapest product is 49 CZK, so
    # small baskets run high). What the customer pays per unit (sale prices, bundles) scales
    # the basket so the merchandise value after discounts is the Gamma-Gamma draw ``z``
    # itself, up to rounding to cents: the stated process, not an approximation of it.
    basket = np.bincount(lo, weights=unit_price * qty * (1.0 - disc_frac[lo]), minlength=n)
    scale = (z / fx) / basket
    unit_price = np.maximum(np.round(unit_price * scale[lo], 2), 0.01)
    gross = np.round(unit_price * qty, 2)
    discount = np.round(gross * disc_frac[lo], 2)
    line_total = np.round(gross - discount, 2)
    subtotal = np.round(np.bincount(lo, weights=line_total, minlength=n), 2)
    ship_fee = np.select(
        [currency == "CZK", currency == "EUR"],
        [np.where(subtotal >= 1500, 0.0, 89.0), np.where(subtotal >= 60, 0.0, 3.9)],
        np.where(subtotal >= 250, 0.0, 14.99),
    )
    total = np.round(subtotal + ship_fee, 2)
    vat = np.array([params["vat_rate"][c] for c in country])
    tax = np.round(total * vat / (1 + vat), 2)

    status, updated = _status(rng, placed, t_end)
    status[cancelled] = "cancelled"
    updated[cancelled] = np.minimum(
        placed[cancelled] + (rng.random(int(cancelled.sum())) * 6 * HOUR).astype(np.int64),
        t_end - 1,
    )
    deliv = (status == "delivered") & ((t_end - placed) > 8 * DAY)
    u = rng.random(n)
    refunded = deliv & (u < sp["refunded_share"])
    partial = (
        deliv
        & (u >= sp["refunded_share"])
        & (u < sp["refunded_share"] + sp["partially_refunded_share"])
    )
    status[refunded] = "refunded"
    status[partial] = "partially_refunded"
    ref = refunded | partial
    ref_at = np.minimum(placed + ((5 + rng.random(n) * 20) * DAY).astype(np.int64), t_end - 1)
    updated[ref] = ref_at[ref]

    # Attribution captured at checkout (consistent with the web session that led to it).
    ch = choice(rng, n, CHANNEL_P)
    chan = obj(CHANNELS)[ch]
    utm_source = np.full(n, None, dtype=object)
    utm_medium = np.full(n, None, dtype=object)
    utm_campaign = np.full(n, None, dtype=object)
    utm_content = np.full(n, None, dtype=object)
    utm_term = np.full(n, None, dtype=object)
    gclid = np.full(n, None, dtype=object)
    fbclid = np.full(n, None, dtype=object)
    paid = np.isin(chan, ["google_ads", "facebook_ads", "seznam"])
    camp = active_campaign(rng, crm_camps, placed)
    slug = np.where(
        camp >= 0,
        crm_camps.slug[np.maximum(camp, 0)] if len(crm_camps) else "always-on",
        "always-on",
    )
    g = chan == "google_ads"
    utm_source[g], utm_medium[g] = "google", "cpc"
    gclid[g] = np.asarray(random_tokens(rng, int(g.sum()), 84, prefix="Cj0KCQjw"), dtype=object)
    f = chan == "facebook_ads"
    utm_source[f], utm_medium[f] = "facebook", "paid_social"
    fbclid[f] = np.asarray(random_tokens(rng, int(f.sum()), 58, prefix="IwAR"), dtype=object)
    s = chan == "seznam"
    utm_source[s], utm_medium[s] = "seznam", "cpc"
    utm_campaign[paid] = slug[paid]
    utm_content[f] = obj(["carousel", "video", "static"])[rng.integers(0, 3, int(f.sum()))]
    utm_term[g | s] = SEARCH_TERMS[rng.integers(0, SEARCH_TERMS.size, int((g | s).sum()))]
    e = chan == "email"
    if len(esp_camps):
        ei = np.clip(
            np.searchsorted(esp_camps.send_time, placed) - 1 - rng.integers(0, 3, n),
            0,
            len(esp_camps) - 1,
        )
        ok = e & (esp_camps.send_time[ei] <= placed)
        utm_source[ok], utm_medium[ok] = "klaviyo", "email"
        utm_campaign[ok] = esp_camps.slug[ei[ok]]
        chan[e & ~ok] = "direct"
    else:
        chan[e] = "direct"

    oid = ids.take("orders", n)
    number = obj([f"{int(1970 + p // DAY / 365.25) % 100:02d}" for p in placed]) + zpad(oid, 7)
    orders = Rows(
        {
            "id": oid,
            "order_number": number,
            "customer_id": customer_id,
            "email": email,
            "phone": phone,
            "status": status,
            "currency": currency,
            "subtotal": subtotal,
            "shipping": ship_fee,
            "tax": tax,
            "total": total,
            "discount_code": np.where(
                has_disc, DISCOUNT_CODES[rng.integers(0, DISCOUNT_CODES.size, n)], None
            ),
            "gclid": gclid,
            "fbclid": fbclid,
            "utm_source": utm_source,
            "utm_medium": utm_medium,
            "utm_campaign": utm_campaign,
            "utm_content": utm_content,
            "utm_term": utm_term,
            "billing_address_id": billing,
            "shipping_address_id": shipping,
            "placed_at": placed,
            "created_at": placed,
            "updated_at": updated,
            "_person": op,
        }
    )
    lines = Rows(
        {
            "id": ids.take("order_lines", lo.size),
            "order_id": oid[lo],
            "product_id": catalog.id[prod_pos],
            "sku": catalog.sku[prod_pos],
            "quantity": qty,
            "unit_price": unit_price,
            "discount": discount,
            "line_total": line_total,
            "created_at": placed[lo],
            "updated_at": placed[lo],
        }
    )
    ridx = np.flatnonzero(ref)
    ramount = np.where(
        refunded[ridx], total[ridx], np.round(subtotal[ridx] * rng.uniform(0.1, 0.6, ridx.size), 2)
    )
    r_order = np.argsort(ref_at[ridx], kind="stable")
    ridx, ramount = ridx[r_order], ramount[r_order]
    refunds = Rows(
        {
            "id": ids.take("refunds", ridx.size),
            "order_id": oid[ridx],
            "amount": ramount,
            "currency": currency[ridx],
            "reason": REFUND_REASONS[rng.integers(0, REFUND_REASONS.size, ridx.size)],
            "refunded_at": ref_at[ridx],
            "created_at": ref_at[ridx],
            "updated_at": ref_at[ridx],
        }
    )

    # Converted carts: one per order, on one of the buyer's devices.
    device = pick_device(rng, devices, op)
    cart_created = placed - (rng.uniform(3, 90, n) * MINUTE).astype(np.int64)
    carts = Rows(
        {
            "id": np.zeros(n, dtype=np.int64),
            "customer_id": np.where(guest, 0, customer_id),
            "anonymous_id": device,
            "status": np.full(n, "converted", dtype=object),
            "currency": currency,
            "value": total,
            "created_at": cart_created,
            "updated_at": placed,
            "_person": op,
        }
    )
    # Login id seen on the web for registered, logged-in checkouts.
    web = Rows(
        {
            "person": op,
            "placed_at": placed,
            "order_number": number,
            "total": total,
            "currency": currency,
            "channel": chan,
            "gclid": gclid,
            "fbclid": fbclid,
            "utm_source": utm_source,
            "utm_medium": utm_medium,
            "utm_campaign": utm_campaign,
            "utm_content": utm_content,
            "utm_term": utm_term,
            "login": np.where(guest, None, acc.login[op]),
            "anonymous_id": device,
            "sku": catalog.sku[prod_pos][np.cumsum(k) - k],
            "cancelled": cancelled,
            "email": email,
        }
    )
    tables = {
        "customers": guests,
        "addresses": g_addr,
        "orders": orders,
        "order_lines": lines,
        "refunds": refunds,
        "carts": carts,
    }
    return tables, web


def pick_device(
    rng: np.random.Generator, devices: tuple[np.ndarray, np.ndarray], pidx: np.ndarray
) -> np.ndarray:
    """A random device (anonymous_id) of each person; ``None`` for people without one."""
    dev_person, dev_id = devices
    out = np.full(pidx.size, None, dtype=object)
    if dev_person.size == 0 or pidx.size == 0:
        return out
    order = np.argsort(dev_person, kind="stable")
    dp, di = dev_person[order], dev_id[order]
    lo = np.searchsorted(dp, pidx, side="left")
    hi = np.searchsorted(dp, pidx, side="right")
    has = hi > lo
    pick = lo + (rng.random(pidx.size) * (hi - lo)).astype(np.int64)
    out[has] = di[pick[has]]
    return out


def abandoned_carts(
    rng: np.random.Generator,
    people: People,
    pidx: np.ndarray,
    t_from: np.ndarray,
    t_end: int,
    rate: float,
    acc: Accounts,
    devices: tuple[np.ndarray, np.ndarray],
) -> Rows:
    """Abandoned (older than a day) and open (last day) carts, ``rate`` per person-year."""
    years = np.maximum(t_end - t_from, 0) / (365.0 * DAY)
    k = rng.poisson(rate * years)
    cp = np.repeat(pidx, k)
    created = np.repeat(t_from, k) + (
        rng.random(cp.size) * np.repeat(np.maximum(t_end - t_from, 0), k)
    ).astype(np.int64)
    currency = obj([CURRENCY_OF[c] for c in people["country"][cp]])
    value = np.round(
        rng.gamma(2.0, 600.0, cp.size)
        / np.array([{"CZK": 1, "EUR": 25, "PLN": 5.8}[c] for c in currency]),
        2,
    )
    status = np.where(t_end - created > DAY, "abandoned", "open").astype(object)
    logged_in = rng.random(cp.size) < 0.6
    cust = np.where(logged_in, np.maximum(acc.account_id[cp], 0), 0)
    return Rows(
        {
            "id": np.zeros(cp.size, dtype=np.int64),
            "customer_id": cust,
            "anonymous_id": pick_device(rng, devices, cp),
            "status": status,
            "currency": currency,
            "value": value,
            "created_at": created,
            "updated_at": np.minimum(
                created + (rng.random(cp.size) * 20 * MINUTE).astype(np.int64), t_end - 1
            ),
            "_person": cp,
        }
    )


def concat_rows(parts: list[Rows]) -> Rows:
    """Concatenate row sets with the same columns."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Rows()
    keys = list(parts[0].cols)
    return Rows({k: np.concatenate([p[k] for p in parts]) for k in keys})


def shop_cohort(
    rng: np.random.Generator,
    people: People,
    t_end: int,
    ids: Ids,
    catalog: Catalog,
    crm_camps: CrmCampaigns,
    esp_camps: EmailCampaigns,
    params: dict[str, Any],
) -> ShopOut:
    """All shop activity of a new cohort up to ``t_end``: accounts, purchases, carts."""
    n = len(people)
    buyer = people["shop_buyer"]
    created = people["created_at"]
    first = created + (rng.exponential(10.0, n) * DAY).astype(np.int64)
    late = first >= t_end
    first[late] = created[late] + ((t_end - created[late]) * rng.random(int(late.sum()))).astype(
        np.int64
    )
    reg = people["shop_registered"]
    acc_created = np.where(
        buyer,
        first - (rng.random(n) * 10 * MINUTE).astype(np.int64),
        created + (rng.random(n) * 3 * DAY).astype(np.int64),
    )
    acc_created = np.minimum(acc_created, t_end - 1)
    rp = np.flatnonzero(reg)
    acc_rows, acc_addr, acc = make_accounts(rng, people, rp, acc_created[rp], t_end, ids, params)

    bp = np.flatnonzero(buyer)
    who, when, alive, dropout = simulate_purchases(
        rng,
        people["bgnbd_lambda"][bp],
        people["bgnbd_p"][bp],
        first[bp],
        np.ones(bp.size, bool),
        t_end,
    )
    op = bp[who]
    _record_purchase_state(people, bp, op, when, alive, dropout, first)
    # Cancelled attempts next to real purchases (not part of the process).
    nc = int(rng.binomial(op.size, params["shop"]["cancelled_extra_share"])) if op.size else 0
    ci = rng.integers(0, max(op.size, 1), nc)
    c_p = op[ci] if nc else np.zeros(0, np.int64)
    c_t = when[ci] - (rng.random(nc) * 2 * DAY).astype(np.int64) if nc else np.zeros(0, np.int64)
    c_t = np.maximum(c_t, created[c_p]) if nc else c_t
    all_p = np.concatenate([op, c_p])
    all_t = np.concatenate([when, c_t])
    canc = np.concatenate([np.zeros(op.size, bool), np.ones(nc, bool)])
    devices = (people.devices_person, people.devices_id)
    tables, web = make_orders(
        rng,
        people,
        all_p,
        all_t,
        canc,
        acc,
        devices,
        ids,
        catalog,
        crm_camps,
        esp_camps,
        params,
        t_end,
    )
    shop_people = np.flatnonzero(buyer | reg)
    ab = abandoned_carts(
        rng,
        people,
        shop_people,
        np.minimum(first, acc_created)[shop_people],
        t_end,
        params["shop"]["abandoned_carts_per_customer"],
        acc,
        devices,
    )
    tables["customers"] = concat_rows([acc_rows, tables["customers"]])
    tables["addresses"] = concat_rows([acc_addr, tables["addresses"]])
    tables["carts"] = assign_cart_ids(concat_rows([tables["carts"], ab]), ids)
    return ShopOut(tables=tables, accounts=acc, orders_web=web, abandoned=ab)


def assign_cart_ids(carts: Rows, ids: Ids) -> Rows:
    """Order carts by creation and give them ids."""
    if not len(carts):
        return carts
    order = np.argsort(carts["created_at"], kind="stable")
    carts = carts.take(order)
    carts["id"] = ids.take("carts", len(carts))
    return carts


def _record_purchase_state(
    people: People,
    bp: np.ndarray,
    op: np.ndarray,
    when: np.ndarray,
    alive: np.ndarray,
    dropout: np.ndarray,
    first: np.ndarray,
) -> None:
    """Store BG/NBD state in the truth columns (first/last purchase, count, alive, dropout)."""
    cnt = np.bincount(op, minlength=len(people))
    last = np.zeros(len(people), dtype=np.int64)
    np.maximum.at(last, op, when)
    has = cnt > 0
    people["n_purchases"] = people["n_purchases"] + cnt
    people["first_purchase_at"] = np.where(
        (people["first_purchase_at"] == 0) & has,
        np.where(has, first, 0),
        people["first_purchase_at"],
    )
    people["last_purchase_at"] = np.maximum(people["last_purchase_at"], last)
    a = people["bgnbd_alive"].copy()
    d = people["dropout_at"].copy()
    a[bp] = alive
    d[bp] = np.where(alive, 0, dropout)
    people["bgnbd_alive"] = a
    people["dropout_at"] = d
