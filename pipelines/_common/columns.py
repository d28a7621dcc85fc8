"""Column type hints for dlt resources, written compactly in the sources' settings.

Settings declare columns as ``{"updated_at": "timestamp", "id": "bigint!"}``;
:func:`column_hints` turns that into dlt hints. Each column gets its own dict: dlt writes the
column's name into its hint, so one dict shared by two columns would merge them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Hint = dict[str, Any]

_TYPES: dict[str, Hint] = {
    "text": {"data_type": "text"},
    "bigint": {"data_type": "bigint"},
    "bool": {"data_type": "bool"},
    # UTC instants: TIMESTAMP WITH TIME ZONE in DuckDB
    "timestamp": {"data_type": "timestamp", "timezone": True},
    "date": {"data_type": "date"},
    # amounts: fixed point, two decimals (CZK, EUR, PLN)
    "money": {"data_type": "decimal", "precision": 18, "scale": 2},
    # nested objects and lists kept as they came
    "json": {"data_type": "json"},
}


def column_hints(types: Mapping[str, str]) -> dict[str, Hint]:
    """Build dlt column hints from type names.

    Args:
        types: Column name to one of ``text``, ``bigint``, ``bool``, ``timestamp``, ``date``,
            ``money``, ``json``; a trailing ``!`` makes the column not nullable.

    Returns:
        A fresh ``columns`` mapping for ``@dlt.resource`` / ``apply_hints``.

    Raises:
        ValueError: On an unknown type name.
    """
    hints: dict[str, Hint] = {}
    for name, spec in types.items():
        base = spec.rstrip("!")
        if base not in _TYPES:
            raise ValueError(f"unknown column type {spec!r} for {name!r}")
        hint = dict(_TYPES[base])
        if spec.endswith("!"):
            hint["nullable"] = False
        hints[name] = hint
    return hints
