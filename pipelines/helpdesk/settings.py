"""Zendesk helpdesk source defaults: endpoints, page sizes, initial cursor, column types."""

from __future__ import annotations

# No default base URL: every Zendesk account has its own, https://<subdomain>.zendesk.com.

# Incremental exports return up to 1,000 items per page; other list endpoints 100.
EXPORT_PAGE_SIZE = 1000
PAGE_SIZE = 100

# The first run exports everything changed since this time.
INITIAL_UPDATED_AT = "1970-01-01T00:00:00Z"

MAX_ATTEMPTS = 12
BACKOFF_FACTOR = 0.5
# Incremental exports are limited to 10 requests a minute: a wait can be long.
MAX_RETRY_DELAY = 90.0
REQUEST_TIMEOUT = 60.0

# Column types, in the order the columns should appear (the rest follow as they come).
USER_COLUMNS = {
    "id": "bigint",
    "name": "text",
    "email": "text",
    "phone": "text",
    "role": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}
TICKET_COLUMNS = {
    "id": "bigint",
    "subject": "text",
    "status": "text",
    "priority": "text",
    "channel": "text",
    "requester_id": "bigint",
    "assignee_id": "bigint",
    "tags": "json",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "first_reply_at": "timestamp",
    "solved_at": "timestamp",
    "reply_time_in_minutes": "bigint",
    "metric_set": "json",
}
SATISFACTION_COLUMNS = {
    "id": "bigint",
    "ticket_id": "bigint",
    "requester_id": "bigint",
    "score": "text",
    "comment": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}
NPS_COLUMNS = {
    "id": "bigint",
    "user_id": "bigint",
    "recipient_id": "bigint",
    "rating": "bigint",
    "comment": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}
