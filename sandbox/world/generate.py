"""``generate``: build a world from nothing (version 0)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sandbox.world.build import CohortOut, Globals, build_cohort, consent_truth
from sandbox.world.core import DAY, ProgressFn, WorldError, fmt_ts, parse_ts, stream
from sandbox.world.io import (
    MANIFEST,
    create_indexes,
    create_shop,
    finish_sqlite,
    insert_rows,
    rows_to_table,
    write_json,
    write_parquet,
)
from sandbox.world.noise import e164
from sandbox.world.params import default_params
from sandbox.world.people import make_people, people_table
from sandbox.world.schema import CRM, ESP, HELPDESK, RECORDS_SCHEMA, SHOP
from sandbox.world.systems import Ids, Records, Rows
from sandbox.world.systems import crm as crm_mod
from sandbox.world.systems import esp as esp_mod
from sandbox.world.systems import helpdesk as hd_mod
from sandbox.world.systems import shop as shop_mod
from sandbox.world.systems.marketing import crm_campaigns, email_campaigns
from sandbox.world.webfiles import write_drops

FORMAT = 1
MIN_PEOPLE = 10


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise WorldError(f"{out} exists and is not a directory")
    if (out / MANIFEST).is_file():
        raise WorldError(
            f"{out} already holds a world; delete it first (the CLI does so with --force)"
        )
    if out.exists() and any(out.iterdir()):
        raise WorldError(
            f"{out} is not empty; generate into a new or empty directory "
            "(or delete the old world first)"
        )


def generate(
    people: int,
    seed: int,
    out: Path,
    *,
    as_of: str = "2026-11-01T00:00:00Z",
    start: str = "2024-01-01T00:00:00Z",
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Generate a deterministic synthetic world.

    Args:
        people: Number of true people (>= 10).
        seed: Random seed; the same seed and arguments give byte-identical files.
        out: Target directory; must not exist or be empty.
        as_of: The world's clock (ISO-8601 UTC).
        start: Beginning of the world's history (ISO-8601 UTC).
        progress: Optional callback ``(stage, fraction)``.

    Returns:
        The manifest (also written to ``out/world.json``).

    Raises:
        WorldError: Too few people, bad clock, or a non-empty target directory.
    """
    if int(people) < MIN_PEOPLE:
        raise WorldError(f"people must be >= {MIN_PEOPLE}, got {people}")
    t0, t1 = parse_ts(start), parse_ts(as_of)
    if t1 <= t0:
        raise WorldError(f"as_of ({as_of}) must be after start ({start})")
    out = Path(out)
    _check_target(out)
    out.mkdir(parents=True, exist_ok=True)
    params = default_params()
    version = 0

    def tick(stage: str, frac: float) -> None:
        if progress is not None:
            progress(stage, frac)

    tick("people", 0.0)
    ids = Ids()
    cohort = make_people(
        stream(seed, version, "people"),
        int(people),
        person_id_start=1,
        household_id_start=1,
        company_id_start=1,
        t0=t0,
        t1=t1,
        params=params,
    )
    if cohort.companies is not None:
        ids.next["companies"] = int(cohort.companies.id.max()) + 1
    tick("people", 1.0)

    g = make_globals(seed, params, t0, t1, int(people), ids)
    web_from = max(t0, t1 - params["web"]["window_days"] * DAY)
    writer = _Writer(out, g, t1, version, seed, params)
    built = build_cohort(seed, version, cohort, t1, web_from, ids, g, progress, sink=writer)

    tick("write", 0.0)
    writer.finish(built, cohort, ids)
    manifest = finish_manifest(out, seed, int(people), version, t0, t1, params, built_web=None)
    tick("write", 1.0)
    return manifest


def make_globals(
    seed: int, params: dict[str, Any], t0: int, t1: int, people: int, ids: Ids
) -> Globals:
    """Catalog, campaigns, owners, ESP static objects and agents for a new world."""
    categories, products, catalog = shop_mod.build_catalog(stream(seed, 0, "catalog"), people, t0)
    crm_c = crm_campaigns(stream(seed, 0, "crm.campaigns"), t0, t1, people)
    esp_c = email_campaigns(
        stream(seed, 0, "esp.campaigns"), t0, t1, params["esp"]["campaigns_per_week"]
    )
    owners = crm_mod.build_owners(stream(seed, 0, "crm.owners"), people, t0)
    static = esp_mod.esp_static(stream(seed, 0, "esp.static"), t0)
    agents = hd_mod.build_agents(stream(seed, 0, "helpdesk.agents"), people, t0, ids)
    extra = {"categories": categories, "products": products, "agents": agents}
    return Globals(params, catalog, crm_c, esp_c, owners, static, agents["id"], people, extra)


def campaign_status(start: np.ndarray, end: np.ndarray, as_of: int) -> np.ndarray:
    """HubSpot campaign status relative to the world's clock."""
    return np.where(
        end <= as_of, "completed", np.where(start <= as_of, "active", "planned")
    ).astype(object)


def crm_campaign_rows(g: Globals, as_of: int) -> Rows:
    """CRM campaign rows (status relative to ``as_of``)."""
    c = g.crm_camps
    status = campaign_status(c.start, c.end, as_of)
    updated = np.where(
        status == "completed", c.end, np.where(status == "active", c.start, c.created)
    )
    return Rows(
        {
            "id": c.id,
            "hs_name": c.name,
            "hs_start_date": c.start,
            "hs_end_date": c.end,
            "hs_budget_items_sum_amount": c.budget,
            "hs_expected_revenue": c.expected_revenue,
            "hs_currency_code": c.currency,
            "hs_campaign_status": status,
            "createdAt": c.created,
            "updatedAt": updated,
        }
    )


def records_table(rec: Records, people: Any) -> pa.Table:
    """``truth/records.parquet`` from collected records (cohort indices → ids)."""
    if not rec.ids:
        return RECORDS_SCHEMA.empty_table()
    pidx = np.concatenate(rec.person_idx)
    return pa.table(
        {
            "system": pa.array(
                np.concatenate(
                    [
                        np.full(a.size, s, dtype=object)
                        for s, a in zip(rec.system, rec.ids, strict=True)
                    ]
                ),
                pa.string(),
            ),
            "table": pa.array(
                np.concatenate(
                    [
                        np.full(a.size, t, dtype=object)
                        for t, a in zip(rec.table, rec.ids, strict=True)
                    ]
                ),
                pa.string(),
            ),
            "record_id": pa.concat_arrays([rec.id_array(i) for i in range(len(rec.ids))]),
            "person_id": pa.array(people["person_id"][pidx], pa.int64()),
            "household_id": pa.array(people["household_id"][pidx], pa.int64()),
        },
        schema=RECORDS_SCHEMA,
    )


class _Writer:
    """Writes each system of a new world as soon as it is built (the ``build_cohort`` sink)."""

    def __init__(
        self, out: Path, g: Globals, t1: int, version: int, seed: int, params: dict[str, Any]
    ) -> None:
        self.out, self.g, self.t1, self.version, self.seed, self.params = (
            out,
            g,
            t1,
            version,
            seed,
            params,
        )
        self.web: dict[str, Any] = {}

    def __call__(self, system: str, built: CohortOut) -> None:
        getattr(self, f"_{system}")(built)

    def _crm(self, built: CohortOut) -> None:
        out, g = self.out, self.g
        comp = built.crm.get("companies", Rows())
        write_parquet(
            rows_to_table(built.crm["contacts"], CRM["contacts"]), out / "crm/contacts.parquet"
        )
        write_parquet(rows_to_table(comp, CRM["companies"]), out / "crm/companies.parquet")
        write_parquet(rows_to_table(built.crm["deals"], CRM["deals"]), out / "crm/deals.parquet")
        write_parquet(rows_to_table(g.owners, CRM["owners"]), out / "crm/owners.parquet")
        write_parquet(
            rows_to_table(crm_campaign_rows(g, self.t1), CRM["campaigns"]),
            out / "crm/campaigns.parquet",
        )
        write_parquet(
            rows_to_table(built.crm["associations"], CRM["associations"]),
            out / "crm/associations.parquet",
            sort_by=["from_type", "from_id", "to_type", "to_id"],
        )

    def _shop(self, built: CohortOut) -> None:
        con = create_shop(self.out / "shop/shop.sqlite", SHOP)
        insert_rows(con, "categories", self.g.extra["categories"], SHOP["categories"])
        insert_rows(con, "products", self.g.extra["products"], SHOP["products"])
        for t in ("customers", "addresses", "orders", "order_lines", "refunds", "carts"):
            insert_rows(con, t, built.shop[t], SHOP[t])
        create_indexes(con, list(SHOP))
        finish_sqlite(con)

    def _esp(self, built: CohortOut) -> None:
        out, g = self.out, self.g
        write_parquet(
            rows_to_table(built.esp["profiles"], ESP["profiles"]), out / "esp/profiles.parquet"
        )
        write_parquet(rows_to_table(g.static.lists, ESP["lists"]), out / "esp/lists.parquet")
        write_parquet(
            rows_to_table(built.esp["list_members"], ESP["list_members"]),
            out / "esp/list_members.parquet",
            sort_by=["list_id", "profile_id"],
        )
        write_parquet(
            rows_to_table(esp_mod.campaign_rows(g.esp_camps), ESP["campaigns"]),
            out / "esp/campaigns.parquet",
        )
        write_parquet(rows_to_table(g.static.flows, ESP["flows"]), out / "esp/flows.parquet")
        write_parquet(rows_to_table(g.static.metrics, ESP["metrics"]), out / "esp/metrics.parquet")
        write_parquet(built.esp_events, out / "esp/events.parquet")

    def _helpdesk(self, built: CohortOut) -> None:
        out = self.out
        users = built.helpdesk["users"]
        agents = self.g.extra["agents"]
        all_users = Rows({k: np.concatenate([agents[k], users[k]]) for k in agents.cols})
        write_parquet(rows_to_table(all_users, HELPDESK["users"]), out / "helpdesk/users.parquet")
        for t in ("tickets", "satisfaction_ratings", "nps_responses"):
            write_parquet(
                rows_to_table(built.helpdesk[t], HELPDESK[t]), out / f"helpdesk/{t}.parquet"
            )

    def _web(self, built: CohortOut) -> None:
        rng = stream(self.seed, self.version, "web.files")
        self.web["events"] = write_drops(
            self.out, "events", built.web_events, self.version, rng, self.params
        )
        self.web["consent"] = write_drops(
            self.out, "consent", built.web_consent, self.version, rng, self.params
        )

    def finish(self, built: CohortOut, cohort: Any, ids: Ids) -> None:
        """Truth files and the generator state."""
        out, t1 = self.out, self.t1
        write_parquet(
            people_table(cohort, e164), out / "truth/people.parquet", sort_by=["person_id"]
        )
        write_parquet(
            records_table(built.records, cohort),
            out / "truth/records.parquet",
            sort_by=["system", "table", "record_id"],
        )
        write_parquet(
            consent_truth(cohort, t1),
            out / "truth/consent.parquet",
            sort_by=["person_id", "purpose"],
        )
        write_json(truth_params(self.params, self.seed), out / "truth/params.json")
        (ev_files, ev_bad, ev_n), (co_files, co_bad, co_n) = self.web["events"], self.web["consent"]
        state = {
            "web": {"events": sorted(ev_files), "consent": sorted(co_files)},
            "malformed": {"events": ev_bad, "consent": co_bad},
            "web_rows": {"events": ev_n, "consent": co_n},
            "ids": dict(sorted(ids.next.items())),
            "initial_people": len(cohort),
        }
        write_json(state, out / "truth/_state.json")


def truth_params(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """The process parameters stated in ``truth/params.json``."""
    return {"seed": seed, **params}


def finish_manifest(
    out: Path,
    seed: int,
    people: int,
    version: int,
    t0: int,
    t1: int,
    params: dict[str, Any],
    built_web: Any,
) -> dict[str, Any]:
    """Compute counts from the files and write ``world.json``."""
    from sandbox.world.expected import table_counts
    from sandbox.world.io import read_json

    state = read_json(out / "truth/_state.json")
    counts = table_counts(out)
    counts["web.events"] = int(state["web_rows"]["events"])
    counts["web.consent"] = int(state["web_rows"]["consent"])
    counts["web.quarantine"] = int(state["malformed"]["events"]) + int(
        state["malformed"]["consent"]
    )
    manifest = {
        "format": FORMAT,
        "seed": int(seed),
        "people": int(people),
        "version": int(version),
        "start": fmt_ts(t0),
        "as_of": fmt_ts(t1),
        "params": params,
        "counts": dict(sorted(counts.items())),
        "web_files": state["web"],
        "malformed_web_lines": state["malformed"],
    }
    write_json(manifest, out / MANIFEST)
    return manifest
