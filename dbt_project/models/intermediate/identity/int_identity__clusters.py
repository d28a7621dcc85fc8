"""Clusters of records: connected components of identity_edges, after the guards.

Components by SQL label propagation with a convergence guard (union-find when chains are too
long), re-clustered under cannot-link constraints where a component holds two values of an
exclusive identifier, and split when larger than the size cap. `component` is a working label
(the smallest record key); golden IDs are assigned in golden_id_map.
"""

from orchestration.identity.clustering import cluster_records
from orchestration.identity.frames import as_view
from orchestration.identity.settings import load_settings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = load_settings()
    result = cluster_records(
        session,
        as_view(session, dbt.ref("int_identity__records"), "identity_records"),
        as_view(session, dbt.ref("int_identity__identifiers"), "identity_identifiers"),
        as_view(session, dbt.ref("identity_blocked_values"), "identity_blocked"),
        as_view(session, dbt.ref("identity_edges"), "identity_graph_edges"),
        settings,
    )
    labels = result.labels
    session.register("identity_cluster_labels", labels)
    return session.sql(
        f"""
        select
            record_key,
            component,
            '{result.method}' as clustering_method,
            {int(result.iterations)} as clustering_iterations,
            {int(result.conflicted_clusters)} as conflicted_clusters,
            {int(result.oversized_clusters)} as oversized_clusters
        from identity_cluster_labels
        order by record_key
        """
    ).to_arrow_table()
