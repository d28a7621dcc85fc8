"""Local HTTP emulator of the CRM (HubSpot), ESP (Klaviyo) and helpdesk (Zendesk) APIs.

It serves a generated world (``docs/world-format.md``) with the vendors' envelopes, paging,
incremental filters, auth, rate-limit headers, 429s and switchable faults, so pipelines run
unchanged against it by swapping only the base URL. See ``sandbox/README.md``.
"""

from sandbox.emulator.app import EmulatorApp, make_app
from sandbox.emulator.config import FaultConfig, RateLimits
from sandbox.emulator.server import EmulatorThread, banner, connection_info, serve

__all__ = [
    "EmulatorApp",
    "EmulatorThread",
    "FaultConfig",
    "RateLimits",
    "banner",
    "connection_info",
    "make_app",
    "serve",
]
