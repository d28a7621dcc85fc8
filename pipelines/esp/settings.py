"""Klaviyo ESP source defaults: endpoints, API revision, page sizes, cursors, column types."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://a.klaviyo.com"
# Klaviyo versions its API by date in a header; responses are shaped by this revision.
DEFAULT_REVISION = "2026-07-15"

# Per-endpoint page size caps (Klaviyo's OpenAPI spec): profiles and list profiles 100,
# events 1,000 (default 200), lists 10, campaigns 100, flows 50; metrics take no page size.
PROFILES_PAGE_SIZE = 100
EVENTS_PAGE_SIZE = 1000
LIST_MEMBERS_PAGE_SIZE = 100
CAMPAIGNS_PAGE_SIZE = 100
FLOWS_PAGE_SIZE = 50
LISTS_PAGE_SIZE = 10

# Campaigns must be listed per channel; the business only sends email.
CAMPAIGN_CHANNELS: tuple[str, ...] = ("email",)

# The first run reads everything after this time.
INITIAL_TIMESTAMP = "1970-01-01T00:00:00+00:00"
# Events are recorded with their own time, and some arrive days later than that time:
# every run re-reads this many days before the last event time it saw (merge dedups).
EVENTS_LAG_DAYS = 3.0
# Klaviyo filters on whole seconds and only offers "greater-than" for profile times, so
# the query starts one second early; dlt drops what was already loaded.
FILTER_OVERLAP_SECONDS = 1

MAX_ATTEMPTS = 12
BACKOFF_FACTOR = 0.5
MAX_RETRY_DELAY = 60.0
REQUEST_TIMEOUT = 60.0

# Column types, in the order the columns should appear (the rest follow as they come).
PROFILE_COLUMNS = {
    "id": "text",
    "email": "text",
    "phone_number": "text",
    "external_id": "text",
    "first_name": "text",
    "last_name": "text",
    "organization": "text",
    "title": "text",
    "address1": "text",
    "city": "text",
    "zip": "text",
    "country": "text",
    "created": "timestamp",
    "updated": "timestamp",
    "last_event_date": "timestamp",
    "email_consent": "text",
    "email_consent_timestamp": "timestamp",
    "email_can_receive_marketing": "bool",
    "sms_consent": "text",
    "sms_consent_timestamp": "timestamp",
    "sms_can_receive_marketing": "bool",
    "properties": "json",
}
EVENT_COLUMNS = {
    "id": "text",
    "profile_id": "text",
    "metric_id": "text",
    "datetime": "timestamp",
    "timestamp": "bigint",
    "uuid": "text",
    "campaign_id": "text",
    "campaign_name": "text",
    "flow_id": "text",
    "subject": "text",
    "url": "text",
    "bounce_type": "text",
    "event_properties": "json",
}
METRIC_COLUMNS = {
    "id": "text",
    "name": "text",
    "created": "timestamp",
    "updated": "timestamp",
    "integration_name": "text",
}
LIST_COLUMNS = {"id": "text", "name": "text", "created": "timestamp", "updated": "timestamp"}
LIST_MEMBER_COLUMNS = {
    "list_id": "text!",
    "profile_id": "text!",
    "joined_at": "timestamp",
}
CAMPAIGN_COLUMNS = {
    "id": "text",
    "name": "text",
    "status": "text",
    "channel": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "scheduled_at": "timestamp",
    "send_time": "timestamp",
}
FLOW_COLUMNS = {
    "id": "text",
    "name": "text",
    "status": "text",
    "trigger_type": "text",
    "created": "timestamp",
    "updated": "timestamp",
}

# Event properties lifted into their own columns (Klaviyo's names -> raw column).
EVENT_PROPERTY_COLUMNS: dict[str, str] = {
    "$message": "campaign_id",
    "$flow": "flow_id",
    "Campaign Name": "campaign_name",
    "Subject": "subject",
    "URL": "url",
    "Bounce Type": "bounce_type",
}
