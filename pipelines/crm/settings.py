"""HubSpot CRM source defaults: endpoints, page sizes, properties and column types."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_BASE_URL = "https://api.hubapi.com"

# HubSpot caps list pages at 100 and search pages at 200 results.
LIST_PAGE_SIZE = 100
SEARCH_PAGE_SIZE = 200
# A search query never returns more than 10,000 results; beyond that the query is re-issued
# from the last modification time seen.
SEARCH_RESULT_CAP = 10_000
# v4 association batch read takes up to 1,000 ids per request.
ASSOCIATION_BATCH_SIZE = 1000

# Where the campaigns' updatedAt cursor starts on the first run.
INITIAL_TIMESTAMP = "1970-01-01T00:00:00.000Z"

# Retries: generous, so a vendor failing one request in five still completes a run.
MAX_ATTEMPTS = 12
BACKOFF_FACTOR = 0.5
MAX_RETRY_DELAY = 60.0
REQUEST_TIMEOUT = 60.0

LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
)


@dataclass(frozen=True)
class CrmObject:
    """One HubSpot CRM object type as this source reads it.

    Attributes:
        name: Object type in the API path and the raw table name.
        modified_property: Property searched and sorted on for increments.
        properties: Properties requested (HubSpot returns only a default few otherwise).
        phone_columns: Properties holding phone numbers.
        country_property: Property holding the record's country, for phone normalisation.
        column_types: Column types (see ``_common.columns``) where not ``text``; HubSpot
            serves every property as a string.
    """

    name: str
    modified_property: str
    properties: tuple[str, ...]
    phone_columns: tuple[str, ...] = ()
    country_property: str | None = None
    column_types: dict[str, str] = field(default_factory=dict)

    def columns(self) -> dict[str, str]:
        """Types of every column the source writes: requested properties default to text."""
        return {"id": "bigint", **dict.fromkeys(self.properties, "text"), **self.column_types}


_COMMON_TYPES = {
    "id": "bigint",
    "hubspot_owner_id": "bigint",
    "createdate": "timestamp",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "archived": "bool",
    "archived_at": "timestamp",
}

CONTACTS = CrmObject(
    name="contacts",
    modified_property="lastmodifieddate",
    properties=(
        "email",
        "firstname",
        "lastname",
        "phone",
        "mobilephone",
        "jobtitle",
        "company",
        "associatedcompanyid",
        "lifecyclestage",
        "hs_lead_status",
        "hubspot_owner_id",
        "address",
        "city",
        "zip",
        "country",
        "date_of_birth",
        "hs_analytics_source",
        *(f"hs_lifecyclestage_{stage}_date" for stage in LIFECYCLE_STAGES),
        # The owner's first logged call, email or meeting: the response to a new lead.
        "hs_sa_first_engagement_date",
        "createdate",
        "lastmodifieddate",
    ),
    phone_columns=("phone", "mobilephone"),
    country_property="country",
    column_types={
        **_COMMON_TYPES,
        "associatedcompanyid": "bigint",
        "lastmodifieddate": "timestamp",
        "date_of_birth": "text",
        **{f"hs_lifecyclestage_{stage}_date": "timestamp" for stage in LIFECYCLE_STAGES},
        "hs_sa_first_engagement_date": "timestamp",
    },
)

COMPANIES = CrmObject(
    name="companies",
    modified_property="hs_lastmodifieddate",
    properties=(
        "name",
        "domain",
        "industry",
        "numberofemployees",
        "annualrevenue",
        "city",
        "country",
        "hubspot_owner_id",
        "createdate",
        "hs_lastmodifieddate",
    ),
    column_types={
        **_COMMON_TYPES,
        "numberofemployees": "bigint",
        "annualrevenue": "money",
        "hs_lastmodifieddate": "timestamp",
    },
)

DEALS = CrmObject(
    name="deals",
    modified_property="hs_lastmodifieddate",
    properties=(
        "dealname",
        "amount",
        "deal_currency_code",
        "dealstage",
        "pipeline",
        "closedate",
        "closed_lost_reason",
        "hubspot_owner_id",
        "hs_campaign",
        "createdate",
        "hs_lastmodifieddate",
    ),
    column_types={
        **_COMMON_TYPES,
        "amount": "money",
        "closedate": "timestamp",
        "hs_lastmodifieddate": "timestamp",
        "hs_campaign": "text",
    },
)

OBJECTS: dict[str, CrmObject] = {o.name: o for o in (CONTACTS, COMPANIES, DEALS)}

# (from object, to object) pairs read with the v4 association batch API. Campaign
# membership is modelled as a contact→campaign association.
ASSOCIATION_PAIRS: tuple[tuple[str, str], ...] = (
    ("contacts", "companies"),
    ("contacts", "campaigns"),
    ("deals", "contacts"),
    ("deals", "companies"),
)

CAMPAIGN_PROPERTIES = (
    "hs_name",
    "hs_start_date",
    "hs_end_date",
    "hs_budget_items_sum_amount",
    "hs_expected_revenue",
    "hs_currency_code",
    "hs_campaign_status",
)
CAMPAIGN_COLUMN_TYPES = {
    "id": "text",
    **dict.fromkeys(CAMPAIGN_PROPERTIES, "text"),
    "hs_start_date": "date",
    "hs_end_date": "date",
    "hs_budget_items_sum_amount": "money",
    "hs_expected_revenue": "money",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}
OWNER_COLUMN_TYPES = {
    "id": "bigint",
    "email": "text",
    "first_name": "text",
    "last_name": "text",
    "user_id": "bigint",
    "region": "text",
    "team_id": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "archived": "bool",
}
ASSOCIATION_COLUMN_TYPES = {
    "from_type": "text!",
    "from_id": "text!",
    "to_type": "text!",
    "to_id": "text!",
    "association_type_id": "bigint",
    "association_category": "text",
}
