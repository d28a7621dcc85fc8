"""Real-world noise applied when a person's true attributes are copied into a source record.

Emails: case, gmail dots, ``+tags``, googlemail alias, typos, stray whitespace, junk values and
their typo variants. Phones: every local format (+420 601 123 456, 00420601123456, 601123456,
dashes, parentheses), junk numbers. Names: diacritics dropped, case, typos.

Selection of *which* rows get noise is vectorised; the string edits themselves run in Python on
that (small) subset only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.world.core import choice, num_str, obj
from sandbox.world.names import (
    DOMAIN_TYPOS,
    JUNK_EMAIL_VARIANTS,
    JUNK_EMAILS,
    JUNK_PHONE_VARIANTS,
    JUNK_PHONES,
)

PLUS_TAGS = ("shop", "news", "eshop", "promo", "2025", "nakup", "spam", "x")


@dataclass(frozen=True)
class EmailNoise:
    """Per-record probabilities of each email defect (applied independently, in this order)."""

    case: float = 0.06
    dots: float = 0.15  # of gmail addresses only
    tag: float = 0.04
    alias: float = 0.1  # of gmail addresses only: googlemail.com
    typo: float = 0.015
    space: float = 0.01
    junk: float = 0.01


def _typo_local(rng: np.random.Generator, s: str) -> str:
    if len(s) < 3:
        return s + s[-1:]
    i = int(rng.integers(0, len(s) - 1))
    kind = int(rng.integers(0, 3))
    if kind == 0:  # transposition
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    if kind == 1:  # dropped character
        return s[:i] + s[i + 1 :]
    return s[:i] + s[i] + s[i:]  # doubled character


def email_typo(rng: np.random.Generator, email: str) -> str:
    """One realistic typo: a known domain misspelling or a transposed/dropped/doubled letter."""
    local, _, domain = email.partition("@")
    if domain in DOMAIN_TYPOS and rng.random() < 0.6:
        opts = DOMAIN_TYPOS[domain]
        return f"{local}@{opts[int(rng.integers(0, len(opts)))]}"
    return f"{_typo_local(rng, local)}@{domain}"


def _case(rng: np.random.Generator, email: str) -> str:
    if rng.random() < 0.3:
        return email.upper()
    local, _, domain = email.partition("@")
    parts = [p[:1].upper() + p[1:] for p in local.split(".")]
    dom = domain[:1].upper() + domain[1:] if rng.random() < 0.3 else domain
    return ".".join(parts) + "@" + dom


def _dots(rng: np.random.Generator, email: str) -> str:
    local, _, domain = email.partition("@")
    if "." in local and rng.random() < 0.6:
        return local.replace(".", "") + "@" + domain
    i = int(rng.integers(1, max(len(local), 2)))
    return local[:i] + "." + local[i:] + "@" + domain


def noisy_emails(
    rng: np.random.Generator, base: np.ndarray, cfg: EmailNoise
) -> tuple[np.ndarray, np.ndarray]:
    """Apply email noise to an object array of true emails (``None`` stays ``None``).

    Returns:
        (emails, flags): the noisy values and a bit mask per row
        (1 case, 2 dots, 4 tag, 8 alias, 16 typo, 32 space, 64 junk).
    """
    n = base.shape[0]
    out = base.copy()
    flags = np.zeros(n, dtype=np.int64)
    present = np.array([e is not None for e in base], dtype=bool) if n else np.zeros(0, bool)
    gmail = np.zeros(n, dtype=bool)
    if n:
        gmail = present & np.array(
            [e is not None and e.endswith("@gmail.com") for e in base], dtype=bool
        )
    draws = rng.random((n, 7))

    def apply(mask: np.ndarray, bit: int, fn) -> None:  # type: ignore[no-untyped-def]
        for i in np.flatnonzero(mask):
            out[i] = fn(out[i])
        flags[mask] |= bit

    apply(gmail & (draws[:, 1] < cfg.dots), 2, lambda e: _dots(rng, e))
    apply(
        gmail & (draws[:, 3] < cfg.alias), 8, lambda e: e.replace("@gmail.com", "@googlemail.com")
    )
    apply(
        present & (draws[:, 2] < cfg.tag),
        4,
        lambda e: e.replace("@", "+" + PLUS_TAGS[int(rng.integers(0, len(PLUS_TAGS)))] + "@", 1),
    )
    apply(present & (draws[:, 4] < cfg.typo), 16, lambda e: email_typo(rng, e))
    apply(present & (draws[:, 0] < cfg.case), 1, lambda e: _case(rng, e))
    apply(
        present & (draws[:, 5] < cfg.space),
        32,
        lambda e: (" " + e) if rng.random() < 0.5 else (e + " "),
    )
    junk = draws[:, 6] < cfg.junk
    if junk.any():
        k = int(junk.sum())
        pool = obj(JUNK_EMAILS + JUNK_EMAIL_VARIANTS)
        w = np.r_[np.full(len(JUNK_EMAILS), 3.0), np.ones(len(JUNK_EMAIL_VARIANTS))]
        out[junk] = pool[choice(rng, k, w)]
        flags[junk] = 64
    return out, flags


# --- phones -----------------------------------------------------------------------------------

# Formats: {cc} calling code, {a} {b} {c} the three 3-digit groups of the 9-digit national number.
PHONE_FORMATS = (
    "+{cc}{a}{b}{c}",
    "+{cc} {a} {b} {c}",
    "00{cc}{a}{b}{c}",
    "{a}{b}{c}",
    "{a} {b} {c}",
    "{a}-{b}-{c}",
    "(+{cc}) {a} {b} {c}",
    "+{cc}-{a}-{b}-{c}",
    "00{cc} {a} {b} {c}",
    "+{cc} ({a}) {b}-{c}",
    "+{cc} {a}{b}{c}",
)
# Default mix of formats in hand-typed fields.
PHONE_FORMAT_MIX = (0.14, 0.26, 0.07, 0.17, 0.14, 0.05, 0.04, 0.03, 0.04, 0.02, 0.04)


def format_phones(cc: np.ndarray, nat: np.ndarray, fmt: np.ndarray) -> np.ndarray:
    """Render phones (calling code + 9-digit national number) in the given format indices."""
    n = nat.shape[0]
    out = np.empty(n, dtype=object)
    if n == 0:
        return out
    digits = pa.array(num_str(nat), type=pa.string())
    ccs = pa.array(num_str(cc), type=pa.string())
    a = pc.utf8_slice_codeunits(digits, 0, 3)
    b = pc.utf8_slice_codeunits(digits, 3, 6)
    c = pc.utf8_slice_codeunits(digits, 6, 9)
    parts = {"cc": ccs, "a": a, "b": b, "c": c}
    for k, template in enumerate(PHONE_FORMATS):
        sel = np.flatnonzero(fmt == k)
        if sel.size == 0:
            continue
        idx = pa.array(sel)
        pieces: list[pa.Array | str] = []
        rest = template
        while rest:
            start = rest.find("{")
            if start < 0:
                pieces.append(rest)
                break
            if start:
                pieces.append(rest[:start])
            end = rest.index("}", start)
            pieces.append(parts[rest[start + 1 : end]].take(idx))
            rest = rest[end + 1 :]
        arrays = [p if isinstance(p, pa.Array) else pa.scalar(p) for p in pieces]
        joined = pc.binary_join_element_wise(*arrays, "")
        out[sel] = np.asarray(joined, dtype=object)
    return out


def e164(cc: np.ndarray, nat: np.ndarray) -> np.ndarray:
    """E.164 strings (object array)."""
    return format_phones(cc, nat, np.zeros(nat.shape[0], dtype=np.int64))


def noisy_phones(
    rng: np.random.Generator,
    cc: np.ndarray,
    nat: np.ndarray,
    present: np.ndarray,
    mix: tuple[float, ...] = PHONE_FORMAT_MIX,
    junk: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """Typed phone values in mixed local formats; junk values for a small share.

    Returns:
        (phones, is_junk)
    """
    n = nat.shape[0]
    fmt = choice(rng, n, mix)
    out = format_phones(cc, nat, fmt)
    out[~present] = None
    is_junk = present & (rng.random(n) < junk)
    if is_junk.any():
        pool = obj(JUNK_PHONES + JUNK_PHONE_VARIANTS)
        w = np.r_[np.full(len(JUNK_PHONES), 3.0), np.ones(len(JUNK_PHONE_VARIANTS))]
        out[is_junk] = pool[choice(rng, int(is_junk.sum()), w)]
    return out, is_junk


# --- names ------------------------------------------------------------------------------------


def name_typo(rng: np.random.Generator, s: str) -> str:
    """Transposed, dropped or doubled letter (keeps the first letter)."""
    if len(s) < 4:
        return s
    i = int(rng.integers(1, len(s) - 1))
    kind = int(rng.integers(0, 3))
    if kind == 0:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    if kind == 1:
        return s[:i] + s[i + 1 :]
    return s[:i] + s[i] + s[i:]


def noisy_names(
    rng: np.random.Generator,
    true: np.ndarray,
    ascii_: np.ndarray,
    *,
    drop_diacritics: float,
    typo: float = 0.015,
    upper: float = 0.01,
    lower: float = 0.02,
    missing: float = 0.0,
) -> np.ndarray:
    """Names as typed into a system: diacritics dropped, typos, case, missing."""
    n = true.shape[0]
    d = rng.random((n, 5))
    out = np.where(d[:, 0] < drop_diacritics, ascii_, true)
    for i in np.flatnonzero(d[:, 1] < typo):
        if out[i] is not None:
            out[i] = name_typo(rng, out[i])
    for i in np.flatnonzero(d[:, 2] < upper):
        if out[i] is not None:
            out[i] = out[i].upper()
    for i in np.flatnonzero((d[:, 3] < lower) & (d[:, 2] >= upper)):
        if out[i] is not None:
            out[i] = out[i].lower()
    out[d[:, 4] < missing] = None
    return out
