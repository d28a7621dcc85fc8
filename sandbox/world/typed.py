"""How a person's true identifiers end up typed into one source record.

Each helper takes cohort person indices (one per record) and returns the record's values with
the system's noise profile: which of the person's emails is used (personal, alternative, work,
the household's shared address), which phone (own, the household's shared one, a stale old
number), which address (current, or the old one for people who moved), and how it is typed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sandbox.world.core import choice, obj, weighted_vocab_idx, zpad
from sandbox.world.names import COUNTRIES, COUNTRY_TEXT, country_names
from sandbox.world.noise import (
    PHONE_FORMAT_MIX,
    EmailNoise,
    noisy_emails,
    noisy_names,
    noisy_phones,
)
from sandbox.world.people import People


@dataclass(frozen=True)
class EmailChoice:
    """Relative weights of which true email a record carries."""

    personal: float = 0.78
    alt: float = 0.14
    work: float = 0.04
    household: float = 0.12


def pick_email(
    rng: np.random.Generator,
    people: People,
    pidx: np.ndarray,
    how: EmailChoice,
    noise: EmailNoise,
    missing: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Email as typed in a record. Returns ``(email, noise_flags)``."""
    n = pidx.shape[0]
    cand = [
        people["email_personal"][pidx],
        people["email_alt"][pidx],
        people["email_work"][pidx],
        people["email_household"][pidx],
    ]
    w = np.array([how.personal, how.alt, how.work, how.household])
    avail = (
        np.stack([np.array([v is not None for v in c], dtype=bool) for c in cand], axis=1)
        if n
        else np.zeros((0, 4), bool)
    )
    weights = avail * w
    weights[:, 0] = np.where(weights.sum(axis=1) == 0, 1.0, weights[:, 0])
    cum = np.cumsum(weights, axis=1)
    k = (rng.random(n)[:, None] * cum[:, -1:] >= cum).sum(axis=1) if n else np.zeros(0, np.int64)
    k = np.minimum(k, 3)
    base = np.empty(n, dtype=object)
    for j in range(4):
        sel = k == j
        base[sel] = cand[j][sel]
    base[rng.random(n) < missing] = None
    return noisy_emails(rng, base, noise)


def pick_phone(
    rng: np.random.Generator,
    people: People,
    pidx: np.ndarray,
    *,
    present: float,
    household: float = 0.3,
    stale: float = 0.35,
    mix: tuple[float, ...] = PHONE_FORMAT_MIX,
    junk: float = 0.01,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Phone as typed. Returns ``(phone_text, calling_code, national_number)`` (0 = none)."""
    n = pidx.shape[0]
    nat = people["phone_nat"][pidx].copy()
    hh = people["household_phone_nat"][pidx]
    old = people["old_phone_nat"][pidx]
    use_hh = (hh > 0) & (rng.random(n) < household)
    nat[use_hh] = hh[use_hh]
    use_old = (old > 0) & (rng.random(n) < stale)
    nat[use_old] = old[use_old]
    is_present = rng.random(n) < present
    cc = people["calling_code"][pidx]
    text, junk_mask = noisy_phones(rng, cc, nat, is_present, mix=mix, junk=junk)
    nat = np.where(is_present & ~junk_mask, nat, 0)
    return text, cc, nat


def pick_names(
    rng: np.random.Generator, people: People, pidx: np.ndarray, *, drop: float, missing: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) as typed: diacritics dropped with probability ``drop``, typos, case."""
    first = noisy_names(
        rng,
        people["first_name"][pidx],
        people["first_name_ascii"][pidx],
        drop_diacritics=drop,
        missing=missing,
    )
    last = noisy_names(
        rng,
        people["last_name"][pidx],
        people["last_name_ascii"][pidx],
        drop_diacritics=drop,
        missing=missing,
    )
    return first, last


def pick_address(
    rng: np.random.Generator, people: People, pidx: np.ndarray, *, drop: float, stale: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(street, city, postcode, country_code) as typed; movers' stale records keep an old address."""
    n = pidx.shape[0]
    asc = rng.random(n) < drop
    street = np.where(asc, people["street_ascii"][pidx], people["street"][pidx])
    city = np.where(asc, people["city_ascii"][pidx], people["city"][pidx])
    postcode = people["postcode"][pidx].copy()
    country = people["country"][pidx]
    old = people["moved"][pidx] & (rng.random(n) < stale)
    for cty in COUNTRIES:
        sel = np.flatnonzero(old & (country == cty))
        if sel.size == 0:
            continue
        v = country_names(cty)
        s = weighted_vocab_idx(rng, sel.size, v.streets.weights)
        c = weighted_vocab_idx(rng, sel.size, v.cities.weights)
        street[sel] = (
            v.streets.values[s] + " " + obj([str(x) for x in rng.integers(1, 200, sel.size)])
        )
        city[sel] = v.cities.values[c]
        z = zpad(rng.integers(10_000, 99_999, sel.size), 5)
        postcode[sel] = obj([f"{x[:2]}-{x[2:]}" if cty == "PL" else f"{x[:3]} {x[3:]}" for x in z])
    # Postcode typed without the space / dash for a share of records.
    nospace = rng.random(n) < 0.3
    postcode[nospace] = obj([x.replace(" ", "").replace("-", "") for x in postcode[nospace]])
    upper = rng.random(n) < 0.02
    city[upper] = obj([x.upper() for x in city[upper]])
    return street, city, postcode, country.copy()


def country_text(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Free-text country as typed ("Czech Republic", "CZ", "Česko", "Polska", ...)."""
    out = np.empty(country.shape[0], dtype=object)
    for cty in COUNTRIES:
        sel = np.flatnonzero(country == cty)
        opts = obj([t for t, _ in COUNTRY_TEXT[cty]])
        out[sel] = opts[choice(rng, sel.size, [p for _, p in COUNTRY_TEXT[cty]])]
    return out
