"""Emulator configuration: credentials, fault switches and vendor rate limits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

# Sandbox credentials (docs/world-format.md §1/§3). A "noscope" credential authenticates but
# lacks the read scopes, so clients can exercise the vendors' 403 paths.
HUBSPOT_TOKEN = "pat-sandbox-crm"
HUBSPOT_NOSCOPE_TOKEN = "pat-sandbox-noscope"
KLAVIYO_KEY = "pk_sandbox_esp"
KLAVIYO_NOSCOPE_KEY = "pk_sandbox_noscope"
KLAVIYO_REVISION = "2026-07-15"
ZENDESK_EMAIL = "sandbox@closedloop.test"
ZENDESK_TOKEN = "sandbox-helpdesk-token"
ZENDESK_NOSCOPE_EMAIL = "enduser@closedloop.test"

DEMO_RATE_LIMIT_SCALE = 50.0


@dataclass
class FaultConfig:
    """Switchable faults, the JSON body of ``POST /_sandbox/faults``.

    Attributes:
        status_5xx_rate: Share of vendor requests answered with a 500/502/503.
        slow_ms: Extra latency added to every vendor request, in milliseconds.
        drop_rate: Share of vendor requests whose connection is closed without a response.
        rate_limit_scale: Multiplier on every vendor rate limit (1.0 = the real limits).
        seed: Seed of the fault dice; the same seed and request order give the same faults.
    """

    status_5xx_rate: float = 0.0
    slow_ms: int = 0
    drop_rate: float = 0.0
    rate_limit_scale: float = 1.0
    seed: int = 1

    def updated(self, **kw: Any) -> FaultConfig:
        """Return a copy with the given fields replaced; unknown keys raise ``ValueError``."""
        names = {f.name for f in fields(self)}
        unknown = set(kw) - names
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        data = {**asdict(self), **kw}
        cfg = FaultConfig(
            status_5xx_rate=float(data["status_5xx_rate"]),
            slow_ms=int(data["slow_ms"]),
            drop_rate=float(data["drop_rate"]),
            rate_limit_scale=float(data["rate_limit_scale"]),
            seed=int(data["seed"]),
        )
        for rate in (cfg.status_5xx_rate, cfg.drop_rate):
            if not 0.0 <= rate <= 1.0:
                raise ValueError("rates must lie in [0, 1]")
        if cfg.rate_limit_scale <= 0 or cfg.slow_ms < 0:
            raise ValueError("rate_limit_scale must be > 0 and slow_ms >= 0")
        return cfg

    def as_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Limit:
    """One token bucket: ``capacity`` requests, refilled evenly over ``window_s`` seconds."""

    capacity: float
    window_s: float


@dataclass
class RateLimits:
    """The vendors' real limits, before ``rate_limit_scale`` is applied.

    Sources: HubSpot usage guidelines (100 requests / 10 s per private-app token, search
    4-5 requests / s, 250k-1M per day), Klaviyo per-endpoint ``x-klaviyo-ratelimit`` burst /
    steady values from its OpenAPI spec, Zendesk 700 requests / min (Enterprise) and
    10 requests / min for incremental exports.
    """

    hubspot_burst: Limit = field(default_factory=lambda: Limit(100, 10.0))
    hubspot_search: Limit = field(default_factory=lambda: Limit(5, 1.0))
    hubspot_daily: int = 250_000
    # endpoint -> (burst per second, steady per minute)
    klaviyo: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {
            "profiles": (75, 750),
            "events": (350, 3500),
            "metrics": (10, 150),
            "lists": (75, 750),
            "list_profiles": (75, 750),
            "campaigns": (10, 150),
            "flows": (3, 60),
        }
    )
    zendesk_account: Limit = field(default_factory=lambda: Limit(700, 60.0))
    zendesk_incremental: Limit = field(default_factory=lambda: Limit(10, 60.0))
