"""The persisted map record → golden ID: the identity every mart and sync joins on.

Incremental and never fully refreshed: each build reads the previous map (this table) and
every cluster inherits the golden ID it shares most records with (orchestration/identity/
golden_ids.py). Records that disappeared from the sources keep their last row.
"""

import pandas as pd

from orchestration.identity.frames import as_view, relation_exists
from orchestration.identity.golden_ids import assign_golden_ids
from orchestration.identity.resolve import first_seen
from orchestration.identity.runs import current_run_id


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="record_key",
        full_refresh=False,
        on_schema_change="append_new_columns",
    )
    run_id = current_run_id()
    records = as_view(session, dbt.ref("int_identity__records"), "identity_records")
    current = dbt.ref("int_identity__clusters").select("record_key, component").df()
    current = current.merge(first_seen(session, records), on="record_key", how="left")
    prior = None
    if relation_exists(session, dbt.this.schema, dbt.this.identifier):
        prior = session.sql(
            f"""
            select record_key, golden_id, assignments, changed_run_id, first_resolved_run_id
            from {dbt.this}
            """
        ).df()
    assignment = assign_golden_ids(current, prior)
    out = assignment.records
    if prior is not None:
        out = out.merge(
            prior[["record_key", "changed_run_id", "first_resolved_run_id"]],
            on="record_key",
            how="left",
        )
    else:
        out["changed_run_id"] = None
        out["first_resolved_run_id"] = None
    changed = out["change_reason"] != "unchanged"
    out.loc[changed, "changed_run_id"] = run_id
    out["first_resolved_run_id"] = out["first_resolved_run_id"].fillna(run_id)
    out["resolved_run_id"] = run_id
    # Run ids are not ordered (Dagster's are UUIDs); the build time is.
    out["resolved_at"] = pd.Timestamp.now(tz="UTC").tz_localize(None)
    session.register("golden_id_rows", out)
    return session.sql(
        """
        select
            cast(record_key as varchar) as record_key,
            cast(golden_id as varchar) as golden_id,
            cast(previous_golden_id as varchar) as previous_golden_id,
            cast(assignments as integer) as assignments,
            cast(change_reason as varchar) as change_reason,
            cast(changed_run_id as varchar) as changed_run_id,
            cast(first_resolved_run_id as varchar) as first_resolved_run_id,
            cast(resolved_run_id as varchar) as resolved_run_id,
            cast(resolved_at as timestamp) as resolved_at
        from golden_id_rows
        order by record_key
        """
    ).to_arrow_table()
