"""Candidate record pairs scored by the trained Splink model, at or above the review floor.

Scoring only: the model is trained once and versioned (orchestration/identity/settings).
"""

from orchestration.identity.frames import as_view
from orchestration.identity.scoring import score_pairs, splink_input
from orchestration.identity.settings import load_settings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = load_settings()
    records = as_view(session, dbt.ref("int_identity__records"), "identity_records")
    scored = score_pairs(
        splink_input(session, records),
        settings.splink_model,
        min_probability=settings.review_probability,
    )
    session.register("identity_scored_arrow", scored)
    return session.sql(
        f"""
        select
            *,
            match_probability >= {float(settings.match_probability)} as meets_threshold,
            '{settings.version}' as settings_version
        from identity_scored_arrow
        """
    ).to_arrow_table()
