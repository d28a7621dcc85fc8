"""Request headers carrying the sandbox credentials of each emulated vendor."""

from __future__ import annotations

import base64

HUBSPOT = {"Authorization": "Bearer pat-sandbox-crm"}
KLAVIYO = {"Authorization": "Klaviyo-API-Key pk_sandbox_esp", "revision": "2026-07-15"}
ZENDESK = {
    "Authorization": "Basic "
    + base64.b64encode(b"sandbox@closedloop.test/token:sandbox-helpdesk-token").decode()
}
