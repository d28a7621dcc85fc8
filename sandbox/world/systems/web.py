"""Web analytics and CMP consent: sessions → events (JSON lines), consent decisions per device.

Only the web window (the last ``window_days`` before ``as_of`` at generation; every advanced
window afterwards) is emitted. Purchase sessions reproduce each order's attribution (UTM,
gclid/fbclid) captured at checkout; form submits carry the email typed into the CRM/ESP.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.world.core import (
    DAY,
    MINUTE,
    SECOND_US,
    choice,
    expand,
    iso_z,
    obj,
    parse_ts,
    rank_within,
    uuid4_strings,
)
from sandbox.world.people import People
from sandbox.world.systems import Rows
from sandbox.world.systems.esp import SITE
from sandbox.world.systems.marketing import CrmCampaigns, active_campaign
from sandbox.world.systems.shop import Catalog

EVENT_KEYS = (
    "event_id",
    "event_name",
    "event_ts",
    "anonymous_id",
    "login_id",
    "session_id",
    "page_url",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "gclid",
    "fbclid",
    "experiment_id",
    "variant",
    "sku",
    "value",
    "currency",
    "order_number",
    "form_id",
    "email",
)
CONSENT_KEYS = (
    "consent_id",
    "anonymous_id",
    "login_id",
    "event_ts",
    "policy_version",
    "source",
    "analytics",
    "marketing_email",
    "sms",
    "ad_user_data",
    "ad_personalization",
)
NUMERIC_KEYS = frozenset({"value"})
POLICY_VERSIONS = (
    ("2023-11", "2023-01-01T00:00:00Z"),
    ("2025-06", "2025-06-01T00:00:00Z"),
    ("2026-09", "2026-09-15T00:00:00Z"),
)
CURRENCY = {"CZ": "CZK", "SK": "EUR", "PL": "PLN"}
FX = {"CZ": 1.0, "SK": 25.0, "PL": 5.8}
REFERRER = {
    "google_ads": "https://www.google.com/",
    "organic": "https://www.google.com/",
    "facebook_ads": "https://m.facebook.com/",
    "seznam": "https://www.seznam.cz/",
    "referral": "https://www.heureka.cz/",
    "email": None,
    "direct": None,
}


def policy_version(t: np.ndarray) -> np.ndarray:
    """CMP policy version in force at each time."""
    starts = np.array([parse_ts(s) for _, s in POLICY_VERSIONS])
    idx = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(POLICY_VERSIONS) - 1)
    return obj([v for v, _ in POLICY_VERSIONS])[idx]


@dataclass
class Sessions:
    """One row per web session."""

    cols: dict[str, np.ndarray]

    def __len__(self) -> int:
        return int(self.cols["start"].shape[0])


def _session_frame(n: int) -> dict[str, np.ndarray]:
    none = lambda: np.full(n, None, dtype=object)  # noqa: E731
    return {
        "person": np.full(n, -1, dtype=np.int64),
        "anonymous_id": none(),
        "login": none(),
        "start": np.zeros(n, dtype=np.int64),
        "country": np.full(n, "CZ", dtype=object),
        "kind": none(),
        "utm_source": none(),
        "utm_medium": none(),
        "utm_campaign": none(),
        "utm_content": none(),
        "utm_term": none(),
        "gclid": none(),
        "fbclid": none(),
        "referrer": none(),
        "order_number": none(),
        "order_total": np.zeros(n),
        "order_at": np.zeros(n, np.int64),
        "sku": none(),
        "form_id": none(),
        "email": none(),
    }


def _concat(frames: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    keys = frames[0].keys()
    return {k: np.concatenate([f[k] for f in frames]) for k in keys}


def build_sessions(
    rng: np.random.Generator,
    people: People,
    devices: tuple[np.ndarray, np.ndarray],
    login: np.ndarray,
    orders_web: Rows,
    forms: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
    camps: CrmCampaigns,
    catalog: Catalog,
    w0: int,
    t_end: int,
    params: dict[str, Any],
    population: int,
) -> dict[str, np.ndarray]:
    """Sessions in ``[w0, t_end)``: purchases, browsing, form submits, anonymous visitors.

    Args:
        rng: Random stream.
        people: The people whose devices browse.
        devices: (cohort person index, anonymous_id) per device.
        login: Shop login per person (``None`` if no account).
        orders_web: Per-order facts from the shop builder.
        forms: ``(form_id, person_index, time, typed_email)`` groups of form submits.
        camps: CRM campaigns (UTM campaign slugs for paid traffic).
        catalog: Product catalog (skus, prices).
        w0: Window start.
        t_end: Window end.
        params: World parameters.
        population: People count used to scale anonymous traffic.
    """
    from sandbox.world.systems.shop import pick_device

    wp = params["web"]
    frames: list[dict[str, np.ndarray]] = []
    # Purchase sessions reproduce the order's attribution.
    ow = orders_web
    sel = (
        np.flatnonzero((ow["placed_at"] >= w0) & (ow["placed_at"] < t_end) & ~ow["cancelled"])
        if len(ow)
        else np.zeros(0, np.int64)
    )
    f = _session_frame(sel.size)
    f["person"] = ow["person"][sel]
    f["anonymous_id"] = ow["anonymous_id"][sel]
    f["login"] = ow["login"][sel]
    f["start"] = ow["placed_at"][sel] - (rng.uniform(4, 40, sel.size) * MINUTE).astype(np.int64)
    f["country"] = people["country"][ow["person"][sel]]
    f["kind"][:] = "purchase"
    for k in (
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_content",
        "utm_term",
        "gclid",
        "fbclid",
        "order_number",
        "sku",
    ):
        f[k] = ow[k][sel]
    f["referrer"] = obj([REFERRER.get(c) for c in ow["channel"][sel]])
    f["order_total"] = ow["total"][sel]
    f["order_at"] = ow["placed_at"][sel]
    frames.append(f)

    # Browsing sessions of web people.
    web_p = np.flatnonzero(people["on_web"])
    lo = np.maximum(people["created_at"][web_p], w0)
    span = np.maximum(t_end - lo, 0)
    k = rng.poisson(wp["browse_sessions_per_person_90d"] * span / (90.0 * DAY))
    bp = np.repeat(web_p, k)
    f = _session_frame(bp.size)
    f["person"] = bp
    f["anonymous_id"] = pick_device(rng, devices, bp)
    f["login"] = np.where(rng.random(bp.size) < 0.5, login[bp], None)
    f["start"] = np.repeat(lo, k) + (rng.random(bp.size) * np.repeat(span, k)).astype(np.int64)
    f["country"] = people["country"][bp]
    f["kind"][:] = "browse"
    _attribution(rng, f, camps)
    frames.append(f)

    # Form submits (B2B demo requests, newsletter sign-ups) on the person's device.
    for form_id, fp, ft, fe in forms:
        ok = (ft >= w0) & (ft < t_end)
        fp, ft, fe = fp[ok], ft[ok], fe[ok]
        f = _session_frame(fp.size)
        f["person"] = fp
        f["anonymous_id"] = pick_device(rng, devices, fp)
        f["start"] = ft - (rng.uniform(1, 10, fp.size) * MINUTE).astype(np.int64)
        f["country"] = people["country"][fp]
        f["kind"][:] = "form"
        f["form_id"][:] = form_id
        f["email"] = fe
        _attribution(rng, f, camps)
        frames.append(f)

    # Anonymous visitors who are nobody we know (new device ids, never identified).
    n_anon = int(
        rng.poisson(
            wp["anonymous_sessions_per_person_90d"] * population * max(t_end - w0, 0) / (90.0 * DAY)
        )
    )
    f = _session_frame(n_anon)
    n_dev = max(1, int(n_anon * 0.7))
    anon_ids = np.asarray(uuid4_strings(rng, n_dev), dtype=object)
    f["anonymous_id"] = anon_ids[rng.integers(0, n_dev, n_anon)] if n_anon else f["anonymous_id"]
    f["start"] = w0 + (rng.random(n_anon) * max(t_end - w0, 0)).astype(np.int64)
    f["country"] = obj(["CZ", "SK", "PL"])[choice(rng, n_anon, (0.6, 0.2, 0.2))]
    f["kind"][:] = "anon"
    _attribution(rng, f, camps)
    frames.append(f)

    s = _concat(frames)
    has_dev = np.array([a is not None for a in s["anonymous_id"]], dtype=bool)
    s = {k: v[has_dev] for k, v in s.items()}
    n = s["start"].size
    no_sku = np.array([x is None for x in s["sku"]], dtype=bool)
    pos = rng.integers(0, catalog.id.size, n)
    s["sku"] = np.where(no_sku, catalog.sku[pos], s["sku"])
    s["price"] = np.array([catalog.price_czk[p] for p in pos]) / np.array(
        [FX[c] for c in s["country"]]
    )
    s["session_id"] = np.asarray(uuid4_strings(rng, n), dtype=object)
    return s


def _attribution(rng: np.random.Generator, f: dict[str, np.ndarray], camps: CrmCampaigns) -> None:
    """Session source for non-purchase sessions (paid ones carry click ids and UTM)."""
    from sandbox.world.core import random_tokens

    n = f["start"].size
    if n == 0:
        return
    chan = obj(["direct", "organic", "google_ads", "facebook_ads", "email", "referral", "seznam"])[
        choice(rng, n, (0.35, 0.25, 0.15, 0.1, 0.08, 0.04, 0.03))
    ]
    f["referrer"] = obj([REFERRER.get(c) for c in chan])
    camp = active_campaign(rng, camps, f["start"])
    slug = np.where(
        camp >= 0, camps.slug[np.maximum(camp, 0)] if len(camps) else "always-on", "always-on"
    )
    g = chan == "google_ads"
    fb = chan == "facebook_ads"
    sz = chan == "seznam"
    em = chan == "email"
    f["utm_source"][g], f["utm_medium"][g] = "google", "cpc"
    f["gclid"][g] = np.asarray(
        random_tokens(rng, int(g.sum()), 84, prefix="Cj0KCQjw"), dtype=object
    )
    f["utm_source"][fb], f["utm_medium"][fb] = "facebook", "paid_social"
    f["fbclid"][fb] = np.asarray(random_tokens(rng, int(fb.sum()), 58, prefix="IwAR"), dtype=object)
    f["utm_source"][sz], f["utm_medium"][sz] = "seznam", "cpc"
    paid = g | fb | sz
    f["utm_campaign"][paid] = slug[paid]
    f["utm_source"][em], f["utm_medium"][em] = "klaviyo", "email"
    f["utm_campaign"][em] = "newsletter"


def session_events(rng: np.random.Generator, s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Expand sessions into events (one row per event, object/num arrays keyed by JSON key)."""
    n = s["start"].size
    kind = s["kind"]
    purchase = kind == "purchase"
    form = kind == "form"
    anon = kind == "anon"
    n_view = np.where(anon, 0, rng.poisson(1.0, n) + purchase)
    n_pv = 1 + np.where(anon, rng.poisson(0.5, n), 0)
    cart = purchase | ((kind == "browse") & (rng.random(n) < 0.15))
    steps: list[tuple[str, np.ndarray]] = [
        ("page_view", n_pv),
        ("view_item", n_view),
        ("add_to_cart", cart.astype(np.int64)),
        ("begin_checkout", purchase.astype(np.int64)),
        ("purchase", purchase.astype(np.int64)),
        ("form_submit", form.astype(np.int64)),
    ]
    si_parts, name_parts, seq_parts = [], [], []
    for j, (name, cnt) in enumerate(steps):
        si = expand(cnt)
        si_parts.append(si)
        name_parts.append(np.full(si.size, name, dtype=object))
        seq_parts.append(j * 100 + np.arange(si.size) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    si = np.concatenate(si_parts)
    name = np.concatenate(name_parts)
    seq = np.concatenate(seq_parts)
    # Position of each event inside its session (steps in funnel order) → ~40 s apart.
    order = np.lexsort((seq, si))
    pos = np.empty(si.size, dtype=np.int64)
    pos[order] = rank_within(si[order])
    ts = s["start"][si] + pos * 40 * SECOND_US + rng.integers(0, 20, si.size) * SECOND_US
    is_p = name == "purchase"
    ts = np.where(is_p, np.maximum(s["order_at"][si], s["start"][si] + 1), ts)
    site = obj([SITE[c] for c in s["country"][si]])
    path = np.select(
        [
            name == "page_view",
            np.isin(name, ["view_item", "add_to_cart"]),
            name == "begin_checkout",
            is_p,
            name == "form_submit",
        ],
        ["/", "/p/" + s["sku"][si].astype(object), "/pokladna", "/dekujeme", "/formular"],
        "/",
    )
    sku_ev = np.isin(name, ["view_item", "add_to_cart"]) | is_p
    value = np.where(
        is_p, s["order_total"][si], np.where(sku_ev, np.round(s["price"][si], 2), np.nan)
    )
    currency = np.where(sku_ev, obj([CURRENCY[c] for c in s["country"][si]]), None)
    # Experiments: a new A/B test every 21 days; half the sessions fall into one.
    block = ts // (21 * DAY)
    dev_hash = np.array([zlib.crc32(a.encode()) for a in s["anonymous_id"]], dtype=np.int64)[si]
    in_exp = ((dev_hash >> 3) + block) % 2 == 0
    exp_id = np.where(in_exp, obj([f"exp-{b:05d}" for b in block]), None)
    variant = np.where(in_exp, np.where((dev_hash + block) % 2 == 0, "A", "B"), None)
    return {
        "event_name": name,
        "event_ts": ts,
        "anonymous_id": s["anonymous_id"][si],
        "login_id": s["login"][si],
        "session_id": s["session_id"][si],
        "page_url": site + path,
        "referrer": np.where(pos == 0, s["referrer"][si], None),
        "utm_source": s["utm_source"][si],
        "utm_medium": s["utm_medium"][si],
        "utm_campaign": s["utm_campaign"][si],
        "utm_content": s["utm_content"][si],
        "utm_term": s["utm_term"][si],
        "gclid": s["gclid"][si],
        "fbclid": s["fbclid"][si],
        "experiment_id": exp_id,
        "variant": variant,
        "sku": np.where(sku_ev, s["sku"][si], None),
        "value": value,
        "currency": currency,
        "order_number": np.where(is_p, s["order_number"][si], None),
        "form_id": np.where(name == "form_submit", s["form_id"][si], None),
        "email": np.where(name == "form_submit", s["email"][si], None),
        "_person": s["person"][si],
    }


def consent_events(
    rng: np.random.Generator, s: dict[str, np.ndarray], people: People
) -> dict[str, np.ndarray]:
    """CMP decisions: a banner answer per device and policy version (first session under it);
    some devices first deny everything and later fix it in the preference centre."""
    n = s["start"].size
    if n == 0:
        return {k: np.zeros(0, dtype=object) for k in CONSENT_KEYS}
    pol = policy_version(s["start"])
    key = obj([f"{a}|{p}" for a, p in zip(s["anonymous_id"], pol, strict=True)])
    order = np.lexsort((s["start"], key))
    first = np.r_[True, key[order][1:] != key[order][:-1]]
    b = order[first]
    m = b.size
    person = s["person"][b]
    known = person >= 0
    pp = np.maximum(person, 0)

    def truth(col: str, p_anon: float) -> np.ndarray:
        return np.where(known, people[col][pp] if len(people) else False, rng.random(m) < p_anon)

    vals = {
        "analytics": truth("c_analytics", 0.6),
        "marketing_email": truth("email_opt_in", 0.1),
        "sms": truth("c_sms", 0.05),
        "ad_user_data": truth("c_ad_user_data", 0.45),
        "ad_personalization": truth("c_ad_personalization", 0.35),
    }
    t = s["start"][b] - 2 * SECOND_US
    deny_first = rng.random(m) < 0.1
    rows_t = [t, t[deny_first] + (rng.uniform(1, 20, int(deny_first.sum())) * DAY).astype(np.int64)]
    src = [
        np.full(m, "banner", dtype=object),
        np.full(int(deny_first.sum()), "preference_center", dtype=object),
    ]
    out: dict[str, np.ndarray] = {
        "anonymous_id": np.concatenate([s["anonymous_id"][b], s["anonymous_id"][b][deny_first]]),
        "login_id": np.concatenate([s["login"][b], s["login"][b][deny_first]]),
        "event_ts": np.concatenate(rows_t),
        "policy_version": np.concatenate([pol[b], pol[b][deny_first]]),
        "source": np.concatenate(src),
        "_person": np.concatenate([person, person[deny_first]]),
    }
    for k, v in vals.items():
        first_val = np.where(deny_first, False, v)
        out[k] = np.where(np.concatenate([first_val, v[deny_first]]), "granted", "denied").astype(
            object
        )
    return out


# --- JSON lines -------------------------------------------------------------------------------


def _escape(arr: pa.Array) -> pa.Array:
    arr = pc.replace_substring(arr, "\\", "\\\\")
    return pc.replace_substring(arr, '"', '\\"')


def json_lines(rows: dict[str, pa.Array], keys: tuple[str, ...]) -> pa.Array:
    """One compact JSON object per row, keys in fixed order; null values are omitted.

    Built with vectorised arrow string kernels (no per-row ``json.dumps``).
    """
    pieces = []
    for i, key in enumerate(keys):
        arr = rows[key]
        prefix = ("{" if i == 0 else ",") + f'"{key}":'
        if pa.types.is_string(arr.type):
            val = pc.binary_join_element_wise('"', _escape(arr), '"', "")
        else:
            val = pc.cast(arr, pa.string())
        piece = pc.binary_join_element_wise(prefix, val, "")
        pieces.append(pc.fill_null(piece, "") if i else piece)
    pieces.append(pa.scalar("}\n"))
    return pc.binary_join_element_wise(*pieces, "")


def to_arrow_columns(
    ev: dict[str, np.ndarray], keys: tuple[str, ...], id_key: str, rng: np.random.Generator
) -> dict[str, pa.Array]:
    """Arrow columns for JSON encoding (timestamps → ISO strings, ids drawn here)."""
    n = ev["event_ts"].size
    cols: dict[str, pa.Array] = {id_key: uuid4_strings(rng, n)}
    for k in keys:
        if k == id_key:
            continue
        v = ev[k]
        if k == "event_ts":
            cols[k] = iso_z(v)
        elif k in NUMERIC_KEYS:
            cols[k] = pa.array(
                np.round(v.astype(np.float64), 2), pa.float64(), mask=np.isnan(v.astype(np.float64))
            )
        else:
            cols[k] = pa.array(v, pa.string())
    return cols
