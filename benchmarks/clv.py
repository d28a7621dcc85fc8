"""CLV benchmark: parameter recovery on generated worlds; fit + scoring time against lifetimes.

1. **Recovery.** For every world (generated with ``sandbox.world.generate``, or given with
   ``--world``), the shop's orders (SQLite; cancelled orders are not purchases; value =
   subtotal in CZK at the world's ``fx_to_czk``) of every true person
   (``truth/records.parquet``) go through ``orchestration.clv.summary`` exactly as
   ``closedloop clv fit`` reads a file, calibrated at the world's ``as_of``, and are fitted;
   the estimates are compared with ``truth/params.json`` (target: r, α, a/(a+b), p, q, γ
   within 5 %). Four summaries answer which definition recovers the process: orders or
   purchase days, continuous or whole-day times. A control re-draws every order value from
   the stated Gamma(p, ν_person) (ν from ``truth/people.parquet``) for the same orders: it
   separates the estimator's error from the generator's own deviation from Gamma-Gamma. A
   holdout check calibrates half a year before ``as_of`` and compares predicted and actual
   repeat purchases.
2. **Time.** ``--customers`` customers are simulated from the BG/NBD + Gamma-Gamma process
   (``orchestration.clv.simulate``) and written to one Parquet file; closedloop and
   ``lifetimes`` each fit both models and score every customer (P(alive), expected purchases
   at 90 and 365 days, expected order value, 12-month discounted CLV) in a child process of
   its own. Timers start after the file is read; peak RSS is the child's own high-water mark
   (``VmHWM``).
   Target: closedloop ≤ 30 s for 1M customers, reported as a ratio to lifetimes.

Usage::

    python -m benchmarks.clv --people 50000 --customers 1000000      # about 5 minutes
    python -m benchmarks.clv --world /path/to/world --customers 0    # recovery only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from benchmarks.measure import PROJECT_ROOT, code_fingerprint, machine_info
from orchestration.clv.models import BgNbdParams, GammaGammaParams, fit_gamma_gamma
from orchestration.clv.scoring import ClvModel, fit_summary, holdout_report, score
from orchestration.clv.settings import ClvSettings
from orchestration.clv.simulate import simulate_customers
from orchestration.clv.summary import (
    TransactionColumns,
    holdout_purchases,
    load_transactions,
    parse_calibration_end,
    summarise,
)

console = Console(width=160)
RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"
TARGET_RELATIVE_ERROR = 0.05
TARGET_SECONDS = 30.0
HOLDOUT_DAYS = 182
# What the recovery target names, and how each estimate is read off a fit.
RECOVERY_TARGETS: tuple[str, ...] = ("r", "alpha", "mean_dropout", "p", "q", "gamma")
VARIANTS: dict[str, str] = {
    "orders_continuous": "orders, continuous days (closedloop)",
    "orders_whole_days": "orders, whole days",
    "days_continuous": "purchase days, continuous days",
    "days_whole_days": "purchase days, whole days (CDNOW / lifetimes)",
}


# --- recovery -------------------------------------------------------------------------------


def load_world_orders(world: Path) -> tuple[pd.DataFrame, dict[str, Any], str]:
    """Non-cancelled orders with their true person, value in CZK; the truth; the as-of text."""
    truth = json.loads((world / "truth" / "params.json").read_text())
    as_of = json.loads((world / "world.json").read_text())["as_of"]
    with sqlite3.connect(world / "shop" / "shop.sqlite") as con:
        orders = pd.read_sql("select id, status, currency, subtotal, placed_at from orders", con)
    records = pd.read_parquet(
        world / "truth" / "records.parquet",
        filters=[("system", "==", "shop"), ("table", "==", "orders")],
        columns=["record_id", "person_id"],
    )
    records["id"] = records["record_id"].astype("int64")
    orders = orders.merge(records[["id", "person_id"]], on="id", how="inner")
    orders = orders[orders["status"] != "cancelled"]
    fx = truth["fx_to_czk"]
    frame = pd.DataFrame(
        {
            "customer": orders["person_id"].to_numpy(),
            "order_id": orders["id"].astype(str).to_numpy(),
            "placed_at": pd.to_datetime(orders["placed_at"]).to_numpy(),
            "value": orders["subtotal"].astype(float).to_numpy()
            * orders["currency"].map(fx).to_numpy(),
        }
    )
    return frame, truth, as_of


def _variant_input(orders: pd.DataFrame, variant: str) -> tuple[pd.DataFrame, bool, bool]:
    """(transactions, use the order column, per_day) for one summary definition."""
    if variant == "orders_continuous":
        return orders, True, False
    if variant == "orders_whole_days":
        return orders.assign(placed_at=orders["placed_at"].dt.floor("D")), True, False
    if variant == "days_continuous":
        day = orders["placed_at"].dt.floor("D")
        grouped = (
            orders.assign(day=day)
            .groupby(["customer", "day"], as_index=False)
            .agg(placed_at=("placed_at", "min"), value=("value", "sum"))
        )
        return grouped.drop(columns="day"), False, False
    return orders, True, True


def summarise_orders(
    orders: pd.DataFrame, variant: str, calibration_end: str
) -> tuple[pd.DataFrame, float]:
    """The summary of one variant through the CLI's own code path; and its seconds."""
    frame, with_order, per_day = _variant_input(orders, variant)
    columns = TransactionColumns(
        "customer", "placed_at", "value", "order_id" if with_order else None
    )
    started = time.perf_counter()
    with duckdb.connect() as con:
        load_transactions(con, frame, columns)
        summary = summarise(con, parse_calibration_end(calibration_end), "days", per_day)
    return summary, time.perf_counter() - started


def _errors(fit: ClvModel, truth: dict[str, Any]) -> dict[str, Any]:
    """Estimates against the truth; relative errors; which targets are met."""
    bg, gg = truth["bgnbd"], truth["gamma_gamma"]
    true = {
        "r": bg["r"],
        "alpha": bg["alpha"],
        "a": bg["a"],
        "b": bg["b"],
        "mean_dropout": bg["a"] / (bg["a"] + bg["b"]),
        "p": gg["p"],
        "q": gg["q"],
        "gamma": gg["gamma"],
    }
    estimate = {
        **fit.bgnbd.params.as_dict(),
        "mean_dropout": fit.bgnbd.params.mean_dropout,
        **fit.gamma_gamma.params.as_dict(),
    }
    errors = {
        **fit.bgnbd.std_errors,
        **fit.gamma_gamma.std_errors,
    }
    rows = {}
    for name, value in true.items():
        rows[name] = {
            "true": value,
            "estimate": estimate[name],
            "relative_error": estimate[name] / value - 1,
            "relative_std_error": errors[name] / estimate[name] if name in errors else None,
        }
    met = {
        name: abs(rows[name]["relative_error"]) <= TARGET_RELATIVE_ERROR
        for name in RECOVERY_TARGETS
    }
    return {"parameters": rows, "within_5pct": met, "all_within_5pct": all(met.values())}


def recover_world(world: Path, seed: int) -> dict[str, Any]:
    """Every recovery figure of one world."""
    settings = ClvSettings()
    started = time.perf_counter()
    orders, truth, as_of = load_world_orders(world)
    result: dict[str, Any] = {
        "world": str(world),
        "orders": len(orders),
        "load_seconds": time.perf_counter() - started,
        "variants": {},
    }
    for variant in VARIANTS:
        summary, seconds = summarise_orders(orders, variant, as_of)
        started = time.perf_counter()
        fit = fit_summary(summary, "days", settings)
        result["variants"][variant] = {
            "customers": len(summary),
            "repeat_customers": int((summary["frequency"] > 0).sum()),
            "summary_seconds": seconds,
            "fit_seconds": time.perf_counter() - started,
            "independence_r": fit.independence.correlation,
            **_errors(fit, truth),
        }
    result["customers"] = result["variants"]["orders_continuous"]["customers"]

    # Control: the same orders with values drawn from the stated Gamma(p, ν_person).
    people = pd.read_parquet(world / "truth" / "people.parquet", columns=["person_id", "gg_nu"])
    rng = np.random.default_rng(seed)
    nu = orders["customer"].map(people.set_index("person_id")["gg_nu"]).to_numpy()
    drawn = orders.assign(value=rng.gamma(truth["gamma_gamma"]["p"], 1.0 / nu))
    control, _ = summarise_orders(drawn, "orders_continuous", as_of)
    control_fit = fit_gamma_gamma(control["frequency"], control["monetary_value"])
    gg_truth = truth["gamma_gamma"]
    result["gamma_gamma_control"] = {
        name: {
            "true": gg_truth[name],
            "estimate": value,
            "relative_error": value / gg_truth[name] - 1,
        }
        for name, value in control_fit.params.as_dict().items()
    }
    per_order = orders["value"].to_numpy() * nu
    result["order_value_times_nu"] = {
        "mean": float(per_order.mean()),
        "variance": float(per_order.var()),
        "stated_p": gg_truth["p"],
        "quantiles_1_5_50_95_99": [
            float(q) for q in np.quantile(per_order, [0.01, 0.05, 0.5, 0.95, 0.99])
        ],
    }

    # Holdout: calibrated half a year before the as-of, the last half year predicted.
    end_at = parse_calibration_end(as_of).at - dt.timedelta(days=HOLDOUT_DAYS)
    end = parse_calibration_end(end_at.isoformat())
    with duckdb.connect() as con:
        load_transactions(
            con, orders, TransactionColumns("customer", "placed_at", "value", "order_id")
        )
        calibration = summarise(con, end, "days")
        held, stop = holdout_purchases(con, end, parse_calibration_end(as_of).at) or (None, None)
    calibration_fit = fit_summary(calibration, "days", settings)
    report = holdout_report(
        calibration, held, calibration_fit.bgnbd.params, (stop - end.at).total_seconds() / 86400
    )
    result["holdout"] = {
        "calibration_end": end.at.isoformat(),
        "days": HOLDOUT_DAYS,
        "by_frequency": report.to_dict(orient="records"),
    }
    return result


# --- time ---------------------------------------------------------------------------------------


def _rss_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process from /proc, in MiB.

    Not ``ru_maxrss``: Linux carries it over from the parent through fork and exec, so a
    child of a parent that held a world in memory would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def task_closedloop(params: dict[str, Any]) -> dict[str, Any]:
    """Fit both models and score every customer with closedloop."""
    summary = pd.read_parquet(params["summary"])
    settings = ClvSettings()
    rss_before = _rss_mb("VmRSS")
    started = time.perf_counter()
    model = fit_summary(summary, "days", settings)
    fitted = time.perf_counter()
    predictions = score(summary, model.bgnbd.params, model.gamma_gamma.params, settings, "days")
    done = time.perf_counter()
    return {
        "fit_seconds": fitted - started,
        "score_seconds": done - fitted,
        "seconds": done - started,
        "rss_after_read_mb": rss_before,
        "bgnbd": model.bgnbd.params.as_dict(),
        "gamma_gamma": model.gamma_gamma.params.as_dict(),
        "iterations": {
            "bgnbd": model.bgnbd.iterations,
            "gamma_gamma": model.gamma_gamma.iterations,
        },
        "mean_clv_12m": float(predictions["clv_12m"].mean()),
        "mean_expected_purchases_365d": float(predictions["expected_purchases_365d"].mean()),
    }


def task_lifetimes(params: dict[str, Any]) -> dict[str, Any]:
    """The same work with lifetimes 0.11 (its CLV uses 30-day months)."""
    import warnings

    from lifetimes import BetaGeoFitter, GammaGammaFitter

    warnings.simplefilter("ignore")
    summary = pd.read_parquet(params["summary"])
    x, t_x, age, zbar = (summary[c] for c in ("frequency", "recency", "T", "monetary_value"))
    repeat = x > 0
    rss_before = _rss_mb("VmRSS")
    started = time.perf_counter()
    bgf = BetaGeoFitter().fit(x, t_x, age)
    ggf = GammaGammaFitter().fit(x[repeat], zbar[repeat])
    fitted = time.perf_counter()
    alive = bgf.conditional_probability_alive(x, t_x, age)
    bgf.conditional_expected_number_of_purchases_up_to_time(90, x, t_x, age)
    year = bgf.conditional_expected_number_of_purchases_up_to_time(365, x, t_x, age)
    ggf.conditional_expected_average_profit(x, zbar)
    clv = ggf.customer_lifetime_value(bgf, x, t_x, age, zbar, time=12, discount_rate=0.01, freq="D")
    done = time.perf_counter()
    return {
        "fit_seconds": fitted - started,
        "score_seconds": done - fitted,
        "seconds": done - started,
        "rss_after_read_mb": rss_before,
        "bgnbd": bgf.params_.to_dict(),
        "gamma_gamma": {"p": ggf.params_["p"], "q": ggf.params_["q"], "gamma": ggf.params_["v"]},
        "mean_clv_12m": float(np.mean(clv)),
        "mean_expected_purchases_365d": float(np.mean(year)),
        "mean_p_alive": float(np.mean(alive)),
    }


TASKS = {"closedloop": task_closedloop, "lifetimes": task_lifetimes}


def run_child(task: str, params: dict[str, Any], timeout: float, log: Path) -> dict[str, Any]:
    """One task in its own interpreter, so its peak memory and imports are its own."""
    with tempfile.TemporaryDirectory(prefix="closedloop-clv-bench-") as tmp:
        result_file = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.clv",
            "--child",
            task,
            json.dumps(params),
            str(result_file),
        ]
        started = time.perf_counter()
        with log.open("w") as err:
            try:
                code = subprocess.run(
                    cmd, cwd=PROJECT_ROOT, stdout=err, stderr=subprocess.STDOUT, timeout=timeout
                ).returncode
            except subprocess.TimeoutExpired:
                return {"failed": f"timed out after {timeout:.0f} s (log {log})"}
        if code != 0 or not result_file.exists():
            return {"failed": f"exit code {code}: {log.read_text()[-2000:]}"}
        payload = json.loads(result_file.read_text())
    payload["process_wall_seconds"] = time.perf_counter() - started
    return payload


def time_against_lifetimes(customers: int, seed: int, work: Path) -> dict[str, Any]:
    """Simulate the summary once; time closedloop and lifetimes on it."""
    truth_bg = BgNbdParams(r=0.6, alpha=55.0, a=0.9, b=3.6)
    truth_gg = GammaGammaParams(p=6.0, q=3.5, gamma=500.0)
    started = time.perf_counter()
    summary = simulate_customers(customers, truth_bg, truth_gg, max_age=1000.0, seed=seed)
    path = work / f"summary-{customers}.parquet"
    summary[["customer_id", "frequency", "recency", "T", "monetary_value"]].to_parquet(path)
    result: dict[str, Any] = {
        "customers": customers,
        "repeat_customers": int((summary["frequency"] > 0).sum()),
        "simulate_seconds": time.perf_counter() - started,
        "truth": {"bgnbd": truth_bg.as_dict(), "gamma_gamma": truth_gg.as_dict()},
    }
    for task in TASKS:
        console.print(f"[bold]{task}[/] fit + score of {customers:,} customers")
        result[task] = run_child(task, {"summary": str(path)}, 3600, work / f"{task}.log")
    ours, theirs = result["closedloop"], result["lifetimes"]
    if "seconds" in ours and "seconds" in theirs:
        result["ratio_closedloop_to_lifetimes"] = ours["seconds"] / theirs["seconds"]
        result["max_parameter_difference"] = max(
            abs(ours[model][name] / theirs[model][name] - 1)
            for model in ("bgnbd", "gamma_gamma")
            for name in ours[model]
        )
    return result


# --- reporting ----------------------------------------------------------------------------------


def recovery_table(label: str, res: dict[str, Any]) -> Table:
    """Relative error per parameter and summary definition."""
    table = Table(title=f"CLV parameter recovery — {label} ({res['customers']:,} customers)")
    table.add_column("summary")
    for name in RECOVERY_TARGETS:
        table.add_column(name, justify="right")
    table.add_column("all ≤ 5 %")
    for variant, block in res["variants"].items():
        cells = [
            f"{block['parameters'][name]['relative_error']:+.1%}"
            + ("" if block["within_5pct"][name] else " ✗")
            for name in RECOVERY_TARGETS
        ]
        table.add_row(VARIANTS[variant], *cells, "yes" if block["all_within_5pct"] else "no")
    control = res["gamma_gamma_control"]
    table.add_row(
        "control: values re-drawn from Gamma(p, ν)",
        "",
        "",
        "",
        *(f"{control[n]['relative_error']:+.1%}" for n in ("p", "q", "gamma")),
        "",
    )
    return table


def _cell(row: dict[str, Any]) -> str:
    error = row["relative_std_error"]
    return f"{row['relative_error']:+.2%}" + (f" (±{error:.1%})" if error is not None else "")


def markdown(results: dict[str, Any]) -> str:
    """The Markdown summary written next to the JSON."""
    lines = [
        f"# CLV benchmark {results['started_at']}",
        "",
        f"Machine: {results['machine']}",
        f"Code: {results['code']}",
        "",
    ]
    for label, res in results["recovery"].items():
        lines += [
            f"## Recovery: {label} ({res['customers']:,} customers, {res['orders']:,} orders)",
            "",
            "| summary | " + " | ".join(RECOVERY_TARGETS) + " | all ≤ 5 % |",
            "|---|" + "---:|" * len(RECOVERY_TARGETS) + "---|",
        ]
        for variant, block in res["variants"].items():
            cells = [_cell(block["parameters"][n]) for n in RECOVERY_TARGETS]
            lines.append(
                f"| {VARIANTS[variant]} | "
                + " | ".join(cells)
                + f" | {'yes' if block['all_within_5pct'] else 'no'} |"
            )
        control = res["gamma_gamma_control"]
        lines.append(
            "| control: order values re-drawn from Gamma(p, ν) | | | | "
            + " | ".join(f"{control[n]['relative_error']:+.2%}" for n in ("p", "q", "gamma"))
            + " | |"
        )
        stats = res["order_value_times_nu"]
        lines += [
            "",
            "(± = the fit's own standard error, relative.) Order value × true ν per order: "
            f"mean {stats['mean']:.3f}, variance {stats['variance']:.3f} (Gamma(p={stats['stated_p']}) "
            f"would give {stats['stated_p']} and {stats['stated_p']}); quantiles 1/5/50/95/99 % "
            + ", ".join(f"{q:.2f}" for q in stats["quantiles_1_5_50_95_99"]),
            "",
            f"Holdout ({res['holdout']['days']} days after {res['holdout']['calibration_end']}):",
            "",
            "| repeat purchases in calibration | customers | actual mean | predicted mean |",
            "|---:|---:|---:|---:|",
        ]
        for row in res["holdout"]["by_frequency"]:
            lines.append(
                f"| {row['frequency_bucket']} | {row['customers']:,} | {row['actual_mean']:.3f} | "
                f"{row['predicted_mean']:.3f} |"
            )
        lines.append("")
    timing = results.get("timing")
    if timing:
        lines += [
            f"## Fit + score of {timing['customers']:,} simulated customers "
            f"({timing['repeat_customers']:,} repeat)",
            "",
            "| library | fit s | score s | total s | peak RSS MiB | RSS after reading MiB |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for task in TASKS:
            block = timing[task]
            if "seconds" in block:
                lines.append(
                    f"| {task} | {block['fit_seconds']:.1f} | {block['score_seconds']:.1f} | "
                    f"{block['seconds']:.1f} | {block['max_rss_mb']:.0f} | "
                    f"{block['rss_after_read_mb']:.0f} |"
                )
            else:
                lines.append(f"| {task} | failed: {block.get('failed', '')[:200]} | | | | |")
        if "ratio_closedloop_to_lifetimes" in timing:
            lines += [
                "",
                f"closedloop ÷ lifetimes: {timing['ratio_closedloop_to_lifetimes']:.2f}× "
                f"(target ≤ {TARGET_SECONDS:.0f} s for 1M: "
                f"{'met' if timing['closedloop']['seconds'] <= TARGET_SECONDS else 'missed'}); "
                f"largest parameter difference between the two: "
                f"{timing['max_parameter_difference']:.2e}.",
            ]
        lines.append("")
    return "\n".join(lines)


def _sizes(values: list[str]) -> list[int]:
    out = []
    for value in values:
        for part in value.split(","):
            part = part.strip().lower()
            if part:
                scale = {"k": 1_000, "m": 1_000_000}.get(part[-1], 1)
                out.append(int(float(part.rstrip("km")) * scale))
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        _, task, params, result_file = argv
        payload = TASKS[task](json.loads(params))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        payload["max_rss_mb"] = _rss_mb("VmHWM")
        payload["cpu_seconds"] = usage.ru_utime + usage.ru_stime
        Path(result_file).write_text(json.dumps(payload, default=float))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--people", nargs="*", default=["50000"], help="worlds to generate (50000,1M)"
    )
    parser.add_argument("--world", type=Path, action="append", default=[], help="an existing world")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--customers", type=int, default=1_000_000, help="timing size (0: skip)")
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep generated worlds")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    results: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine_info(),
        "code": code_fingerprint("orchestration/clv", "sandbox"),
        "recovery": {},
    }
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="closedloop-clv-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[str, Path, bool]] = [(w.name, w, False) for w in args.world]
    jobs += [(f"{n:,} people", work / f"world-{n}", True) for n in _sizes(args.people)]
    for label, world, generated in jobs:
        if generated and not (world / "world.json").exists():
            from sandbox.world import generate

            people = int(label.split()[0].replace(",", ""))
            console.print(f"[bold]generate[/] {people:,} people (seed {args.seed})")
            began = time.perf_counter()
            generate(people, args.seed, world)
            console.print(f"generated in {time.perf_counter() - began:.0f} s")
        console.print(f"[bold]recover[/] {label}")
        res = recover_world(world, args.seed)
        results["recovery"][label] = res
        console.print(recovery_table(label, res))
        if generated and not args.keep:
            shutil.rmtree(world, ignore_errors=True)
    if args.customers > 0:
        results["timing"] = time_against_lifetimes(args.customers, args.seed, work)
        timing = results["timing"]
        for task in TASKS:
            block = timing[task]
            if "seconds" in block:
                console.print(
                    f"{task}: fit {block['fit_seconds']:.1f} s + score {block['score_seconds']:.1f} s "
                    f"= {block['seconds']:.1f} s, peak RSS {block['max_rss_mb']:.0f} MiB"
                )
            else:
                console.print(f"[red]{task} failed:[/] {block['failed']}")
        if "ratio_closedloop_to_lifetimes" in timing:
            console.print(
                f"closedloop ÷ lifetimes = {timing['ratio_closedloop_to_lifetimes']:.2f}×"
            )
    out = args.out or RESULTS_DIR / f"clv-{started.date().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    out.with_suffix(".md").write_text(markdown(results))
    console.print(f"results: {out} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
