"""Build time of the marketing marts on a large world, per model.

1. A warehouse holding everything the marts read: every raw table of every source loaded by
   the shipped dlt pipelines over HTTP from the emulator, staging, identity resolution and
   ``marts.customers`` (``benchmarks.identity_input`` with all resources). Pass
   ``--warehouse`` (and ``--world``) to reuse one; ``--people N`` builds it first (about
   35 minutes at 1M people, most of it ESP events over HTTP).
2. ``dbt seed`` and the staging views, then ``dbt run`` of ``models/intermediate/marketing`` and
   ``models/marts/marketing`` as one command, in a child process: wall time, peak RSS
   (polled), dbt's execution time per model. Then ``dbt test`` of the same selection,
   reported apart (tests are not part of the build target).
3. Baseline in the same script: DuckDB reading every staging and identity relation the marts
   read into a temporary table once (``create temp table as select *``), i.e. the cost of
   touching the inputs. The marts' time is reported as a multiple of it.

Results: a rich table, and JSON + Markdown under ``benchmarks/results/marts-<date>``.

Usage::

    python -m benchmarks.marts --world /tmp/w1m --warehouse /tmp/w1m.duckdb
    python -m benchmarks.marts --people 1000000 --work-dir /tmp/marts-bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.identity_input import Step, _dbt, build_identity_input
from benchmarks.measure import PROJECT_ROOT, machine_info

console = Console(width=max(shutil.get_terminal_size((120, 40)).columns, 120))
RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"
SELECTION = ("path:models/intermediate/marketing", "path:models/marts/marketing")
ROLES = ("web", "shop", "crm", "helpdesk", "esp")


def _inputs(work: Path, warehouse: Path) -> list[str]:
    """The staging, identity and core relations the selected models read, from the manifest."""
    _dbt("dbt ls", ["ls", "--select", *SELECTION, "--output", "json"], work, warehouse)
    manifest = json.loads((work / "dbt-target" / "manifest.json").read_text())
    selected = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and any(node["original_file_path"].startswith(p[5:]) for p in SELECTION)
    }
    parents: set[str] = set()
    for uid in selected:
        parents.update(manifest["parent_map"].get(uid, []))
    relations = []
    for uid in sorted(parents - selected):
        node = manifest["nodes"].get(uid)
        if node and node["resource_type"] == "model":
            relations.append(f"{node['schema']}.{node['alias'] or node['name']}")
    return relations


def _scan_baseline(warehouse: Path, relations: list[str]) -> dict[str, Any]:
    """Seconds to copy every input relation once into a temporary table."""
    import duckdb

    per: dict[str, float] = {}
    rows: dict[str, int] = {}
    with duckdb.connect(str(warehouse)) as con:
        for i, relation in enumerate(relations):
            started = time.perf_counter()
            con.execute(f"create temp table scan_{i} as select * from {relation}")
            per[relation] = time.perf_counter() - started
            rows[relation] = int(con.execute(f"select count(*) from scan_{i}").fetchall()[0][0])
            con.execute(f"drop table scan_{i}")
    return {"seconds": sum(per.values()), "per_relation": per, "rows": rows}


def _customers(warehouse: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        queries = {
            "golden customers": "select count(*) from marts.customers",
            "orders": "select count(*) from staging.stg_shop__orders",
            "email events": "select count(*) from staging.stg_esp__events",
            "web events": "select count(*) from staging.stg_web__events",
            "crm contacts": "select count(*) from staging.stg_crm__contacts",
            "tickets": "select count(*) from staging.stg_helpdesk__tickets",
        }
        return {k: int(con.execute(q).fetchall()[0][0]) for k, q in queries.items()}


def run(warehouse: Path, work: Path) -> dict[str, Any]:
    """Seed, build and test the marketing marts on ``warehouse``; measure each step."""
    work.mkdir(parents=True, exist_ok=True)
    steps: list[Step] = []
    failures: list[str] = []
    for name, args in (
        ("dbt seed", ["seed"]),
        # Staging views of the sources identity does not read (ESP events, deals, …) are
        # created first: they are views, so this is catalog work, not part of the marts.
        ("dbt run staging", ["run", "--select", "path:models/staging"]),
        ("dbt run", ["run", "--select", *SELECTION]),
        ("dbt test", ["test", "--select", *SELECTION]),
    ):
        console.print(name)
        step, failed = _dbt(name, args, work, warehouse)
        steps.append(step)
        failures += failed
    relations = _inputs(work, warehouse)
    baseline = _scan_baseline(warehouse, relations)
    build = next(step for step in steps if step.name == "dbt run")
    return {
        "volumes": _customers(warehouse),
        "steps": {
            s.name: {"seconds": s.seconds, "peak_rss_mb": s.peak_rss_mb, "ok": s.ok} for s in steps
        },
        "model_seconds": dict(sorted(build.node_seconds.items(), key=lambda kv: -kv[1])),
        "baseline": baseline,
        "ratio_to_scan": build.seconds / baseline["seconds"] if baseline["seconds"] else None,
        "failures": failures,
    }


def markdown(results: dict[str, Any]) -> str:
    """The results as a Markdown page."""
    res = results["result"]
    lines = [
        f"# Marketing marts benchmark {results['started_at']}",
        "",
        f"Machine: {results['machine']}",
        f"World: {results['world']}",
        "",
        "| volume | rows |",
        "|---|---:|",
        *(f"| {k} | {v:,} |" for k, v in res["volumes"].items()),
        "",
        "| step | seconds | peak RSS MiB | ok |",
        "|---|---:|---:|---|",
        *(
            f"| {name} | {s['seconds']:.1f} | {s['peak_rss_mb']:,.0f} | {s['ok']} |"
            for name, s in res["steps"].items()
        ),
        "",
        f"Baseline (read every input relation once): {res['baseline']['seconds']:.1f} s; "
        f"the build takes {res['ratio_to_scan']:.1f}× that.",
        "",
        "| model | seconds |",
        "|---|---:|",
        *(f"| {m} | {s:.1f} |" for m, s in res["model_seconds"].items()),
        "",
    ]
    if res["failures"]:
        lines += ["Failures:", "", *(f"- {f}" for f in res["failures"]), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, help="build a world and warehouse of this size")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--world", type=Path, help="world of --warehouse (or to generate)")
    parser.add_argument("--warehouse", type=Path, help="a warehouse built up to customers")
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="closedloop-marts-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    world = args.world or work / f"world-{args.people}"
    warehouse = args.warehouse or work / f"marts-{args.people}.duckdb"
    if args.people and not warehouse.exists():
        report = build_identity_input(
            world,
            warehouse,
            people=args.people,
            seed=args.seed,
            tests=False,
            resources=dict.fromkeys(ROLES),
            models=("customers",),
        )
        if not report.ok:
            console.print(f"[red]building the warehouse failed[/]: {report.dbt_failures}")
            return 1
    if not warehouse.exists():
        parser.error("pass --warehouse (a built warehouse) or --people")
    result = run(warehouse, work / "marts")
    results = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine_info(),
        "world": str(world),
        "result": result,
    }
    table = Table(title=f"marketing marts on {warehouse}")
    table.add_column("model")
    table.add_column("seconds", justify="right")
    for model, seconds in result["model_seconds"].items():
        table.add_row(model, f"{seconds:.1f}")
    for name, step in result["steps"].items():
        table.add_row(f"[b]{name}[/]", f"{step['seconds']:.1f}")
    table.add_row("[b]baseline scan[/]", f"{result['baseline']['seconds']:.1f}")
    console.print(table)
    out = args.out or RESULTS_DIR / f"marts-{started.date().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    out.with_suffix(".md").write_text(markdown(results))
    console.print(f"results: {out} and {out.with_suffix('.md')}")
    return 0 if all(s["ok"] for s in result["steps"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
