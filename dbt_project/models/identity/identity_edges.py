"""The identity graph's edges, as an audit trail: which records are linked, by what evidence.

Deterministic edges (a shared, unblocked identifier with person-level agreement) and
probabilistic ones (Splink pairs above the strict threshold with a corroborating fact).
`first_seen_run_id` carries over from the previous build, so an edge's age is visible.
"""

from orchestration.identity.edges import deterministic_edges, probabilistic_edges
from orchestration.identity.frames import as_view, relation_exists
from orchestration.identity.runs import current_run_id
from orchestration.identity.settings import load_settings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = load_settings()
    records = as_view(session, dbt.ref("int_identity__records"), "identity_records")
    identifiers = as_view(session, dbt.ref("int_identity__identifiers"), "identity_identifiers")
    blocked = as_view(session, dbt.ref("identity_blocked_values"), "identity_blocked")
    scored = as_view(session, dbt.ref("int_identity__scored_pairs"), "identity_scored")
    det = as_view(
        session, deterministic_edges(session, identifiers, records, blocked), "identity_det_edges"
    )
    prob = as_view(
        session, probabilistic_edges(session, scored, records, settings), "identity_prob_edges"
    )
    run_id = current_run_id()
    # An edge is (left, right, rule); its first run survives rebuilds, the rest is current.
    # The previous build's table still exists while this one is computed (dbt swaps after).
    prior = "select cast(null as varchar) as edge_id, cast(null as varchar) as first_seen_run_id"
    if relation_exists(session, dbt.this.schema, dbt.this.identifier):
        prior = f"""
            select edge_id, min(first_seen_run_id) as first_seen_run_id
            from {dbt.this} group by edge_id
        """
    edges = session.sql(
        f"""
        with current_edges as (
            select
                sha256(record_key_left || '|' || record_key_right || '|' || rule) as edge_id,
                *
            from (select * from {det} union all select * from {prob})
        ),
        prior as ({prior})
        select
            e.*,
            '{run_id}' as run_id,
            coalesce(p.first_seen_run_id, '{run_id}') as first_seen_run_id,
            '{settings.version}' as settings_version
        from current_edges as e
        left join prior as p on e.edge_id = p.edge_id
        order by e.record_key_left, e.record_key_right, e.rule
        """
    )
    return edges
