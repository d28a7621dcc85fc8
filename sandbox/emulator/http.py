"""Shared request context and response helpers for the vendor handlers."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from sandbox.emulator.store import Snapshot


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return float(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def json_response(
    body: Any,
    status: int = 200,
    *,
    mimetype: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    """Serialise ``body`` compactly into a response."""
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_default)
    resp = Response(data, status=status, mimetype=mimetype)
    if headers:
        resp.headers.update(headers)
    return resp


class ApiError(Exception):
    """Raised by handlers to answer with a vendor-shaped error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def correlation_id() -> str:
    """A fresh request id, as vendors put in error bodies."""
    return str(uuid.uuid4())


@dataclass
class Ctx:
    """What a handler needs: the request, the world snapshot and URL building."""

    request: Request
    snap: Snapshot
    base_url: str  # absolute vendor base, e.g. http://127.0.0.1:8765/hubspot
    headers: dict[str, str] = field(default_factory=dict)  # added to the response

    @property
    def args(self) -> Any:
        """The query string as a werkzeug ``MultiDict``."""
        return self.request.args

    def json_body(self) -> Any:
        """The parsed JSON body, or ``None`` if it is missing or invalid."""
        return self.request.get_json(force=True, silent=True)

    def url(self, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> str:
        """Absolute URL under the vendor base, with a query string."""
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params)
        return url

    def self_url(self) -> str:
        """The absolute URL of this request."""
        return self.request.url

    def url_with(self, replace: dict[str, Any]) -> str:
        """This request's URL with some query parameters replaced (a ``None`` value drops one)."""
        items = [(k, v) for k, v in self.request.args.items(multi=True) if k not in replace]
        items += [(k, v) for k, v in replace.items() if v is not None]
        query = "?" + urlencode(items) if items else ""
        return self.request.host_url.rstrip("/") + self.request.path + query
