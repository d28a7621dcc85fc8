"""The WSGI application: routing, auth, rate limits, faults and stats around the vendors."""

from __future__ import annotations

import base64
import logging
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from sandbox.emulator import config as cfg
from sandbox.emulator import hubspot, klaviyo, zendesk
from sandbox.emulator.config import FaultConfig, RateLimits
from sandbox.emulator.http import ApiError, Ctx, correlation_id, json_response
from sandbox.emulator.ratelimit import DailyCounter, Decision, TokenBucket
from sandbox.emulator.store import Snapshot, WorldStore

log = logging.getLogger(__name__)

WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]


@dataclass
class _Vendor:
    name: str
    url_map: Map
    handle: Callable[[str, Ctx, dict[str, Any]], Response]


def _map(rules: list[Any]) -> Map:
    # Rule objects bind to one Map; copy them so several apps can live in one process.
    return Map([r.empty() for r in rules], strict_slashes=False, merge_slashes=False)


# ------------------------------------------------------------------------ vendor errors
def _server_error(vendor: str, status: int) -> Response:
    """A vendor-flavoured 500/502/503."""
    if vendor == "hubspot":
        resp = json_response(
            {
                "status": "error",
                "message": {500: "internal error", 502: "Bad Gateway", 503: "Service Unavailable"}[
                    status
                ],
                "correlationId": correlation_id(),
                "category": "INTERNAL_ERROR" if status == 500 else "SERVICE_UNAVAILABLE",
            },
            status,
        )
    elif vendor == "klaviyo":
        code = {500: "error", 502: "bad_gateway", 503: "service_unavailable"}[status]
        resp = json_response(
            {
                "errors": [
                    klaviyo.error_obj(
                        status, code, "A server error occurred.", "A server error occurred."
                    )
                ]
            },
            status,
            mimetype=klaviyo.MEDIA_TYPE,
        )
    else:
        if status == 502:
            resp = Response(
                "<html><body><h1>502 Bad Gateway</h1></body></html>", 502, mimetype="text/html"
            )
        else:
            resp = json_response(
                {
                    "error": "InternalError" if status == 500 else "ServiceUnavailable",
                    "description": "Something went wrong. Please try again later.",
                },
                status,
            )
    if status == 503:
        resp.headers["Retry-After"] = "1"
    return resp


class EmulatorApp:
    """The vendor emulator as a WSGI callable.

    Args:
        world_dir: directory written by ``closedloop world generate``.
        faults: initial fault settings (default: none, real rate limits).
        limits: the vendors' base rate limits (default: :class:`RateLimits`).
        warm: after each (re)load, build the large views in a background thread.
    """

    def __init__(
        self,
        world_dir: Path,
        *,
        faults: FaultConfig | None = None,
        limits: RateLimits | None = None,
        warm: bool = False,
    ) -> None:
        self.store = WorldStore(Path(world_dir), on_new_snapshot=self.warm if warm else None)
        self.limits = limits or RateLimits()
        self.faults = faults or FaultConfig()
        self._fault_lock = threading.Lock()
        self._rng = random.Random(self.faults.seed)
        self._stats_lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._counts: Counter[str] = Counter()
        self._vendors = {
            "hubspot": _Vendor("hubspot", _map(hubspot.RULES), hubspot.handle),
            "klaviyo": _Vendor("klaviyo", _map(klaviyo.RULES), klaviyo.handle),
            "zendesk": _Vendor("zendesk", _map(zendesk.RULES), zendesk.handle),
        }
        self._hs_burst = TokenBucket(1, 1)
        self._hs_search = TokenBucket(1, 1)
        self._hs_daily = DailyCounter(1)
        self._kl: dict[str, tuple[TokenBucket, TokenBucket]] = {}
        self._kl_lock = threading.Lock()
        self._zd_account = TokenBucket(1, 1)
        self._zd_incremental = TokenBucket(1, 1)
        self._configure_limits()

    # ------------------------------------------------------------------ warm-up
    def warm(
        self, snap: Snapshot | None = None, *, background: bool = True
    ) -> threading.Thread | None:
        """Load and sort the big tables ahead of the first request.

        On a 1M-people world the first events page would otherwise pay for reading and sorting
        tens of millions of rows; requests that arrive meanwhile wait for the same build.

        Args:
            snap: snapshot to warm (default: the current one).
            background: build in a daemon thread and return it; else build before returning.
        """
        target = snap or self.store.current()

        def build() -> None:
            try:
                for obj in hubspot.OBJECTS:
                    hubspot.active_view(target, obj)
                target.view("esp/profiles", "id", None)
                target.view("esp/events", "datetime", "id")
                target.view("esp/profiles", "updated", "id")
                target.view("helpdesk/tickets", "updated_at", "id")
                target.view("helpdesk/users", "updated_at", "id")
                target.view("helpdesk/satisfaction_ratings", "ticket_id", "id")
            except Exception:
                log.exception("warm-up failed (requests will load lazily)")

        if not background:
            build()
            return None
        thread = threading.Thread(target=build, name="emulator-warm", daemon=True)
        thread.start()
        return thread

    # ------------------------------------------------------------------ configuration
    def _configure_limits(self) -> None:
        s = self.faults.rate_limit_scale
        lim = self.limits
        self._hs_burst.configure(lim.hubspot_burst.capacity * s, lim.hubspot_burst.window_s)
        self._hs_search.configure(lim.hubspot_search.capacity * s, lim.hubspot_search.window_s)
        self._hs_daily.configure(int(lim.hubspot_daily * s))
        for name, (burst, steady) in lim.klaviyo.items():
            self._kl[name] = (TokenBucket(burst * s, 1.0), TokenBucket(steady * s, 60.0))
        self._zd_account.configure(lim.zendesk_account.capacity * s, lim.zendesk_account.window_s)
        self._zd_incremental.configure(
            lim.zendesk_incremental.capacity * s, lim.zendesk_incremental.window_s
        )

    def set_faults(self, **kw: Any) -> FaultConfig:
        """Update fault settings; buckets are refilled, dice re-seeded when ``seed`` is given.

        Raises:
            ValueError: on unknown keys or out-of-range values.
        """
        with self._fault_lock:
            new = self.faults.updated(**kw)
            self.faults = new
            if "seed" in kw:
                self._rng = random.Random(new.seed)
            self._configure_limits()
            return new

    def stats(self) -> dict[str, Any]:
        """Requests per route, statuses, 429s, 5xx and dropped connections so far."""
        with self._stats_lock:
            return {
                "requests": dict(self._requests),
                "statuses": dict(self._statuses),
                "rate_limited": self._counts["429"],
                "server_errors": self._counts["5xx"],
                "injected_5xx": self._counts["injected_5xx"],
                "dropped": self._counts["dropped"],
                "total": sum(self._requests.values()),
                "world_version": self.store.current().version,
                "reloads": self.store.reloads,
                "faults": self.faults.as_dict(),
            }

    def reset_stats(self) -> None:
        """Zero every counter."""
        with self._stats_lock:
            self._requests.clear()
            self._statuses.clear()
            self._counts.clear()

    # -------------------------------------------------------------------------- WSGI
    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        """Route one request (admin, vendor or 404)."""
        path = request.path
        if path.startswith("/_sandbox"):
            return self._admin(request)
        vendor_name, _, rest = path.lstrip("/").partition("/")
        vendor = self._vendors.get(vendor_name)
        if vendor is None:
            return json_response({"error": "not found", "path": path}, 404)
        return self._vendor_request(vendor, "/" + rest, request)

    def _record(self, route: str, status: int, **extra: int) -> None:
        with self._stats_lock:
            self._requests[route] += 1
            self._statuses[str(status)] += 1
            if status == 429:
                self._counts["429"] += 1
            if status >= 500:
                self._counts["5xx"] += 1
            for k, v in extra.items():
                self._counts[k] += v

    def _vendor_request(self, vendor: _Vendor, subpath: str, request: Request) -> Response:
        adapter = vendor.url_map.bind("emulator", "/", path_info=subpath)
        route = f"{vendor.name}.unknown"
        try:
            endpoint, values = adapter.match(subpath, method=request.method)
        except (NotFound, MethodNotAllowed) as exc:
            self._record(route, exc.code or 404)
            return self._not_found(vendor.name, exc)
        route = f"{vendor.name}.{endpoint}"

        # Faults come first: a flaky network or backend does not care about auth.
        with self._fault_lock:
            f = self.faults
            drop = f.drop_rate > 0 and self._rng.random() < f.drop_rate
            fail = f.status_5xx_rate > 0 and self._rng.random() < f.status_5xx_rate
            status_5xx = self._rng.choice((500, 502, 503)) if fail else 0
            slow = f.slow_ms
        if slow:
            time.sleep(slow / 1000.0)
        if drop:
            self._record(route, 0, dropped=1)
            return _drop_connection(request)
        if fail:
            self._record(route, status_5xx, injected_5xx=1)
            return _server_error(vendor.name, status_5xx)

        try:
            auth_error = self._authenticate(vendor.name, request)
            if auth_error is not None:
                self._record(route, auth_error.status_code)
                return auth_error
            headers: dict[str, str] = {}
            limited = self._rate_limit(vendor.name, endpoint, request, headers)
            if limited is not None:
                self._record(route, 429)
                return limited
            snap = self.store.current()
            base = request.host_url.rstrip("/") + "/" + vendor.name
            ctx = Ctx(request=request, snap=snap, base_url=base, headers=headers)
            response = vendor.handle(endpoint, ctx, values)
            response.headers.update(ctx.headers)
        except ApiError as exc:
            response = exc.response
            response.headers.update(headers if "headers" in locals() else {})
        except HTTPException as exc:
            response = json_response(
                {"error": exc.name, "description": exc.description}, exc.code or 500
            )
        except Exception:
            log.exception("emulator bug on %s %s", request.method, request.full_path)
            response = _server_error(vendor.name, 500)
        self._record(route, response.status_code)
        return response

    def _not_found(self, vendor: str, exc: HTTPException) -> Response:
        if vendor == "hubspot":
            return hubspot.error(exc.code or 404, "Unknown endpoint", "OBJECT_NOT_FOUND")
        if vendor == "klaviyo":
            return klaviyo.error(
                exc.code or 404, "not_found", "Not found.", "The requested path was not found."
            )
        return json_response(
            {"error": "InvalidEndpoint", "description": "Not found"}, exc.code or 404
        )

    # -------------------------------------------------------------------------- auth
    def _authenticate(self, vendor: str, request: Request) -> Response | None:
        auth = request.headers.get("Authorization", "")
        if vendor == "hubspot":
            if not auth:
                return hubspot.error(
                    401,
                    "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
                    "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                    "INVALID_AUTHENTICATION",
                )
            token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            if token == cfg.HUBSPOT_NOSCOPE_TOKEN:
                return hubspot.error(
                    403,
                    "This app hasn't been granted all required scopes to make this call. Read more about "
                    "required scopes here: https://developers.hubspot.com/scopes.",
                    "MISSING_SCOPES",
                    errors=[
                        {
                            "message": "One or more of the following scopes are required.",
                            "context": {"requiredGranularScopes": ["crm.objects.contacts.read"]},
                        }
                    ],
                )
            if token != cfg.HUBSPOT_TOKEN:
                return hubspot.error(
                    401,
                    "The OAuth token used to make this call expired or is invalid.",
                    "INVALID_AUTHENTICATION",
                )
            return None
        if vendor == "klaviyo":
            if not auth:
                return klaviyo.error(
                    401,
                    "not_authenticated",
                    "Authentication credentials were not provided.",
                    "Missing or invalid private key.",
                )
            key = (
                auth[len("Klaviyo-API-Key ") :].strip()
                if auth.startswith("Klaviyo-API-Key ")
                else ""
            )
            if key == cfg.KLAVIYO_NOSCOPE_KEY:
                return klaviyo.error(
                    403,
                    "permission_denied",
                    "You do not have permission to perform this action.",
                    "This API key is missing required scopes.",
                )
            if key != cfg.KLAVIYO_KEY:
                return klaviyo.error(
                    401,
                    "authentication_failed",
                    "Incorrect authentication credentials.",
                    "Incorrect authentication credentials.",
                )
            if not request.headers.get("revision"):
                return klaviyo.error(
                    400,
                    "invalid",
                    "Invalid input.",
                    "The 'revision' header is required (e.g. revision: "
                    + cfg.KLAVIYO_REVISION
                    + ").",
                    source={"header": "revision"},
                )
            return None
        # zendesk
        who = _zendesk_user(auth)
        if who is None:
            return json_response({"error": "Couldn't authenticate you"}, 401)
        if who == cfg.ZENDESK_NOSCOPE_EMAIL:
            return json_response(
                {
                    "error": "Forbidden",
                    "description": "You do not have access to this page. Please contact the account owner "
                    "of this help desk for further help.",
                },
                403,
            )
        return None

    # --------------------------------------------------------------------- rate limit
    def _rate_limit(
        self, vendor: str, endpoint: str, request: Request, headers: dict[str, str]
    ) -> Response | None:
        if vendor == "hubspot":
            return self._hubspot_limit(endpoint, headers)
        if vendor == "klaviyo":
            return self._klaviyo_limit(endpoint, headers)
        return self._zendesk_limit(endpoint, headers)

    def _hubspot_limit(self, endpoint: str, headers: dict[str, str]) -> Response | None:
        if endpoint in hubspot.SEARCH_ENDPOINTS:
            # Search has its own per-second policy and returns no quota headers (as HubSpot).
            d = self._hs_search.take()
            if not d.allowed:
                return self._hubspot_429(d, "SECONDLY", "You have reached your secondly limit.")
            return None
        d = self._hs_burst.take()
        ok_daily, daily_left = self._hs_daily.take() if d.allowed else (True, 0)
        headers.update(
            {
                "X-HubSpot-RateLimit-Daily": str(self._hs_daily.limit),
                "X-HubSpot-RateLimit-Daily-Remaining": str(
                    daily_left if d.allowed else self._hs_daily.limit - self._hs_daily.used
                ),
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(
                    int(self.limits.hubspot_burst.window_s * 1000)
                ),
                "X-HubSpot-RateLimit-Max": str(d.limit),
                "X-HubSpot-RateLimit-Remaining": str(d.remaining),
                "X-HubSpot-RateLimit-Secondly": str(
                    max(1, int(d.limit / self.limits.hubspot_burst.window_s))
                ),
                "X-HubSpot-RateLimit-Secondly-Remaining": str(
                    max(0, min(d.remaining, int(d.limit / self.limits.hubspot_burst.window_s)))
                ),
            }
        )
        if not d.allowed:
            return self._hubspot_429(
                d,
                "TEN_SECONDLY_ROLLING",
                "You have reached your ten_secondly_rolling limit.",
                headers,
            )
        if not ok_daily:
            return self._hubspot_429(
                Decision(False, 0, 0, 86400, 86400),
                "DAILY",
                "You have reached your daily limit.",
                headers,
            )
        return None

    def _hubspot_429(
        self, d: Decision, policy: str, message: str, headers: dict[str, str] | None = None
    ) -> Response:
        resp = json_response(
            {
                "status": "error",
                "message": message,
                "errorType": "RATE_LIMIT",
                "correlationId": correlation_id(),
                "policyName": policy,
                "groupName": "publicapi:private-app:sandbox",
            },
            429,
        )
        if headers:
            resp.headers.update(headers)
        resp.headers["Retry-After"] = str(d.retry_after_s)
        return resp

    def _klaviyo_limit(self, endpoint: str, headers: dict[str, str]) -> Response | None:
        key = klaviyo.LIMIT_KEYS.get(endpoint, "profiles")
        burst, steady = self._kl[key]
        with self._kl_lock:
            b, s = burst.peek(), steady.peek()
            allowed = b.remaining >= 1 and s.remaining >= 1
            if allowed:
                b, s = burst.take(), steady.take()
        if not allowed:
            retry = max(
                1,
                b.retry_after_s if b.remaining < 1 else 0,
                s.retry_after_s if s.remaining < 1 else 0,
            )
            if b.remaining < 1:
                retry = max(retry, int(1 / burst.rate + 0.999))
            if s.remaining < 1:
                retry = max(retry, int(1 / steady.rate + 0.999))
            resp = klaviyo.error(
                429,
                "throttled",
                "Request was throttled.",
                f"Request was throttled. Expected available in {retry} second{'s' if retry != 1 else ''}.",
            )
            resp.headers["Retry-After"] = str(retry)
            return resp
        tight = b if b.remaining <= s.remaining else s
        headers.update(
            {
                "RateLimit-Limit": f"{b.limit}, {b.limit};w=1, {s.limit};w=60",
                "RateLimit-Remaining": str(tight.remaining),
                "RateLimit-Reset": str(max(1, tight.reset_s)),
            }
        )
        return None

    def _zendesk_limit(self, endpoint: str, headers: dict[str, str]) -> Response | None:
        a = self._zd_account.take()
        headers.update(
            {
                "X-Rate-Limit": str(a.limit),
                "X-Rate-Limit-Remaining": str(a.remaining),
                "ratelimit-limit": str(a.limit),
                "ratelimit-remaining": str(a.remaining),
                "ratelimit-reset": str(max(1, a.reset_s)),
            }
        )
        if not a.allowed:
            return self._zendesk_429(
                a.retry_after_s, "Number of allowed API requests per minute exceeded", headers
            )
        if endpoint in zendesk.INCREMENTAL_ENDPOINTS:
            d = self._zd_incremental.take()
            headers["Zendesk-RateLimit-incremental-exports"] = (
                f"total={d.limit}; remaining={d.remaining}; resets={max(1, d.reset_s)}"
            )
            if not d.allowed:
                return self._zendesk_429(
                    d.retry_after_s,
                    "Number of allowed incremental export API requests per minute exceeded",
                    headers,
                )
        return None

    def _zendesk_429(self, retry: int, description: str, headers: dict[str, str]) -> Response:
        resp = json_response({"error": "APIRateLimitExceeded", "description": description}, 429)
        resp.headers.update(headers)
        resp.headers["Retry-After"] = str(max(1, retry))
        return resp

    # -------------------------------------------------------------------------- admin
    def _admin(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path == "/_sandbox/health" and request.method == "GET":
            snap = self.store.current()
            return json_response(
                {
                    "status": "ok",
                    "world_version": snap.version,
                    "as_of": snap.manifest.get("as_of"),
                    "seed": snap.manifest.get("seed"),
                    "people": snap.manifest.get("people"),
                }
            )
        if path == "/_sandbox/stats":
            if request.method == "DELETE":
                self.reset_stats()
            return json_response(self.stats())
        if path == "/_sandbox/faults":
            if request.method == "POST":
                body = request.get_json(force=True, silent=True)
                if not isinstance(body, dict):
                    return json_response({"error": "expected a JSON object"}, 400)
                try:
                    return json_response(self.set_faults(**body).as_dict())
                except (TypeError, ValueError) as exc:
                    return json_response({"error": str(exc)}, 400)
            return json_response(self.faults.as_dict())
        return json_response({"error": "not found", "path": request.path}, 404)


def _zendesk_user(auth: str) -> str | None:
    """The authenticated Zendesk user's email, or ``None`` if the credentials are wrong."""
    if auth.lower().startswith("bearer "):
        return cfg.ZENDESK_EMAIL if auth[7:].strip() == cfg.ZENDESK_TOKEN else None
    if not auth.lower().startswith("basic "):
        return None
    try:
        user, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    if not user.endswith("/token") or secret != cfg.ZENDESK_TOKEN:
        return None
    email = user[: -len("/token")]
    return email if email in (cfg.ZENDESK_EMAIL, cfg.ZENDESK_NOSCOPE_EMAIL) else None


def _drop_connection(request: Request) -> Response:
    """Close the client socket without answering (a connection reset for the client)."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            # SO_LINGER 0 → RST instead of FIN: the client sees a reset, not a clean EOF.
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    return Response(b"", 500)


def make_app(
    world_dir: Path,
    *,
    faults: FaultConfig | None = None,
    limits: RateLimits | None = None,
    warm: bool = False,
) -> EmulatorApp:
    """Build the emulator WSGI app for a world directory.

    Args:
        world_dir: directory written by the world generator (``world.json`` + parquet files).
        faults: initial fault settings; ``None`` means no faults and the vendors' real limits.
        limits: base vendor rate limits; ``None`` uses :class:`RateLimits` defaults.
        warm: load and sort the large tables in the background after each (re)load.

    Returns:
        A WSGI callable (an :class:`EmulatorApp`) that also exposes ``set_faults`` and ``stats``.
    """
    return EmulatorApp(world_dir, faults=faults, limits=limits, warm=warm)
