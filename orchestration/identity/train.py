"""Train the person-matching Splink model on a warehouse and save it beside the settings.

    python -m orchestration.identity.train --warehouse warehouse.duckdb

Unsupervised (what a user does on their own data): no truth labels are read. The result is
written to the settings folder; commit it with a bumped settings ``version``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb

from orchestration.identity.scoring import splink_input, train_model
from orchestration.identity.settings import load_settings


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True, type=Path)
    parser.add_argument("--records", default="intermediate.int_identity__records")
    parser.add_argument("--out", type=Path, default=None, help="default: the settings' model")
    args = parser.parse_args(argv)
    settings = load_settings()
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        data = splink_input(con, args.records)
    model = train_model(data)
    out = args.out or settings.splink_model
    out.write_text(json.dumps(model, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"trained on {data.num_rows} records → {out}")


if __name__ == "__main__":
    main()
