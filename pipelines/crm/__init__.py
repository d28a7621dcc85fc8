"""HubSpot CRM source: contacts, companies, deals, owners, campaigns and their associations.

See ``README.md`` next to this file for the incremental strategy and configuration.
"""

# No `from __future__ import annotations` here: dlt finds a resource's incremental cursor
# by evaluating its parameter annotations at runtime, and string annotations hide it.

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth

from .._common.columns import column_hints
from .._common.http import RetryPolicy, make_client
from .._common.phones import add_phone_columns, country_field, phone_column_hints
from . import settings
from .helpers import (
    HighWaterMark,
    Record,
    flatten,
    iter_list,
    iter_search,
    read_associations,
    to_epoch_ms,
)

__all__ = ["hubspot_crm"]

ClientFactory = Callable[[], RESTClient]


@dlt.source(name="crm", max_table_nesting=0)
def hubspot_crm(
    access_token: str = dlt.secrets.value,
    base_url: str = settings.DEFAULT_BASE_URL,
    list_page_size: int = settings.LIST_PAGE_SIZE,
    search_page_size: int = settings.SEARCH_PAGE_SIZE,
    search_result_cap: int = settings.SEARCH_RESULT_CAP,
    association_batch_size: int = settings.ASSOCIATION_BATCH_SIZE,
    max_attempts: int = settings.MAX_ATTEMPTS,
    backoff_factor: float = settings.BACKOFF_FACTOR,
    max_retry_delay: float = settings.MAX_RETRY_DELAY,
    request_timeout: float = settings.REQUEST_TIMEOUT,
) -> Sequence[DltResource]:
    """Load HubSpot CRM objects into ``raw_crm``.

    Contacts, companies and deals are read incrementally (list endpoint on the first run,
    search on the modification date afterwards) and archived objects are re-read every run,
    so an archive in HubSpot sets ``archived = true`` on the existing row. Associations are
    re-read for every object whose modification date moved.

    Args:
        access_token: Private app token (``SOURCES__CRM__ACCESS_TOKEN``).
        base_url: API root; ``https://api.hubapi.com`` for the real HubSpot.
        list_page_size: Results per list page (HubSpot max 100).
        search_page_size: Results per search page (HubSpot max 200).
        search_result_cap: Results one search query may page through (HubSpot: 10,000).
        association_batch_size: Ids per v4 association batch read.
        max_attempts: HTTP attempts per request (429, 5xx and connection errors retry).
        backoff_factor: Exponential backoff multiplier, seconds.
        max_retry_delay: Longest single wait, seconds (``Retry-After`` included).
        request_timeout: Timeout of one HTTP attempt, seconds.

    Returns:
        The resources ``contacts``, ``companies``, ``deals``, ``owners``, ``campaigns`` and
        ``associations``.
    """
    retry = RetryPolicy(max_attempts, backoff_factor, max_retry_delay, request_timeout)

    def client() -> RESTClient:
        # one client per resource: the retrying session is per thread, the paginator per call
        return make_client(base_url, retry=retry, auth=BearerTokenAuth(access_token))

    resources = [
        _object_resource(
            settings.OBJECTS[name], client, list_page_size, search_page_size, search_result_cap
        )
        for name in ("contacts", "companies", "deals")
    ]
    resources.append(_owners(client, list_page_size))
    resources.append(_campaigns(client, list_page_size))
    resources.append(
        _associations(
            client, list_page_size, search_page_size, search_result_cap, association_batch_size
        )
    )
    return resources


def _changed_objects(
    client: RESTClient,
    spec: settings.CrmObject,
    mark: HighWaterMark,
    properties: Sequence[str],
    list_page_size: int,
    search_page_size: int,
    search_result_cap: int,
) -> Iterator[list[Record]]:
    """Pages of live objects changed since ``mark`` (all of them on the first run)."""
    if mark.value is None:
        # First run: the list endpoint has no 10,000 cap and a separate, higher rate limit.
        pages = iter_list(
            client,
            f"/crm/v3/objects/{spec.name}",
            page_size=list_page_size,
            params={"properties": ",".join(properties), "archived": "false"},
        )
    else:
        pages = iter_search(
            client,
            spec.name,
            modified_property=spec.modified_property,
            since_ms=mark.value,
            properties=properties,
            page_size=search_page_size,
            result_cap=search_result_cap,
        )
    for page in pages:
        fresh = []
        for result in page:
            value = to_epoch_ms((result.get("properties") or {}).get(spec.modified_property))
            if mark.is_new(value, result["id"]):
                fresh.append(result)
            mark.observe(value, result["id"])
        if fresh:
            yield fresh


def _newly_archived(
    client: RESTClient,
    spec: settings.CrmObject,
    mark: HighWaterMark,
    page_size: int,
    properties: Sequence[str] = (),
) -> Iterator[list[Record]]:
    """Pages of objects archived since ``mark`` (all archived objects on the first run)."""
    params: dict[str, Any] = {"archived": "true"}
    if properties:
        params["properties"] = ",".join(properties)
    for page in iter_list(
        client, f"/crm/v3/objects/{spec.name}", page_size=page_size, params=params
    ):
        fresh = []
        for result in page:
            when = to_epoch_ms(result.get("archivedAt")) or to_epoch_ms(result.get("updatedAt"))
            if mark.is_new(when, result["id"]):
                fresh.append(result)
            mark.observe(when, result["id"])
        if fresh:
            yield fresh


def _object_resource(
    spec: settings.CrmObject,
    client_factory: ClientFactory,
    list_page_size: int,
    search_page_size: int,
    search_result_cap: int,
) -> DltResource:
    columns = {**column_hints(spec.columns()), **phone_column_hints(spec.phone_columns)}

    @dlt.resource(
        name=spec.name,
        primary_key="id",
        write_disposition="merge",
        columns=columns,
    )
    def crm_objects() -> Iterator[list[Record]]:
        client = client_factory()
        state = dlt.current.resource_state()
        modified = HighWaterMark(state, "modified")
        archived = HighWaterMark(state, "archived")
        for page in _changed_objects(
            client,
            spec,
            modified,
            spec.properties,
            list_page_size,
            search_page_size,
            search_result_cap,
        ):
            yield [flatten(r) for r in page]
        # Search never returns archived objects, so they are listed every run; only those
        # archived since the last run are loaded.
        for page in _newly_archived(client, spec, archived, list_page_size, spec.properties):
            yield [flatten(r) | {"archived": True} for r in page]
        modified.commit()
        archived.commit()

    resource = crm_objects()
    if spec.phone_columns:
        resource.add_map(
            add_phone_columns(
                spec.phone_columns,
                country_field(spec.country_property) if spec.country_property else None,
            )
        )
    return resource


def _owners(client_factory: ClientFactory, page_size: int) -> DltResource:
    @dlt.resource(
        name="owners",
        primary_key="id",
        write_disposition="merge",
        columns=column_hints(settings.OWNER_COLUMN_TYPES),
    )
    def owners() -> Iterator[list[Record]]:
        # A few dozen rows, read whole every run: deactivating an owner in HubSpot need not
        # move its updatedAt, and the archived flag must still reach the table.
        client = client_factory()
        for archived in ("false", "true"):
            for page in iter_list(
                client, "/crm/v3/owners", page_size=page_size, params={"archived": archived}
            ):
                yield [_owner_row(o) for o in page]

    return owners()


def _owner_row(owner: Record) -> Record:
    teams = owner.get("teams") or []
    primary = next((t for t in teams if t.get("primary")), teams[0] if teams else {})
    return {
        "id": owner["id"],
        "email": owner.get("email"),
        "first_name": owner.get("firstName"),
        "last_name": owner.get("lastName"),
        "user_id": owner.get("userId"),
        # The owner's team carries the sales region (CZ, SK, PL).
        "region": owner.get("region") or primary.get("name"),
        "team_id": primary.get("id"),
        "created_at": owner.get("createdAt"),
        "updated_at": owner.get("updatedAt"),
        "archived": bool(owner.get("archived", False)),
    }


def _campaigns(client_factory: ClientFactory, page_size: int) -> DltResource:
    @dlt.resource(
        name="campaigns",
        primary_key="id",
        write_disposition="merge",
        columns=column_hints(settings.CAMPAIGN_COLUMN_TYPES),
    )
    def campaigns(
        updated_at: dlt.sources.incremental[str],
    ) -> Iterator[list[Record]]:
        client = client_factory()
        for page in iter_list(
            client,
            "/marketing/v3/campaigns",
            page_size=page_size,
            params={"properties": ",".join(settings.CAMPAIGN_PROPERTIES)},
        ):
            rows = []
            for campaign in page:
                row = flatten(campaign)
                # campaigns are never archived through this API: no flag to carry
                row.pop("archived", None)
                row.pop("archived_at", None)
                rows.append(row)
            yield rows

    return campaigns(
        dlt.sources.incremental("updated_at", initial_value=settings.INITIAL_TIMESTAMP)
    )


def _associations(
    client_factory: ClientFactory,
    list_page_size: int,
    search_page_size: int,
    search_result_cap: int,
    batch_size: int,
) -> DltResource:
    @dlt.resource(
        name="associations",
        primary_key=("from_type", "from_id", "to_type", "to_id"),
        merge_key=("from_type", "from_id", "to_type"),
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        columns={
            **column_hints(settings.ASSOCIATION_COLUMN_TYPES),
            # tombstones: rows flagged here delete, and are never stored
            "_deleted": {"data_type": "bool", "hard_delete": True},
        },
    )
    def associations() -> Iterator[list[Record]]:
        """Current associations of every contact and deal changed or archived since last run.

        A resource of its own, with its own change cursors, rather than a transformer on the
        contacts and deals resources: every raw table is then exactly one resource, which is
        what the orchestration layer keys its assets on.
        """
        client = client_factory()
        state = dlt.current.resource_state()
        by_source: dict[str, list[str]] = {}
        for from_type, to_type in settings.ASSOCIATION_PAIRS:
            by_source.setdefault(from_type, []).append(to_type)
        for from_type, to_types in by_source.items():
            spec = settings.OBJECTS[from_type]
            live = HighWaterMark(state, from_type)
            archived = HighWaterMark(state, f"{from_type}_archived")
            pages = itertools.chain(
                _changed_objects(
                    client,
                    spec,
                    live,
                    (spec.modified_property,),
                    list_page_size,
                    search_page_size,
                    search_result_cap,
                ),
                _newly_archived(client, spec, archived, list_page_size),
            )
            # Pages of changed ids are pooled into full batches: one batch read serves up to
            # 1,000 ids, ten list pages' worth, and requests are what the rate limit counts.
            ids = (r["id"] for page in pages for r in page)
            while batch := list(itertools.islice(ids, batch_size)):
                for to_type in to_types:
                    yield list(
                        read_associations(
                            client,
                            from_type,
                            to_type,
                            batch,
                            batch_size=batch_size,
                            tombstones=live.is_set,
                        )
                    )
            live.commit()
            archived.commit()

    return associations()
