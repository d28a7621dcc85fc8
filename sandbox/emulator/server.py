"""Running the emulator: a blocking ``serve`` for the CLI and a thread for tests."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.emulator import config as cfg
from sandbox.emulator.app import EmulatorApp, make_app
from sandbox.emulator.config import FaultConfig, RateLimits


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every request (the stats endpoint counts them)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def connection_info(base_url: str) -> dict[str, Any]:
    """Base URLs and credentials for each vendor role, as pipelines need them.

    Args:
        base_url: where the emulator listens, e.g. ``http://127.0.0.1:8765``.

    Returns:
        ``{"crm": {...}, "esp": {...}, "helpdesk": {...}, "admin": {...}}``.
    """
    base = base_url.rstrip("/")
    return {
        "crm": {"base_url": f"{base}/hubspot", "token": cfg.HUBSPOT_TOKEN},
        "esp": {
            "base_url": f"{base}/klaviyo",
            "api_key": cfg.KLAVIYO_KEY,
            "revision": cfg.KLAVIYO_REVISION,
        },
        "helpdesk": {
            "base_url": f"{base}/zendesk",
            "email": cfg.ZENDESK_EMAIL,
            "token": cfg.ZENDESK_TOKEN,
            "basic_user": f"{cfg.ZENDESK_EMAIL}/token",
        },
        "admin": {
            "health": f"{base}/_sandbox/health",
            "stats": f"{base}/_sandbox/stats",
            "faults": f"{base}/_sandbox/faults",
        },
    }


def banner(base_url: str, world_dir: Path) -> str:
    """Human-readable start-up text with URLs and credentials."""
    info = connection_info(base_url)
    return "\n".join(
        [
            f"closedloop vendor sandbox serving {world_dir} at {base_url}",
            f"  crm (HubSpot)      {info['crm']['base_url']}   Authorization: Bearer {cfg.HUBSPOT_TOKEN}",
            f"  esp (Klaviyo)      {info['esp']['base_url']}   Authorization: Klaviyo-API-Key {cfg.KLAVIYO_KEY}"
            f"   revision: {cfg.KLAVIYO_REVISION}",
            f"  helpdesk (Zendesk) {info['helpdesk']['base_url']}   Basic {cfg.ZENDESK_EMAIL}/token:{cfg.ZENDESK_TOKEN}",
            f"  admin              {base_url}/_sandbox/health | /_sandbox/stats | POST /_sandbox/faults",
        ]
    )


def serve(
    world_dir: Path,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    faults: FaultConfig | None = None,
    limits: RateLimits | None = None,
    rate_limit_scale: float = cfg.DEMO_RATE_LIMIT_SCALE,
    quiet: bool = False,
) -> None:
    """Serve the emulator until interrupted (blocking; werkzeug threaded server).

    Args:
        world_dir: world directory to serve.
        host: interface to bind.
        port: TCP port (0 picks a free one).
        faults: initial faults; when ``None``, no faults and ``rate_limit_scale``.
        limits: base vendor rate limits.
        rate_limit_scale: multiplier on the real limits for demos (ignored if ``faults`` given).
        quiet: do not print the banner.
    """
    app = make_app(
        Path(world_dir),
        faults=faults or FaultConfig(rate_limit_scale=rate_limit_scale),
        limits=limits,
    )
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    url = f"http://{host}:{server.server_port}"
    if not quiet:
        print(banner(url, Path(world_dir)), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


class EmulatorThread:
    """A real emulator server in a background thread (tests, CLI helpers).

    Usable as a context manager::

        with EmulatorThread(world_dir) as emu:
            requests.get(emu.url + "/hubspot/crm/v3/objects/contacts", headers=...)

    Args:
        world_dir: world directory to serve.
        host: interface to bind.
        port: TCP port; 0 picks a free one.
        faults: initial fault settings (default: none, real limits).
        limits: base vendor rate limits.
    """

    def __init__(
        self,
        world_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultConfig | None = None,
        limits: RateLimits | None = None,
    ) -> None:
        self.world_dir = Path(world_dir)
        self.app: EmulatorApp = make_app(self.world_dir, faults=faults, limits=limits)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server: BaseWSGIServer = make_server(
            host, port, self.app, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="closedloop-emulator", daemon=True
        )
        self._thread.start()

    @property
    def info(self) -> dict[str, Any]:
        """Base URLs and credentials (see :func:`connection_info`)."""
        return connection_info(self.url)

    def set_faults(self, **kw: Any) -> None:
        """Change fault settings (same keys as ``POST /_sandbox/faults``)."""
        self.app.set_faults(**kw)

    def stats(self) -> dict[str, Any]:
        """Counters as served by ``GET /_sandbox/stats``."""
        return self.app.stats()

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
