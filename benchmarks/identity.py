"""Identity benchmark: the whole identity step at scale, against Splink's plain pipeline.

For every world size (or a given warehouse):

1. the identity inputs are built (:mod:`benchmarks.identity_input`: generate the world, land
   what identity needs through the real pipelines, ``dbt build`` the input models);
2. each task runs in its own child process, peak RSS measured from outside
   (:mod:`benchmarks.identity_tasks`):
   - ``identity_resolve`` — blocklist, deterministic edges, Splink scoring, clustering with
     its guards, golden IDs; pairwise metrics against the world's truth;
   - ``identity_resolve`` deterministic only (no Splink), for reference;
   - ``identity_splink_baseline`` — Splink as documented (independent comparisons, trained
     by EM, clustered at 0.9 and 0.999): the baseline, reported as time and F1 ratios;
   - ``identity_components`` — SQL components vs union-find on the identity graph, and the
     adversarial 1,000 chains × 1,000 nodes;
   - ``identity_churn`` — golden-ID churn when +15 % records arrive, ours vs min(record id).
3. A rich table on the console; JSON and Markdown under ``benchmarks/results``.

Usage::

    python -m benchmarks.identity --people 20000                   # quick, about 2 minutes
    python -m benchmarks.identity --people 1000000                 # what ``make bench`` runs
    python -m benchmarks.identity --warehouse W.duckdb --world DIR # inputs already built
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.measure import PROJECT_ROOT, ChildFailedError, machine_info, run_child

console = Console(width=160)
RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"
THREADS = 2


def _measure(task: str, params: dict[str, Any], logs: Path) -> dict[str, Any]:
    console.print(f"[bold]{task}[/] {params.get('probabilistic', '')}")
    try:
        result = run_child(task, params, timeout=3600, log_path=logs / f"{task}.log")
    except ChildFailedError as exc:
        console.print(f"[red]{task} failed:[/] {exc}")
        return {"failed": str(exc)}
    payload = dict(result.payload)
    payload["wall_seconds"] = result.wall_seconds
    payload["peak_rss_mb"] = result.peak_rss_mb
    return payload


def run_size(
    warehouse: Path, world: Path, logs: Path, memory_limit: str | None = None
) -> dict[str, Any]:
    """All identity tasks on one prepared warehouse."""
    base = {"warehouse": str(warehouse), "world": str(world), "threads": THREADS}
    limited = {**base, "memory_limit": memory_limit}
    return {
        "resolve": _measure("identity_resolve", limited, logs),
        "deterministic": _measure("identity_resolve", {**limited, "probabilistic": False}, logs),
        "splink_baseline": _measure("identity_splink_baseline", base, logs),
        "components": _measure("identity_components", base, logs),
        "churn": _measure("identity_churn", base, logs),
    }


def _f1(block: dict[str, Any], key: str = "all_records") -> dict[str, Any]:
    return block.get("metrics", {}).get(key, {})


def summary_table(label: str, res: dict[str, Any]) -> Table:
    """One rich table per world size."""
    table = Table(title=f"identity — {label}")
    for col in ("run", "records", "seconds", "peak RSS MiB", "P", "R", "F1", "largest", "excess"):
        table.add_column(col, justify="right" if col != "run" else "left")

    def row(name: str, block: dict[str, Any], metrics: dict[str, Any]) -> None:
        table.add_row(
            name,
            str(block.get("records", "")),
            f"{block.get('seconds', float('nan')):.1f}",
            f"{block.get('peak_rss_mb', float('nan')):.0f}",
            f"{metrics.get('precision', float('nan')):.4f}",
            f"{metrics.get('recall', float('nan')):.4f}",
            f"{metrics.get('f1', float('nan')):.4f}",
            str(metrics.get("largest_cluster", "")),
            str(metrics.get("largest_excess", "")),
        )

    row("closedloop", res["resolve"], _f1(res["resolve"]))
    row("closedloop, evidence only", res["resolve"], _f1(res["resolve"], "records_with_evidence"))
    row("deterministic only", res["deterministic"], _f1(res["deterministic"]))
    base = res["splink_baseline"]
    for threshold, metrics in base.get("metrics_by_threshold", {}).items():
        row(f"Splink plain @{threshold}", base, metrics.get("all_records", {}))
    return table


def _md_row(name: str, block: dict[str, Any], m: dict[str, Any]) -> str:
    nan = float("nan")
    return (
        f"| {name} | {block.get('records', '')} | {block.get('seconds', nan):.1f} | "
        f"{block.get('peak_rss_mb', nan):.0f} | {m.get('precision', nan):.4f} | "
        f"{m.get('recall', nan):.4f} | {m.get('f1', nan):.4f} | "
        f"{m.get('largest_cluster', '')} | {m.get('largest_excess', '')} |"
    )


def markdown(results: dict[str, Any]) -> str:
    """The Markdown summary written beside the JSON."""
    lines = [
        f"# Identity benchmark {results['started_at']}",
        "",
        f"Machine: {results['machine']}",
        "",
    ]
    for label, res in results["sizes"].items():
        ours, base = res["resolve"], res["splink_baseline"]
        lines += [
            f"## {label}",
            "",
            "| run | records | s | peak RSS MiB | P | R | F1 | largest | excess |",
            "|---|---|---|---|---|---|---|---|---|",
        ]

        lines.append(_md_row("closedloop", ours, _f1(ours)))
        lines.append(
            _md_row("closedloop, records with evidence", ours, _f1(ours, "records_with_evidence"))
        )
        lines.append(_md_row("deterministic only", res["deterministic"], _f1(res["deterministic"])))
        for threshold, m in base.get("metrics_by_threshold", {}).items():
            lines.append(_md_row(f"Splink plain @{threshold}", base, m.get("all_records", {})))
        if "seconds" in ours and "seconds" in base:
            best = max(
                (
                    m.get("all_records", {}).get("f1", 0.0)
                    for m in base.get("metrics_by_threshold", {}).values()
                ),
                default=0.0,
            )
            lines += [
                "",
                f"Time ratio closedloop ÷ Splink plain: {ours['seconds'] / base['seconds']:.2f}; "
                f"F1 ratio (vs Splink's best threshold): {_f1(ours).get('f1', 0) / best if best else float('nan'):.3f}",
            ]
        lines += ["", f"Steps (s): {json.dumps(ours.get('timings', {}))}", ""]
        comps = res["components"]
        if "graph" in comps:
            g, c = comps["graph"], comps["chains"]
            lines += [
                f"Components on the identity graph ({g['nodes']} nodes, {g['edges']} edges): SQL "
                f"{g['sql_seconds']:.2f} s in {g['sql_iterations']} rounds, union-find "
                f"{g['union_find_seconds']:.2f} s.",
                f"{c['chains']} chains × {c['length']}: auto {c['auto_seconds']:.2f} s "
                f"({c['auto_method']}, {c['sql_rounds_before_fallback']} SQL rounds first), "
                f"union-find alone {c['union_find_seconds']:.2f} s, {c['components_found']} components.",
                "",
            ]
        churn = res["churn"]
        if "ours" in churn:
            lines += [
                f"Churn (+{churn['records_run2'] - churn['records_run1']} records on "
                f"{churn['records_run1']}): ours {json.dumps(churn['ours'])}; "
                f"min(record id) {json.dumps(churn['min_record_key'])}; redirects "
                f"{churn['redirects']}; identical on rerun: {churn['identical_on_rerun']}.",
                "",
            ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="*", default=[])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--warehouse", type=Path)
    parser.add_argument("--world", type=Path)
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--memory-limit",
        default="2GB",
        help="DuckDB memory limit of the resolution runs (DuckDB spills beyond it)",
    )
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    results: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine_info(),
        "sizes": {},
    }
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="closedloop-identity-bench-"))
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[str, Path, Path]] = []
    if args.warehouse and args.world:
        jobs.append((args.world.name, args.warehouse, args.world))
    for people in args.people:
        from benchmarks.identity_input import build_identity_input

        world, warehouse = work / f"world-{people}", work / f"identity-{people}.duckdb"
        build_identity_input(world=world, warehouse=warehouse, people=people, seed=args.seed)
        jobs.append((f"{people:,} people", warehouse, world))
    for label, warehouse, world in jobs:
        res = run_size(warehouse, world, logs / label.replace(" ", "_"), args.memory_limit)
        results["sizes"][label] = res
        console.print(summary_table(label, res))
    out = args.out or RESULTS_DIR / f"identity-{started.date().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    out.with_suffix(".md").write_text(markdown(results))
    console.print(f"results: {out} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
