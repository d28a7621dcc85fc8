"""HubSpot API access: list and search paging, association reads, record flattening."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from typing import Any

from dlt.common import logger
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

from .._common.http import checked
from .._common.timestamps import as_utc

Record = dict[str, Any]


def paging_cursor() -> JSONResponseCursorPaginator:
    """HubSpot's cursor paging: ``paging.next.after`` goes back as the ``after`` parameter."""
    return JSONResponseCursorPaginator(cursor_path="paging.next.after", cursor_param="after")


def to_epoch_ms(value: Any) -> int | None:
    """Read a HubSpot timestamp (ISO-8601 string, or epoch milliseconds) as epoch ms."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return int(as_utc(value).timestamp() * 1000)


def flatten(result: Record) -> Record:
    """Turn a CRM object into a flat row: ``properties`` become columns.

    HubSpot's envelope fields land as ``created_at``, ``updated_at``, ``archived`` and
    ``archived_at``; empty strings (HubSpot's way of saying "cleared") become nulls so that a
    typed column never receives ``""``. ``hs_object_id`` duplicates ``id`` and is dropped.

    Args:
        result: One element of a v3 ``results`` array.

    Returns:
        The flat row.
    """
    row: Record = {"id": result["id"]}
    for key, value in (result.get("properties") or {}).items():
        if key == "hs_object_id":
            continue
        row[key] = None if value == "" else value
    row["created_at"] = result.get("createdAt")
    row["updated_at"] = result.get("updatedAt")
    row["archived"] = bool(result.get("archived", False))
    row["archived_at"] = result.get("archivedAt")
    return row


class HighWaterMark:
    """An inclusive cursor kept in dlt resource state, with the ids seen at its value.

    Searching with ``GTE last value`` is the only safe way not to miss records sharing the
    last timestamp, and remembering which ids carried that timestamp keeps them from being
    re-loaded on every run.

    Args:
        state: The resource state (``dlt.current.resource_state()``).
        key: Key under which this cursor is stored.
    """

    def __init__(self, state: MutableMapping[str, Any], key: str) -> None:
        self._state = state
        self._key = key
        saved = state.get(key) or {}
        self.value: int | None = saved.get("value")
        self._ids: set[str] = set(saved.get("ids", ()))
        self._new_value = self.value
        self._new_ids: set[str] = set(self._ids)

    @property
    def is_set(self) -> bool:
        """Whether a previous run stored a value."""
        return self.value is not None

    def is_new(self, value: int | None, record_id: str) -> bool:
        """Whether a record with this cursor value and id was not loaded before."""
        if self.value is None or value is None:
            return True
        return value > self.value or (value == self.value and record_id not in self._ids)

    def observe(self, value: int | None, record_id: str) -> None:
        """Track the highest value seen in this run and the ids carrying it."""
        if value is None:
            return
        if self._new_value is None or value > self._new_value:
            self._new_value = value
            self._new_ids = {record_id}
        elif value == self._new_value:
            self._new_ids.add(record_id)

    def commit(self) -> None:
        """Write the advanced cursor back to state (committed with the load package)."""
        if self._new_value is not None:
            self._state[self._key] = {"value": self._new_value, "ids": sorted(self._new_ids)}


def iter_list(
    client: RESTClient,
    path: str,
    *,
    page_size: int,
    params: dict[str, Any] | None = None,
) -> Iterator[list[Record]]:
    """Page through a v3 list endpoint (objects, owners, campaigns).

    Args:
        client: Client at the HubSpot base URL.
        path: Endpoint path, e.g. ``/crm/v3/objects/contacts``.
        page_size: ``limit`` per page (HubSpot's cap is 100).
        params: Extra query parameters (``properties``, ``archived``).

    Yields:
        One list of results per page.
    """
    query = {"limit": page_size, **(params or {})}
    for page in client.paginate(
        path, params=query, paginator=paging_cursor(), data_selector="results"
    ):
        yield list(page)


def iter_search(
    client: RESTClient,
    object_type: str,
    *,
    modified_property: str,
    since_ms: int,
    properties: Sequence[str],
    page_size: int,
    result_cap: int,
) -> Iterator[list[Record]]:
    """Page through every object modified at or after ``since_ms``, oldest first.

    One search query returns at most ``result_cap`` results, so when a query is about to hit
    the cap it is re-issued from the last modification time seen. Records at that exact time
    come back again and are skipped by id. When a whole query window shares one timestamp
    (a bulk import), searching cannot move on, and the object's list endpoint is scanned
    instead, keeping the records modified since ``since_ms``.

    Args:
        client: Client at the HubSpot base URL.
        object_type: ``contacts``, ``companies`` or ``deals``.
        modified_property: Property filtered and sorted on.
        since_ms: Inclusive lower bound, epoch milliseconds.
        properties: Properties to return.
        page_size: Results per page (HubSpot's cap is 200).
        result_cap: Results one query can page through (HubSpot: 10,000).

    Yields:
        One list of results per page.
    """
    path = f"/crm/v3/objects/{object_type}/search"
    lower = since_ms
    # ids already yielded at the current lower bound, skipped when a re-query returns them
    seen_at_lower: set[str] = set()
    while True:
        after: str | None = None
        served = 0
        last_value: int | None = None
        ids_at_last: set[str] = set()
        while True:
            body: dict[str, Any] = {
                "filterGroups": [
                    {
                        "filters": [
                            {
                                "propertyName": modified_property,
                                "operator": "GTE",
                                "value": str(lower),
                            }
                        ]
                    }
                ],
                "sorts": [{"propertyName": modified_property, "direction": "ASCENDING"}],
                "properties": list(properties),
                "limit": page_size,
            }
            if after is not None:
                body["after"] = after
            payload = checked(client.post(path, json=body))
            results: list[Record] = payload.get("results") or []
            served += len(results)
            fresh = []
            for result in results:
                value = to_epoch_ms((result.get("properties") or {}).get(modified_property))
                if value == lower and result["id"] in seen_at_lower:
                    continue
                fresh.append(result)
                if value is not None:
                    if last_value is None or value > last_value:
                        last_value, ids_at_last = value, {result["id"]}
                    elif value == last_value:
                        ids_at_last.add(result["id"])
            if fresh:
                yield fresh
            after = ((payload.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            if served + page_size > result_cap:
                break
        if last_value is None or last_value == lower:
            logger.warning(
                "HubSpot search on %s cannot advance past %s (over %s records share it);"
                " scanning the list endpoint instead",
                object_type,
                lower,
                result_cap,
            )
            yield from _scan_since(client, object_type, modified_property, lower, properties)
            return
        lower, seen_at_lower = last_value, ids_at_last


def _scan_since(
    client: RESTClient,
    object_type: str,
    modified_property: str,
    since_ms: int,
    properties: Sequence[str],
) -> Iterator[list[Record]]:
    for page in iter_list(
        client,
        f"/crm/v3/objects/{object_type}",
        page_size=100,
        params={"properties": ",".join(properties), "archived": "false"},
    ):
        kept = [
            r
            for r in page
            if (to_epoch_ms((r.get("properties") or {}).get(modified_property)) or 0) >= since_ms
        ]
        if kept:
            yield kept


def read_associations(
    client: RESTClient,
    from_type: str,
    to_type: str,
    ids: Iterable[str],
    *,
    batch_size: int,
    tombstones: bool = True,
) -> Iterator[Record]:
    """Read the current associations of ``ids`` with the v4 batch API.

    Every id asked for yields its full current set, or one tombstone row
    (``_deleted = True``, ``to_id = ""``) when it has none: the raw table is merged with
    delete-insert on ``(from_type, from_id, to_type)``, so the tombstone removes associations
    that no longer exist and is itself never stored.

    Args:
        client: Client at the HubSpot base URL.
        from_type: Object type of ``ids``.
        to_type: Associated object type.
        ids: Object ids whose associations changed (or may have).
        batch_size: Ids per request.
        tombstones: Send tombstones (pointless on a first load: nothing to remove yet).

    Yields:
        Association rows.
    """
    id_list = [str(i) for i in ids]
    for start in range(0, len(id_list), batch_size):
        chunk = id_list[start : start + batch_size]
        payload = checked(
            client.post(
                f"/crm/v4/associations/{from_type}/{to_type}/batch/read",
                json={"inputs": [{"id": i} for i in chunk]},
            )
        )
        found: set[str] = set()
        for result in payload.get("results") or []:
            from_id = str((result.get("from") or {}).get("id"))
            for target in result.get("to") or []:
                types = target.get("associationTypes") or [{}]
                # one row per associated pair: the first type HubSpot lists is its primary one
                kind = types[0]
                found.add(from_id)
                yield {
                    "from_type": from_type,
                    "from_id": from_id,
                    "to_type": to_type,
                    "to_id": str(target.get("toObjectId")),
                    "association_type_id": kind.get("typeId"),
                    "association_category": kind.get("category"),
                    "_deleted": False,
                }
        for missing in sorted(set(chunk) - found) if tombstones else ():
            yield {
                "from_type": from_type,
                "from_id": missing,
                "to_type": to_type,
                "to_id": "",
                "association_type_id": None,
                "association_category": None,
                "_deleted": True,
            }
