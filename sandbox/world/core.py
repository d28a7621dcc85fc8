"""Shared helpers: world clock, seeded random streams, vectorised string and ID builders.

Internally every timestamp is an ``int64`` count of microseconds since the Unix epoch (UTC);
strings are numpy ``object`` arrays (element-wise ``+`` and fancy indexing run in C) or
pyarrow arrays for the very large tables.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

US = 1_000_000
SECOND_US = US
MINUTE = 60 * US
HOUR = 3600 * US
DAY = 86_400 * US

ProgressFn = Callable[[str, float], None]

TS_TYPE = pa.timestamp("us", tz="UTC")


class WorldError(ValueError):
    """Raised for bad input: not a world, non-empty target, too few people, bad days."""


def parse_ts(value: str) -> int:
    """Parse an ISO-8601 UTC timestamp (``...Z`` or ``+00:00``) into epoch microseconds."""
    text = value.strip().replace("Z", "+00:00")
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return round(dt.timestamp() * US)


def fmt_ts(us: int) -> str:
    """Format epoch microseconds as ``YYYY-MM-DDTHH:MM:SSZ`` (seconds precision)."""
    return datetime.fromtimestamp(us // US, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stream(seed: int, version: int, stage: str) -> np.random.Generator:
    """Return an independent random generator for one stage of one world version.

    Every stage gets its own stream so that changing how much randomness one stage consumes
    never shifts the output of another stage.
    """
    key = zlib.crc32(stage.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(version), key]))


def choice(rng: np.random.Generator, n: int, probs: Sequence[float]) -> np.ndarray:
    """Draw ``n`` category indices with the given probabilities (normalised)."""
    p = np.asarray(probs, dtype=np.float64)
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(n), side="right").astype(np.int64)


def weighted_vocab_idx(rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    """Sample indices into a vocabulary with precomputed popularity weights."""
    cum = np.cumsum(weights / weights.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(n), side="right").astype(np.int64)


def uniform_times(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Uniform times in ``[lo, hi)`` element-wise (int64 microseconds)."""
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    span = np.maximum(hi - lo, 0).astype(np.float64)
    return lo + (rng.random(lo.shape[0]) * span).astype(np.int64)


def expand(counts: np.ndarray) -> np.ndarray:
    """Parent index repeated ``counts[i]`` times (the child→parent map of a 1:n expansion)."""
    return np.repeat(np.arange(counts.shape[0], dtype=np.int64), counts.astype(np.int64))


def rank_within(groups: np.ndarray) -> np.ndarray:
    """0-based occurrence number of each element within its (already sorted) group."""
    n = groups.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[True, groups[1:] != groups[:-1]]
    idx = np.arange(n, dtype=np.int64)
    first = np.maximum.accumulate(np.where(starts, idx, 0))
    return idx - first


# --- timestamps -> arrow / text ---------------------------------------------------------------


def ts_array(us: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Arrow ``timestamp[us, tz=UTC]`` array from epoch microseconds (``null`` mask optional)."""
    return pa.array(np.asarray(us, dtype=np.int64), type=TS_TYPE, mask=null)


def _digits(out: np.ndarray, col: int, values: np.ndarray, width: int) -> None:
    v = values.copy()
    for k in range(width - 1, -1, -1):
        out[:, col + k] = 48 + (v % 10)
        v //= 10


def _ts_chars(us: np.ndarray, unit: str) -> np.ndarray:
    """``(n, width)`` ASCII matrix of ``YYYY-MM-DDTHH:MM:SS[.fff]``, by integer arithmetic
    (civil-from-days, H. Hinnant), several times faster than strftime."""
    us = np.asarray(us, dtype=np.int64)
    n = us.shape[0]
    days = us // DAY
    rem = us - days * DAY
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = y + (m <= 2)
    secs = rem // US
    width = 23 if unit == "ms" else 19
    out = np.empty((n, width), dtype=np.uint8)
    _digits(out, 0, y, 4)
    out[:, 4] = out[:, 7] = ord("-")
    _digits(out, 5, m, 2)
    _digits(out, 8, d, 2)
    out[:, 10] = ord("T")
    _digits(out, 11, secs // 3600, 2)
    out[:, 13] = out[:, 16] = ord(":")
    _digits(out, 14, (secs // 60) % 60, 2)
    _digits(out, 17, secs % 60, 2)
    if unit == "ms":
        out[:, 19] = ord(".")
        _digits(out, 20, (rem % US) // 1000, 3)
    return out


def iso_z(us: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """ISO-8601 ``YYYY-MM-DDTHH:MM:SS.mmmZ`` strings (milliseconds), for JSON."""
    us = np.asarray(us, dtype=np.int64)
    m = _ts_chars(us, "ms") if us.size else np.zeros((0, 23), np.uint8)
    m = np.concatenate([m, np.full((m.shape[0], 1), ord("Z"), np.uint8)], axis=1)
    arr = char_matrix_to_strings(m)
    if null is not None and bool(np.any(null)):
        arr = pc.if_else(pa.array(~np.asarray(null, dtype=bool)), arr, pa.scalar(None, pa.string()))
    return arr


def sql_ts(us: np.ndarray, null: np.ndarray | None = None) -> list[str | None]:
    """Plain UTC ``YYYY-MM-DD HH:MM:SS`` strings (the shop database's timestamp format)."""
    us = np.asarray(us, dtype=np.int64)
    if us.size == 0:
        return []
    m = _ts_chars(us, "s")
    m[:, 10] = ord(" ")
    out = char_matrix_to_strings(m).to_pylist()
    if null is not None:
        for i in np.flatnonzero(null):
            out[i] = None
    return out


def day_of(us: np.ndarray) -> np.ndarray:
    """Day number since epoch for each timestamp."""
    return np.asarray(us, dtype=np.int64) // DAY


def day_str(day: int) -> str:
    """``YYYY-MM-DD`` for a day number since epoch."""
    return datetime.fromtimestamp(int(day) * 86_400, tz=UTC).strftime("%Y-%m-%d")


# --- fixed-width random strings / IDs -------------------------------------------------------

_CROCKFORD = np.frombuffer(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", dtype=np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
ALNUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", np.uint8)
ALNUM_ID = ALNUM.tobytes().decode() + "_-"


def char_matrix_to_strings(m: np.ndarray) -> pa.StringArray:
    """Build an arrow string array from an ``(n, width)`` uint8 ASCII matrix, zero-copy-ish."""
    n, width = m.shape
    offsets = (np.arange(n + 1, dtype=np.int64) * width).astype(np.int32)
    data = np.ascontiguousarray(m, dtype=np.uint8).tobytes()
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))


def ulid_matrix(ms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """ULID-like 26-char Crockford base32 ``(n, 26)`` matrix: 48-bit time + 80 random bits.

    Lexicographic order of the strings equals order by (time, random part).
    """
    ms = np.asarray(ms, dtype=np.int64)
    n = ms.shape[0]
    out = np.empty((n, 26), dtype=np.uint8)
    t = ms.copy()
    for i in range(9, -1, -1):
        out[:, i] = _CROCKFORD[t & 31]
        t >>= 5
    out[:, 10:] = _CROCKFORD[np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16) & 31]
    return out


def sorted_ulids(ms: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, pa.StringArray]:
    """ULIDs for ``ms`` plus the permutation that sorts rows by their ULID.

    Returns:
        (order, ids): ``order`` sorts the input rows; ``ids`` are already in that order.
    """
    m = ulid_matrix(ms, rng)
    # Sort by the raw bytes: views as fixed-width bytes sort lexicographically.
    keys = m.view(f"S{m.shape[1]}").ravel()
    order = np.argsort(keys, kind="stable")
    return order, char_matrix_to_strings(m[order])


def uuid4_strings(rng: np.random.Generator, n: int) -> pa.StringArray:
    """Random RFC-4122 version-4-shaped UUID strings (36 chars)."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16)
    nib = np.empty((n, 32), dtype=np.uint8)
    nib[:, 0::2] = raw >> 4
    nib[:, 1::2] = raw & 15
    nib[:, 12] = 4
    nib[:, 16] = 8 + (nib[:, 16] & 3)
    hexes = _HEX[nib]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    out[:, 0:8] = hexes[:, 0:8]
    out[:, 9:13] = hexes[:, 8:12]
    out[:, 14:18] = hexes[:, 12:16]
    out[:, 19:23] = hexes[:, 16:20]
    out[:, 24:36] = hexes[:, 20:32]
    return char_matrix_to_strings(out)


def random_tokens(
    rng: np.random.Generator, n: int, width: int, prefix: str = "", alphabet: str | None = None
) -> pa.StringArray:
    """Random fixed-width tokens (e.g. gclid/fbclid) with an optional constant prefix."""
    alpha = np.frombuffer((alphabet or ALNUM_ID).encode(), dtype=np.uint8)
    body = alpha[rng.integers(0, alpha.shape[0], size=(n, width))]
    if prefix:
        pre = np.broadcast_to(np.frombuffer(prefix.encode(), dtype=np.uint8), (n, len(prefix)))
        body = np.concatenate([pre, body], axis=1)
    return char_matrix_to_strings(body)


def short_ids(rng: np.random.Generator, n: int, width: int = 6) -> list[str]:
    """Unique short alphanumeric IDs (Klaviyo list/metric/flow style), sorted."""
    out: set[str] = set()
    while len(out) < n:
        toks = random_tokens(rng, n - len(out), width, alphabet=ALNUM.tobytes().decode())
        out.update(toks.to_pylist())
    return sorted(out)


# --- object-array string helpers --------------------------------------------------------------


def obj(values: Sequence[str] | np.ndarray) -> np.ndarray:
    """Make a numpy object array of Python strings."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    return arr


def num_str(values: np.ndarray) -> np.ndarray:
    """Integers as decimal strings in an object array."""
    return np.asarray(pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string()), dtype=object)


def zpad(values: np.ndarray, width: int) -> np.ndarray:
    """Integers as zero-padded decimal strings (object array)."""
    s = pc.utf8_lpad(pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string()), width, "0")
    return np.asarray(s, dtype=object)


def with_nulls(values: np.ndarray, null: np.ndarray) -> np.ndarray:
    """Copy of an object array with ``None`` where ``null`` is true."""
    out = values.copy()
    out[null] = None
    return out


def to_arrow_str(values: np.ndarray) -> pa.Array:
    """Object array (``None`` = null) → arrow string array."""
    return pa.array(values, type=pa.string(), from_pandas=False)


def money(values: np.ndarray) -> np.ndarray:
    """Round to cents (float64); decimals are built at write time."""
    return np.round(np.asarray(values, dtype=np.float64), 2)


def decimal_array(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """``decimal128(12, 2)`` arrow array from float values, rounded to exact cents.

    Built straight from buffers (16-byte two's complement little endian per value), which is
    exact and avoids per-row ``Decimal`` objects.
    """
    cents = np.round(np.asarray(values, dtype=np.float64) * 100).astype(np.int64)
    n = cents.shape[0]
    words = np.empty((n, 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    validity = None
    if null is not None and bool(np.any(null)):
        validity = pa.array(~np.asarray(null, dtype=bool)).buffers()[1]
        words[np.asarray(null, dtype=bool)] = 0
    return pa.Array.from_buffers(pa.decimal128(12, 2), n, [validity, pa.py_buffer(words.tobytes())])
