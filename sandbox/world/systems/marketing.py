"""The marketing calendar: CRM campaigns (paid/offline, with cost) and ESP email campaigns.

Both are built before the people-level systems because orders, web sessions, deals and email
events refer to them (``utm_campaign`` = campaign slug; deals carry the source campaign id).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

from sandbox.world.core import DAY, HOUR, choice, obj, sorted_ulids, uuid4_strings
from sandbox.world.names import COUNTRIES, strip_diacritics

CRM_THEMES = (
    "Black Friday",
    "Jarní výprodej",
    "Letní akce",
    "Back to School",
    "Vánoce",
    "Valentýn",
    "Nová kolekce",
    "Cyber Monday",
    "Den matek",
    "B2B Webinar",
    "Veletrh",
    "Brand awareness",
    "Remarketing",
    "Lead gen B2B",
    "Zimní výprodej",
)
CRM_CHANNELS = ("google", "facebook", "seznam", "email", "offline", "webinar")
ESP_SUBJECTS = (
    "Novinky tohoto týdne",
    "Sleva 20 % jen dnes",
    "Doprava zdarma do neděle",
    "Tipy na dárky",
    "Poslední kusy skladem",
    "Nová kolekce je tady",
    "Víkendová akce",
    "Jen pro vás: exkluzivní nabídka",
    "Nowości tygodnia",
    "Zľava 15 % na všetko",
    "Vaše oblíbené zboží zlevnilo",
    "Black Friday začíná",
)
FLOWS = (
    ("Welcome Series", "Added to List", "Vítejte v našem obchodě"),
    ("Abandoned Cart", "Metric", "Zapomněli jste něco v košíku?"),
    ("Post-Purchase", "Metric", "Děkujeme za nákup"),
    ("Browse Abandonment", "Metric", "Stále přemýšlíte?"),
    ("Win-back", "Segment", "Chybíte nám"),
    ("Birthday", "Date Property", "Všechno nejlepší!"),
)


def subject_for(campaign_ids: np.ndarray) -> np.ndarray:
    """Subject line of an email campaign, a pure function of its id (so it can be re-derived
    from ``esp/campaigns.parquet``, which has no subject column)."""
    return obj(
        [ESP_SUBJECTS[zlib.crc32(str(i).encode()) % len(ESP_SUBJECTS)] for i in campaign_ids]
    )


def slugify(text: str) -> str:
    """``Jarní výprodej 2026 CZ`` → ``jarni-vyprodej-2026-cz``."""
    return re.sub(r"[^a-z0-9]+", "-", strip_diacritics(text).lower()).strip("-")


@dataclass
class CrmCampaigns:
    """CRM (HubSpot) campaigns."""

    id: np.ndarray  # uuid strings
    name: np.ndarray
    slug: np.ndarray
    channel: np.ndarray
    country: np.ndarray
    start: np.ndarray
    end: np.ndarray
    budget: np.ndarray
    expected_revenue: np.ndarray
    currency: np.ndarray
    created: np.ndarray

    def __len__(self) -> int:
        return int(self.id.shape[0])


@dataclass
class EmailCampaigns:
    """ESP (Klaviyo) email campaigns."""

    id: np.ndarray  # ULID strings
    name: np.ndarray
    slug: np.ndarray
    subject: np.ndarray
    country: np.ndarray
    send_time: np.ndarray
    created: np.ndarray

    def __len__(self) -> int:
        return int(self.id.shape[0])


def crm_campaigns(rng: np.random.Generator, t0: int, t1: int, people: int) -> CrmCampaigns:
    """Campaigns starting in ``[t0, t1)``: about ``4 + people/50k`` a month."""
    months = max((t1 - t0) / (30 * DAY), 0.0)
    n = int(rng.poisson(months * (4 + people / 50_000)))
    start = np.sort(t0 + (rng.random(n) * (t1 - t0)).astype(np.int64)) // DAY * DAY
    dur = (7 + rng.integers(0, 50, n)) * DAY
    theme = obj(CRM_THEMES)[rng.integers(0, len(CRM_THEMES), n)]
    country = obj(COUNTRIES)[choice(rng, n, (0.6, 0.2, 0.2))]
    year = np.array([str(1970 + int(s // DAY / 365.25)) for s in start], dtype=object)
    seq = np.array([str(i + 1) for i in rng.integers(0, 99, n)], dtype=object)
    name = theme + " " + year + " " + country + " #" + seq
    channel = obj(CRM_CHANNELS)[choice(rng, n, (0.35, 0.25, 0.1, 0.15, 0.08, 0.07))]
    budget = np.round(np.exp(rng.normal(11.0, 0.8, n)), -2)
    currency = np.where(country == "CZ", "CZK", np.where(country == "SK", "EUR", "PLN")).astype(
        object
    )
    fx = np.where(country == "CZ", 1.0, np.where(country == "SK", 25.0, 5.8))
    budget = np.round(budget / fx, 0)
    created = start - (rng.integers(3, 30, n) * DAY)
    return CrmCampaigns(
        id=np.asarray(uuid4_strings(rng, n), dtype=object),
        name=name,
        slug=np.array([slugify(x) for x in name], dtype=object),
        channel=channel,
        country=country,
        start=start,
        end=start + dur,
        budget=budget,
        expected_revenue=np.round(budget * rng.uniform(1.5, 6.0, n), 0),
        currency=currency,
        created=created,
    )


def email_campaigns(rng: np.random.Generator, t0: int, t1: int, per_week: float) -> EmailCampaigns:
    """Email campaigns sent in ``[t0, t1)``: ``per_week`` a week per country, at ~09:00 UTC."""
    days = np.arange(-(-t0 // DAY), -(-t1 // DAY), dtype=np.int64)
    rows: list[tuple[int, str]] = []
    p_day = per_week / 7.0
    draws = rng.random((days.size, len(COUNTRIES)))
    for i, d in enumerate(days):
        for j, cty in enumerate(COUNTRIES):
            if draws[i, j] < p_day:
                rows.append((int(d), cty))
    n = len(rows)
    day = np.array([r[0] for r in rows], dtype=np.int64)
    country = np.array([r[1] for r in rows], dtype=object)
    send = day * DAY + 8 * HOUR + rng.integers(0, 4 * 3600, n) * 1_000_000
    keep = (send >= t0) & (send < t1)
    day, country, send = day[keep], country[keep], send[keep]
    n = int(keep.sum())
    # Created three days before sending: id order (ULID of created) = send-time order.
    order, ids = sorted_ulids((send - 3 * DAY) // 1000, rng)
    day, country, send = day[order], country[order], send[order]
    ids = np.asarray(ids, dtype=object)
    subject = subject_for(ids)
    date = np.array([np.datetime_as_string(np.datetime64(int(d), "D")) for d in day], dtype=object)
    name = "Newsletter " + date + " " + country
    return EmailCampaigns(
        id=np.asarray(ids, dtype=object),
        name=name,
        slug=np.array([slugify(x) for x in name], dtype=object),
        subject=subject,
        country=country,
        send_time=send,
        created=send - 3 * DAY,
    )


def active_campaign(
    rng: np.random.Generator,
    camps: CrmCampaigns,
    t: np.ndarray,
    channel_mask: np.ndarray | None = None,
) -> np.ndarray:
    """Index of a random campaign running at each time ``t`` (``-1`` if none)."""
    n = t.shape[0]
    out = np.full(n, -1, dtype=np.int64)
    if len(camps) == 0 or n == 0:
        return out
    cand = np.arange(len(camps)) if channel_mask is None else np.flatnonzero(channel_mask)
    if cand.size == 0:
        return out
    # Campaigns are sorted by start; try a handful of random candidates that started before t.
    starts = camps.start[cand]
    hi = np.searchsorted(starts, t, side="right")
    for _ in range(6):
        todo = (out < 0) & (hi > 0)
        if not todo.any():
            break
        lo = np.maximum(hi - 12, 0)
        pick = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
        pick = np.minimum(pick, np.maximum(hi - 1, 0))
        c = cand[pick]
        ok = todo & (camps.end[c] > t)
        out[ok] = c[ok]
    return out
