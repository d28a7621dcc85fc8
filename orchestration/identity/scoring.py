"""Probabilistic record pairs from a trained Splink (Fellegi–Sunter) model.

The comparisons are household-aware: a phone number and an address are one *contact point*
comparison, because in a household they are shared by everybody (measured: counting them as
independent evidence merges family members; as one comparison, F1 rose from 0.88 to 0.94).

Only the scoring runs in a resolution: the model is trained once (:func:`train_model`, run
``python -m orchestration.identity.train``) and versioned as JSON beside the settings.
Splink works in its own in-memory DuckDB, so nothing it materialises lands in the warehouse.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from orchestration.identity.frames import checked_name

log = logging.getLogger(__name__)

# Columns handed to Splink (prepared by :func:`splink_input`).
SPLINK_COLUMNS = (
    "unique_id",
    "first_name_key",
    "last_name_key",
    "birth_date",
    "email_canonical",
    "email_local",
    "phone_e164",
    "postal_code_key",
    "street_key",
    "city_key",
)

_BOTH = "{c}_l is not null and {c}_r is not null"


def _null(*columns: str) -> dict[str, Any]:
    cond = " or ".join(f"{c}_l is null or {c}_r is null" for c in columns)
    return {"sql_condition": cond, "label_for_charts": "null", "is_null_level": True}


def _level(sql: str, label: str, tf: str | None = None) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if tf:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = 1.0
    return level


_ELSE = {"sql_condition": "ELSE", "label_for_charts": "else"}


def comparisons() -> list[dict[str, Any]]:
    """The comparison design (one dict per comparison, Splink's settings format)."""
    return [
        {
            "output_column_name": "first_name",
            "comparison_levels": [
                _null("first_name_key"),
                _level("first_name_key_l = first_name_key_r", "exact", "first_name_key"),
                _level(
                    "damerau_levenshtein(first_name_key_l, first_name_key_r) <= 1"
                    " and first_name_key_l <> first_name_key_r || 'a'"
                    " and first_name_key_r <> first_name_key_l || 'a'",
                    "one typo",
                ),
                _level(
                    "jaro_winkler_similarity(first_name_key_l, first_name_key_r) >= 0.85", "similar"
                ),
                _ELSE,
            ],
        },
        {
            "output_column_name": "last_name",
            "comparison_levels": [
                _null("last_name_key"),
                _level("last_name_key_l = last_name_key_r", "exact", "last_name_key"),
                _level("damerau_levenshtein(last_name_key_l, last_name_key_r) <= 1", "one typo"),
                # Nováková / Novák: the family name of a household, not one person.
                _level(
                    "starts_with(last_name_key_l, left(last_name_key_r, length(last_name_key_r) - 1))"
                    " or starts_with(last_name_key_r, left(last_name_key_l, length(last_name_key_l) - 1))",
                    "family form",
                ),
                _ELSE,
            ],
        },
        {
            "output_column_name": "birth_date",
            "comparison_levels": [
                _null("birth_date"),
                _level("birth_date_l = birth_date_r", "exact"),
                _ELSE,
            ],
        },
        {
            "output_column_name": "email",
            "comparison_levels": [
                _null("email_canonical"),
                _level("email_canonical_l = email_canonical_r", "exact", "email_canonical"),
                _level("email_local_l = email_local_r", "same mailbox name, other domain"),
                _level("damerau_levenshtein(email_local_l, email_local_r) <= 1", "mailbox typo"),
                _ELSE,
            ],
        },
        {
            # Household-aware: phone and address are where a person lives, shared by the
            # household, so they are one piece of evidence, not two independent ones.
            "output_column_name": "contact_point",
            "comparison_levels": [
                {
                    "sql_condition": "(phone_e164_l is null or phone_e164_r is null)"
                    " and (postal_code_key_l is null or postal_code_key_r is null)",
                    "label_for_charts": "null",
                    "is_null_level": True,
                },
                _level(
                    "phone_e164_l = phone_e164_r and postal_code_key_l = postal_code_key_r"
                    " and street_key_l = street_key_r",
                    "phone and address",
                ),
                _level("phone_e164_l = phone_e164_r", "phone"),
                _level(
                    "postal_code_key_l = postal_code_key_r and street_key_l = street_key_r",
                    "address",
                ),
                _level("postal_code_key_l = postal_code_key_r", "postcode"),
                _ELSE,
            ],
        },
    ]


def blocking_rules() -> list[str]:
    """Candidate pairs: any of these agree (Splink de-duplicates pairs across rules).

    A pair can only become an edge with a name and one corroborating fact in agreement
    (:func:`edges.probabilistic_edges`), so every rule pairs a name with such a fact. Blocking
    on names alone (``first_name, last_name``) finds the same edges but, at millions of
    records, tens of millions of namesake pairs: measured at 2.75M records, 113 s of blocking
    and 15 GB of memory before scoring even began.
    """
    return [
        "l.last_name_key = r.last_name_key and l.birth_date = r.birth_date",
        "l.first_name_key = r.first_name_key and l.birth_date = r.birth_date",
        "l.first_name_key = r.first_name_key and l.postal_code_key = r.postal_code_key",
        "l.last_name_key = r.last_name_key and l.postal_code_key = r.postal_code_key"
        " and l.street_key = r.street_key",
        "l.first_name_key = r.first_name_key and l.phone_e164 = r.phone_e164",
        "l.last_name_key = r.last_name_key and l.phone_e164 = r.phone_e164",
        "l.first_name_key = r.first_name_key and l.email_canonical = r.email_canonical",
    ]


def base_settings() -> dict[str, Any]:
    """Untrained Splink settings for person records."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": comparisons(),
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": rule} for rule in blocking_rules()
        ],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
        "probability_two_random_records_match": 1e-5,
    }


def splink_input(con: duckdb.DuckDBPyConnection, records: str) -> pa.Table:
    """The records Splink can say something about (a name or an email), as Arrow."""
    recs = checked_name(records)
    return con.sql(
        f"""
        select
            record_key as unique_id,
            first_name_key,
            last_name_key,
            cast(birth_date as varchar) as birth_date,
            email_canonical,
            nullif(split_part(email_canonical, '@', 1), '') as email_local,
            phone_e164,
            postal_code_key,
            street_key,
            city_key
        from {recs}
        where first_name_key is not null or last_name_key is not null
            or email_canonical is not null
        order by record_key
        """
    ).to_arrow_table()


def _linker(  # type: ignore[no-untyped-def]
    data: pa.Table,
    settings: dict[str, Any] | Path,
    threads: int | None = None,
    memory_limit: str | None = None,
):
    # Imported here: Splink pulls in a lot and only this step needs it.
    from splink import DuckDBAPI, Linker

    splink_con = duckdb.connect(":memory:")
    if threads:
        splink_con.execute(f"set threads = {int(threads)}")
    if memory_limit:
        splink_con.execute("set memory_limit = ?", [memory_limit])
    db_api = DuckDBAPI(connection=splink_con)
    frame = db_api.register(data, dataset_display_name="records")
    # Splink logs every blocking and predict step at INFO; a resolution run is not the place.
    linker = Linker(
        frame,
        settings if isinstance(settings, dict) else str(settings),
        log_level=logging.WARNING,
    )
    return linker, splink_con


def train_model(data: pa.Table, *, recall: float = 0.7, seed: int = 42) -> dict[str, Any]:
    """Estimate λ, u and m for :func:`base_settings` on ``data`` without labels.

    λ from deterministic rules (exact canonical email, or names and birth date) with an
    assumed ``recall``; u from random pairs; m by expectation maximisation, one session per
    blocking rule so that every comparison is estimated in a session not blocked on it.
    """
    from splink import block_on

    linker, splink_con = _linker(data, base_settings())
    try:
        linker.training.estimate_probability_two_random_records_match(
            [
                "l.email_canonical = r.email_canonical",
                "l.first_name_key = r.first_name_key and l.last_name_key = r.last_name_key"
                " and l.birth_date = r.birth_date",
            ],
            recall=recall,
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=seed)
        for rule in (
            block_on("email_canonical"),
            block_on("first_name_key", "last_name_key"),
            block_on("phone_e164"),
        ):
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        model: dict[str, Any] = linker.misc.save_model_to_json()
    finally:
        splink_con.close()
    return model


def score_pairs(
    data: pa.Table,
    model_path: Path,
    *,
    min_probability: float,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> pa.Table:
    """Score every blocked candidate pair; keep those at or above ``min_probability``.

    Returns:
        Arrow table ``record_key_left, record_key_right, match_weight, match_probability``
        (left < right).
    """
    model = json.loads(Path(model_path).read_text(encoding="utf-8"))
    linker, splink_con = _linker(data, model, threads, memory_limit)
    try:
        predictions = linker.inference.predict(threshold_match_probability=min_probability)
        table = splink_con.sql(
            f"""
            select
                least(unique_id_l, unique_id_r) as record_key_left,
                greatest(unique_id_l, unique_id_r) as record_key_right,
                match_weight,
                match_probability
            from {predictions.physical_name}
            order by record_key_left, record_key_right
            """
        ).to_arrow_table()
    finally:
        splink_con.close()
    return table
