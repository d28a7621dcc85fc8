"""Matching settings: caps, thresholds and the Splink model, versioned together in YAML."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SETTINGS_DIR = Path(__file__).resolve().parent / "settings"
DEFAULT_SETTINGS = SETTINGS_DIR / "person.yml"


@dataclass(frozen=True)
class Settings:
    """What a resolution run may link, and how strictly.

    Attributes:
        version: Version of this settings file; stored with every probabilistic edge.
        max_names_per_value: Per identifier type, the most distinct people (told apart by
            first name) one value may name before it counts as shared and links nobody
            (Segment's "limit", dbt_idr's ``max_group_size``).
        max_records_per_value: Per identifier type, the most records one value may appear on.
        fuzzy_block_distance: Values this close (edit distance) to an exact blocklist entry are
            blocked too (``test@tset.com``).
        match_probability: Probabilistic pairs at or above it may become edges.
        review_probability: Pairs from here up to ``match_probability`` go to review.
        max_cluster_size: A component larger than this is split by dropping its weakest edges.
        exclusive_identifiers: Identifier types a person has one value of (and
            ``birth_date``): a cluster with two values is re-clustered without the edge that
            joined them (cannot-link).
        splink_model: Path (relative to this file's folder) of the trained Splink settings.
    """

    version: str
    max_names_per_value: dict[str, int]
    max_records_per_value: dict[str, int]
    fuzzy_block_distance: int
    match_probability: float
    review_probability: float
    max_cluster_size: int
    exclusive_identifiers: tuple[str, ...]
    splink_model: Path
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def load_settings(path: Path | str | None = None) -> Settings:
    """Read a settings file (default: the packaged ``settings/person.yml``).

    Raises:
        ValueError: A required key is missing or a threshold is out of range.
    """
    p = Path(path) if path else DEFAULT_SETTINGS
    data = yaml.safe_load(p.read_text(encoding="utf-8"))
    try:
        settings = Settings(
            version=str(data["version"]),
            max_names_per_value={k: int(v) for k, v in data["max_names_per_value"].items()},
            max_records_per_value={k: int(v) for k, v in data["max_records_per_value"].items()},
            fuzzy_block_distance=int(data["fuzzy_block_distance"]),
            match_probability=float(data["match_probability"]),
            review_probability=float(data["review_probability"]),
            max_cluster_size=int(data["max_cluster_size"]),
            exclusive_identifiers=tuple(data.get("exclusive_identifiers", ())),
            splink_model=(p.parent / data["splink_model"]).resolve(),
            raw=data,
        )
    except KeyError as exc:
        raise ValueError(f"{p}: missing setting {exc.args[0]!r}") from exc
    if not 0 < settings.review_probability <= settings.match_probability < 1:
        raise ValueError(f"{p}: need 0 < review_probability <= match_probability < 1")
    return settings
