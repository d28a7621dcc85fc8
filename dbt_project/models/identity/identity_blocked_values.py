"""Identifier values that link nobody, and why: blocklist, shared by many people, too common.

Stewards read this to see which junk is in the sources; the resolution never uses these values.
"""

from orchestration.identity.blocklist import blocked_values
from orchestration.identity.frames import as_view
from orchestration.identity.settings import load_settings


def model(dbt, session):
    dbt.config(materialized="table")
    return blocked_values(
        session,
        as_view(session, dbt.ref("int_identity__identifiers"), "identity_identifiers"),
        as_view(session, dbt.ref("int_identity__records"), "identity_records"),
        as_view(session, dbt.ref("identity_blocklist"), "identity_blocklist_entries"),
        load_settings(),
    )
