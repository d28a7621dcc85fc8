"""``make bench``: world generation, dlt ingestion and direct DuckDB loads, timed side by side.

For every world size:

1. ``generate(N, seed, dir)`` in a child process: seconds, peak RSS, rows per system table.
2. The vendor API emulator starts in its own process (``closedloop sandbox serve`` with a
   high ``--rate-limit-scale``, so vendor rate limits do not dominate); its caches are warmed
   with one page of every stream, so no measured run pays the emulator's lazy table loads.
3. Per role, each in a child process with peak RSS measured:
   - the dlt pipeline into a fresh DuckDB file (rows from ``last_normalize_info``),
   - the direct file baseline (``read_parquet`` / ``read_json`` / sqlite3 → Arrow),
   - for the REST roles, the same-transport baseline (plain ``requests`` for the same pages,
     bodies to disk, ``read_json``).
4. A rich table on the console, JSON (and a Markdown summary) under ``benchmarks/results``.

Usage::

    python -m benchmarks.run --people 20000            # quick mode, about a minute
    python -m benchmarks.run --people 100000,1000000   # what ``make bench`` runs
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.table import Table

from benchmarks.measure import (
    PROJECT_ROOT,
    ChildFailedError,
    ChildResult,
    CpuWatch,
    code_fingerprint,
    dir_size_mb,
    machine_info,
    run_child,
)

# Wide enough for the ingestion table when the output is a pipe or a narrow terminal.
console = Console(width=max(shutil.get_terminal_size((180, 40)).columns, 180))

ALL_ROLES: tuple[str, ...] = ("crm", "shop", "esp", "helpdesk", "web")
REST_ROLES: tuple[str, ...] = ("crm", "esp", "helpdesk")
RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"
# The target: dlt ingestion takes at most this multiple of a direct DuckDB load.
TARGET_RATIO = 3.0
# Vendor limits ×1000: e.g. Zendesk's 10 incremental-export requests a minute become
# 10,000, so a benchmark measures throughput, not politeness.
DEFAULT_RATE_LIMIT_SCALE = 1000.0


# ---------------------------------------------------------------------------- helpers


def _people(text: str) -> list[int]:
    """Parse ``20000``, ``100k,1M`` or ``100_000`` into a list of sizes."""
    sizes = []
    for raw in text.split(","):
        item = raw.strip().lower().replace("_", "")
        if not item:
            continue
        factor = 1
        if item.endswith("k"):
            factor, item = 1_000, item[:-1]
        elif item.endswith("m"):
            factor, item = 1_000_000, item[:-1]
        sizes.append(int(float(item) * factor))
    if not sizes:
        raise argparse.ArgumentTypeError("give at least one world size")
    return sizes


def _roles(text: str) -> list[str]:
    roles = [r.strip() for r in text.split(",") if r.strip()]
    unknown = sorted(set(roles) - set(ALL_ROLES))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown roles {unknown}; choose from {ALL_ROLES}")
    return roles


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1.0)
    raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")


def _importable(module: str, attrs: tuple[str, ...]) -> bool:
    """Whether ``module`` imports in a fresh interpreter and has ``attrs``.

    A fresh interpreter, because other engineers' modules are still landing: a failed
    import must not leave half-initialised modules in this process.
    """
    code = f"import {module} as m; assert all(hasattr(m, a) for a in {attrs!r})"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, check=False
    )
    return done.returncode == 0


def wait_for_components(roles: list[str], timeout: float) -> None:
    """Poll until the world generator, the emulator and the pipelines import.

    Args:
        roles: Roles whose source modules must import.
        timeout: Seconds to wait in total.
    """
    needs: list[tuple[str, tuple[str, ...]]] = [
        ("sandbox.world", ("generate",)),
        ("sandbox.emulator", ("serve",)),
        ("pipelines.factory", ("make_pipeline", "make_source")),
        *[(f"pipelines.{role}", ()) for role in roles],
    ]
    for module, attrs in needs:
        if not _importable(module, attrs):
            console.print(f"[yellow]waiting for {module} to become importable…[/]")
            _wait_until(lambda m=module, a=attrs: _importable(m, a), timeout, module)


# --------------------------------------------------------------------------- emulator


class Emulator:
    """The vendor API emulator in its own process (``closedloop sandbox serve``).

    Its own process, because an emulator thread inside the dlt process would share the GIL
    with extraction and normalisation and make both look slower than they are.

    Args:
        world: World directory to serve.
        rate_limit_scale: Multiplier on every vendor rate limit.
        log: File receiving the server's output.
    """

    def __init__(self, world: Path, rate_limit_scale: float, log: Path) -> None:
        self.world = world
        self.rate_limit_scale = rate_limit_scale
        self.log = log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Emulator:
        cmd = [sys.executable, "-m", "orchestration.cli", "sandbox", "serve"]
        cmd += ["--world", str(self.world), "--port", str(self.port)]
        cmd += ["--rate-limit-scale", str(self.rate_limit_scale)]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=out, stderr=out)
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/_sandbox/health", timeout=2).ok:
                    break
            if self.proc.poll() is not None:
                raise RuntimeError(f"emulator exited early; see {self.log}")
            if time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"emulator not healthy after 120 s; see {self.log}")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.proc is not None
        return self.proc.pid

    def reset_stats(self) -> None:
        """Zero the server's request counters."""
        requests.delete(f"{self.url}/_sandbox/stats", timeout=10).raise_for_status()

    def stats(self) -> dict[str, Any]:
        """Requests served, 429s and 5xx since the last reset."""
        body: dict[str, Any] = requests.get(f"{self.url}/_sandbox/stats", timeout=10).json()
        return {
            "requests": int(body.get("total", 0)),
            "rate_limited": int(body.get("rate_limited", 0)),
            "server_errors": int(body.get("server_errors", 0)),
        }


# ------------------------------------------------------------------------ measurement


def _summary(child: ChildResult) -> dict[str, Any]:
    """The figures of one measured child, in the shape the report uses."""
    payload = dict(child.payload)
    rows = payload.pop("rows", {}) or {}
    total = int(sum(rows.values()))
    seconds = float(payload.pop("seconds"))
    payload.pop("profile", None)
    return {
        "seconds": round(seconds, 3),
        "rows": total,
        "rows_per_s": round(total / seconds) if seconds > 0 else None,
        "peak_rss_mb": round(child.peak_rss_mb, 1),
        "process_wall_seconds": round(child.wall_seconds, 3),
        "tables": rows,
        **{k: v for k, v in payload.items() if k not in ("max_rss_children_mb",)},
    }


def _measure(
    task: str,
    params: dict[str, Any],
    logs: Path,
    timeout: float,
    emulator: Emulator | None = None,
) -> dict[str, Any]:
    """Run a child task, with the emulator's request counters and CPU time around it.

    A failing task is recorded (``error`` with the log's last line) instead of aborting
    the whole benchmark: one broken source must not hide the figures of the others.
    """
    label = "-".join(str(x) for x in (task, params.get("role"), params.get("label")) if x)
    try:
        return _measure_child(task, params, logs, timeout, emulator, label)
    except ChildFailedError as exc:
        last = [line for line in str(exc).splitlines() if line.strip()]
        console.print(f"  [red]{label} failed[/]: {last[-1] if last else exc}")
        return {"error": last[-1] if last else str(exc), "log": str(logs / f"{label}.log")}


def _measure_child(
    task: str,
    params: dict[str, Any],
    logs: Path,
    timeout: float,
    emulator: Emulator | None,
    label: str,
) -> dict[str, Any]:
    if emulator is not None:
        emulator.reset_stats()
        with CpuWatch(emulator.pid) as cpu:
            child = run_child(task, params, timeout=timeout, log_path=logs / f"{label}.log")
        result = _summary(child)
        result["emulator"] = {
            **emulator.stats(),
            "cpu_seconds": round(cpu.seconds, 2),
            "rss_mb_after": round(cpu.rss_mb, 1),
        }
    else:
        child = run_child(task, params, timeout=timeout, log_path=logs / f"{label}.log")
        result = _summary(child)
    if child.payload.get("profile"):
        (logs / f"{label}.profile.txt").write_text(
            "\n".join(f"== by {k}\n{v}" for k, v in child.payload["profile"].items())
        )
    return result


def _stage_seconds(spans: dict[str, list[float]], total: float) -> dict[str, float]:
    """Seconds per generator stage: from its first progress report to the next stage's first.

    A stage's own first-to-last span would miss the work after its last report.
    """
    starts = sorted((span[0], name) for name, span in spans.items())
    out: dict[str, float] = {}
    for i, (start, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else total
        out[name] = round(end - start, 2)
    return out


def bench_generation(
    people: int, seed: int, world: Path, logs: Path, timeout: float
) -> dict[str, Any]:
    """Generate the world of one size in a child process and measure it."""
    if world.exists():
        shutil.rmtree(world)
    child = run_child(
        "generate",
        {"people": people, "seed": seed, "out": str(world)},
        timeout=timeout,
        log_path=logs / "generate.log",
    )
    counts: dict[str, int] = child.payload.get("counts", {})
    rows = int(sum(counts.values()))
    seconds = float(child.payload["seconds"])
    return {
        "seconds": round(seconds, 3),
        "rows": rows,
        "rows_per_s": round(rows / seconds) if seconds else None,
        "peak_rss_mb": round(child.peak_rss_mb, 1),
        "cpu_seconds": round(float(child.payload.get("cpu_seconds", 0.0)), 2),
        "process_wall_seconds": round(child.wall_seconds, 3),
        "stages": _stage_seconds(child.payload.get("stage_spans", {}), seconds),
        "tables": counts,
        "world_mb": round(dir_size_mb(world), 1),
    }


def _warm(emulator: Emulator, roles: list[str], world: Path) -> dict[str, float]:
    """One page of every stream the REST pipelines read, so the emulator builds its caches.

    The emulator loads a table and builds its sorted views on first use; without this the
    first measured run of a role would pay for it and the second would not.
    """
    from benchmarks.baselines import fetch_pages
    from orchestration.environment import sandbox_source_env

    env = sandbox_source_env(emulator.url, world)
    seconds: dict[str, float] = {}
    for role in roles:
        if role in REST_ROLES:
            started = time.perf_counter()
            fetch_pages(role, env, None, max_pages=1)
            seconds[role] = round(time.perf_counter() - started, 2)
    return seconds


def bench_world(
    args: argparse.Namespace,
    people: int,
    workdir: Path,
    checkpoint: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Every measurement for one world size.

    Args:
        args: The parsed command line.
        people: World size.
        workdir: Where the world, warehouses and logs go.
        checkpoint: Called with the figures so far after every role, so that a run stopped
            half-way through a large world still leaves its measurements on disk.

    Returns:
        The figures of this world size.
    """
    base = workdir / f"people-{people}"
    world = base / "world"
    logs = base / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {
        "people": people,
        "seed": args.seed,
        # Per size: other engineers' code may change between two sizes of one run.
        "code": code_fingerprint("pipelines", "sandbox"),
        "roles": {},
    }

    if args.reuse_world and (world / "world.json").exists():
        console.print(f"[dim]{people:,} people: reusing {world}[/]")
        out["generation"] = None
    else:
        console.print(f"[bold]{people:,} people[/]: generating world…")
        gen = bench_generation(people, args.seed, world, logs, args.step_timeout)
        out["generation"] = gen
        console.print(
            f"  generated {gen['rows']:,} rows in {gen['seconds']:.1f} s "
            f"({gen['rows_per_s']:,} rows/s, peak {gen['peak_rss_mb']:,.0f} MiB)"
        )

    with Emulator(world, args.rate_limit_scale, logs / "emulator.log") as emulator:
        started = time.perf_counter()
        out["emulator_warmup_seconds"] = _warm(emulator, args.roles, world)
        console.print(
            f"  emulator on {emulator.url} warmed in {time.perf_counter() - started:.1f} s"
        )
        for role in args.roles:
            out["roles"][role] = bench_role(args, role, emulator, world, base, logs)
            if checkpoint is not None:
                checkpoint(out)
    if not args.keep and out["generation"] is not None:
        # Worlds run to gigabytes at a million people; the logs stay for post-mortems. A
        # reused world belongs to whoever generated it and is left alone.
        shutil.rmtree(world, ignore_errors=True)
    return out


def _ok(step: dict[str, Any] | None) -> bool:
    """Whether a measured step ran (it is neither missing nor an ``error`` record)."""
    return step is not None and "error" not in step


def _say(role: str, label: str, step: dict[str, Any]) -> None:
    if _ok(step):
        console.print(f"  {role:9s} {label:7s} {step['seconds']:8.1f} s  {step['rows']:>11,} rows")


def bench_role(
    args: argparse.Namespace,
    role: str,
    emulator: Emulator,
    world: Path,
    base: Path,
    logs: Path,
) -> dict[str, Any]:
    """dlt ingestion of one role and its baselines."""
    runs = base / "runs" / role
    if runs.exists():
        shutil.rmtree(runs)
    runs.mkdir(parents=True)
    common = {"role": role, "world": str(world), "url": emulator.url}
    uses_api = role in REST_ROLES
    result: dict[str, Any] = {}

    dlt_params = {
        **common,
        "warehouse": str(runs / "dlt.duckdb"),
        "pipelines_dir": str(runs / "dlt_pipelines"),
    }
    if args.profile:
        dlt_params["profile"] = str(logs / f"ingest-{role}.pstats")
    if args.skip_shipped:
        result["dlt"] = {"error": "not measured (--skip-shipped)"}
    else:
        result["dlt"] = _measure(
            "ingest", dlt_params, logs, args.step_timeout, emulator if uses_api else None
        )
    if _ok(result["dlt"]):
        result["dlt"]["warehouse_mb"] = round((runs / "dlt.duckdb").stat().st_size / 2**20, 1)
    _say(role, "dlt", result["dlt"])
    # The same pipeline with another preferred load-file format, each into its own fresh
    # warehouse and working directory. Resources with their own ``file_format`` hint may keep
    # it; ``loader_file_formats`` in the results shows what was really loaded.
    result["variants"] = {}
    for fmt in args.loader_formats:
        variant = runs / f"dlt-{fmt}"
        params = {
            **common,
            "warehouse": str(variant / "dlt.duckdb"),
            "pipelines_dir": str(variant / "dlt_pipelines"),
            "loader_file_format": fmt,
            "label": fmt,
        }
        if args.profile:
            params["profile"] = str(logs / f"ingest-{role}-{fmt}.pstats")
        result["variants"][fmt] = _measure(
            "ingest", params, logs, args.step_timeout, emulator if uses_api else None
        )
        _say(role, fmt[:7], result["variants"][fmt])

    result["files"] = _measure(
        "files", {**common, "db": str(runs / "files.duckdb")}, logs, args.step_timeout
    )
    _say(role, "files", result["files"])
    if uses_api and not args.skip_http:
        result["http"] = _measure(
            "http",
            {**common, "db": str(runs / "http.duckdb"), "scratch": str(runs / "pages")},
            logs,
            args.step_timeout,
            emulator,
        )
        _say(role, "http", result["http"])
    for run in (result["dlt"], *result["variants"].values()):
        if not _ok(run):
            continue
        if _ok(result["files"]):
            run["ratio_files"] = round(run["seconds"] / result["files"]["seconds"], 2)
        if _ok(result.get("http")):
            run["ratio_http"] = round(run["seconds"] / result["http"]["seconds"], 2)
            # The http baseline is only a fair yardstick if it asked for the same pages.
            run["same_requests"] = (
                run["emulator"]["requests"] == result["http"]["emulator"]["requests"]
            )
            if not run["same_requests"]:
                console.print(
                    f"  [yellow]{role}: dlt made {run['emulator']['requests']:,} requests, the "
                    f"http baseline {result['http']['emulator']['requests']:,}; "
                    "benchmarks/baselines.py no longer mirrors the source[/]"
                )
    result["ratio_files"] = result["dlt"].get("ratio_files")
    result["ratio_http"] = result["dlt"].get("ratio_http")
    if not args.keep:
        shutil.rmtree(runs, ignore_errors=True)
    return result


def _same_source(r: dict[str, Any]) -> dict[str, Any] | None:
    """The baseline reading from where dlt reads: the API for REST roles, else the files."""
    return r.get("http") if "http" in r else r.get("files")


def _totals(roles: dict[str, dict[str, Any]], pick: Any) -> dict[str, Any]:
    """Summed seconds and rows of the runs ``pick(role_result)`` returns, with ratios.

    Only roles where this run and both relevant baselines succeeded are summed (the others
    are listed under ``missing``), so a failed step cannot flatter or spoil the ratio.
    """
    done = {
        name: r
        for name, r in roles.items()
        if _ok(pick(r)) and _ok(r["files"]) and _ok(_same_source(r))
    }
    dlt_s = sum(pick(r)["seconds"] for r in done.values())
    files_s = sum(r["files"]["seconds"] for r in done.values())
    same_s = sum(_same_source(r)["seconds"] for r in done.values())  # type: ignore[index]
    rows = sum(pick(r)["rows"] for r in done.values())
    return {
        "roles": sorted(done),
        "missing": sorted(set(roles) - set(done)),
        "seconds": round(dlt_s, 2),
        "rows": rows,
        "rows_per_s": round(rows / dlt_s) if dlt_s else None,
        "files_seconds": round(files_s, 2),
        "same_source_seconds": round(same_s, 2),
        "ratio_files": round(dlt_s / files_s, 2) if files_s else None,
        "ratio_same_source": round(dlt_s / same_s, 2) if same_s else None,
    }


def overall(world: dict[str, Any]) -> dict[str, Any]:
    """Totals over the roles of one world size, and the ratios the target is judged on.

    ``same_source`` compares dlt with the baseline reading from where dlt reads: the API
    for REST roles, the files for shop and web.
    """
    roles = world["roles"]
    formats = sorted({f for r in roles.values() for f in r.get("variants", {})})
    return {
        "target_ratio": TARGET_RATIO,
        "shipped": _totals(roles, lambda r: r["dlt"]),
        "variants": {
            fmt: _totals(roles, lambda r, f=fmt: r.get("variants", {}).get(f)) for fmt in formats
        },
    }


# ---------------------------------------------------------------------------- report


def _fmt_ratio(value: float | None, rich: bool = True) -> str:
    if value is None:
        return "–"
    if not rich:
        return f"{value:.1f}×"
    colour = "green" if value <= TARGET_RATIO else "red"
    return f"[{colour}]{value:.1f}×[/]"


def _cell(step: dict[str, Any] | None, key: str, fmt: str) -> str:
    if step is None:
        return "–"
    if "error" in step:
        return "not run" if str(step["error"]).startswith("not measured") else "failed"
    value = step.get(key)
    return "–" if value is None else format(value, fmt)


INGEST_COLUMNS = (
    "people",
    "role",
    "dlt rows",
    "dlt s",
    "dlt rows/s",
    "dlt peak RSS MiB",
    "files s",
    "dlt ÷ files",
    "http s",
    "dlt ÷ http",
    "requests dlt / http",
    "emulator CPU s",
)


def _ingest_rows(world: dict[str, Any], rich: bool) -> list[list[str]]:
    """One row per role and dlt variant, then the totals, as display strings."""
    people = f"{world['people']:,}" + (" (partial)" if world.get("partial") else "")
    out: list[list[str]] = []
    for role, r in world["roles"].items():
        http = r.get("http")
        runs = [("", r["dlt"]), *((f" ({f})", v) for f, v in r.get("variants", {}).items())]
        for suffix, d in runs:
            reqs = "–"
            if _ok(d) and _ok(http):
                reqs = f"{d['emulator']['requests']:,} / {http['emulator']['requests']:,}"  # type: ignore[index]
            emu = d.get("emulator", {}).get("cpu_seconds") if _ok(d) else None
            out.append(
                [
                    people,
                    role + suffix,
                    _cell(d, "rows", ","),
                    _cell(d, "seconds", ".1f"),
                    _cell(d, "rows_per_s", ","),
                    _cell(d, "peak_rss_mb", ",.0f"),
                    _cell(r["files"], "seconds", ".2f"),
                    _fmt_ratio(d.get("ratio_files"), rich),
                    _cell(http, "seconds", ".1f"),
                    _fmt_ratio(d.get("ratio_http"), rich),
                    reqs,
                    "–" if emu is None else f"{emu:.1f}",
                ]
            )
    o = world["overall"]
    for suffix, t in [("", o["shipped"]), *((f" ({f})", v) for f, v in o["variants"].items())]:
        if not t["roles"]:
            continue
        missing = f" (without {', '.join(t['missing'])})" if t["missing"] else ""
        out.append(
            [
                people,
                ("[bold]all[/]" if rich else "**all**") + suffix + missing,
                f"{t['rows']:,}",
                f"{t['seconds']:.1f}",
                f"{t['rows_per_s'] or 0:,}",
                "",
                f"{t['files_seconds']:.2f}",
                _fmt_ratio(t["ratio_files"], rich),
                f"{t['same_source_seconds']:.1f}¹",
                _fmt_ratio(t["ratio_same_source"], rich),
                "",
                "",
            ]
        )
    return out


def print_report(results: dict[str, Any]) -> None:
    """Rich tables of generation and ingestion figures."""
    gen = Table(title="World generation (child process)")
    for col in ("people", "seconds", "rows", "rows/s", "peak RSS MiB", "world MiB"):
        gen.add_column(col, justify="right")
    for world in results["worlds"]:
        g = world.get("generation")
        if g:
            gen.add_row(
                f"{world['people']:,}",
                f"{g['seconds']:.1f}",
                f"{g['rows']:,}",
                f"{g['rows_per_s']:,}",
                f"{g['peak_rss_mb']:,.0f}",
                f"{g['world_mb']:,.0f}",
            )
    console.print(gen)

    ing = Table(title=f"Ingestion: dlt vs direct DuckDB (target ≤ {TARGET_RATIO:.0f}×)")
    for col in INGEST_COLUMNS:
        ing.add_column(col, justify="left" if col == "role" else "right")
    for world in results["worlds"]:
        rows = _ingest_rows(world, rich=True)
        for i, row in enumerate(rows):
            ing.add_row(*row, end_section=i == len(rows) - 1)
    console.print(ing)
    console.print(
        "¹ same-source total: the http baseline for crm/esp/helpdesk, the files baseline for "
        "shop/web. Ratios over 3× in red."
    )


def markdown(results: dict[str, Any]) -> str:
    """The same figures as Markdown tables, for ``benchmarks/README.md``."""
    m = results["machine"]
    runs: dict[tuple[str, str], list[str]] = {}
    for w in results["worlds"]:
        key = (w.get("started_at", ""), w.get("command", ""))
        runs.setdefault(key, []).append(f"{w['people']:,}")
    lines = [
        *(
            f"- {', '.join(sizes)} people: `{command}` (started {started})"
            for (started, command), sizes in sorted(runs.items())
        ),
        "",
        f"Machine: {m['cpus']} cores ({m['cpu_model']}), {m['memory_gib']} GiB RAM, "
        f"Python {m['python']}, dlt {m['dlt']}, duckdb {m['duckdb']}, pyarrow {m['pyarrow']}.",
        "",
        "| people | generation s | rows | rows/s | peak RSS MiB | world MiB |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for w in results["worlds"]:
        g = w.get("generation")
        if g:
            lines.append(
                f"| {w['people']:,} | {g['seconds']:.1f} | {g['rows']:,} | {g['rows_per_s']:,}"
                f" | {g['peak_rss_mb']:,.0f} | {g['world_mb']:,.0f} |"
            )
    lines += [
        "",
        "| " + " | ".join(INGEST_COLUMNS) + " |",
        "|" + "|".join("---" if c == "role" else "---:" for c in INGEST_COLUMNS) + "|",
    ]
    for w in results["worlds"]:
        lines += ["| " + " | ".join(row) + " |" for row in _ingest_rows(w, rich=False)]
    lines += [
        "",
        "¹ same-source total: the http baseline for crm/esp/helpdesk, the files baseline for "
        "shop/web.",
    ]
    return "\n".join(lines) + "\n"


def _merge_results(path: Path, new: dict[str, Any]) -> dict[str, Any]:
    """Keep earlier world sizes of the same day's file; replace the sizes measured again."""
    if not path.exists():
        return new
    try:
        old = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return new
    measured = {w["people"] for w in new["worlds"]}
    kept = [w for w in old.get("worlds", []) if w["people"] not in measured]
    merged = dict(new)
    merged["worlds"] = sorted(kept + new["worlds"], key=lambda w: w["people"])
    earlier = list(old.get("earlier_runs", []))
    if old.get("started_at") != new.get("started_at"):
        # A checkpoint of this same run is not an earlier run.
        earlier.append({"command": old.get("command"), "started_at": old.get("started_at")})
    merged["earlier_runs"] = earlier
    return merged


# ------------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--people",
        type=_people,
        default=_people("100000,1000000"),
        help="World sizes, comma-separated (20000 is the quick mode; 100k and 1M accepted).",
    )
    parser.add_argument("--seed", type=int, default=42, help="World seed.")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="Where worlds, warehouses and logs go (default: a new temp dir under /tmp).",
    )
    parser.add_argument(
        "--roles", type=_roles, default=list(ALL_ROLES), help="Roles, comma-separated."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="Results JSON (default benchmarks/results/<date>.json; sizes merge by day).",
    )
    parser.add_argument(
        "--rate-limit-scale",
        type=float,
        default=DEFAULT_RATE_LIMIT_SCALE,
        help="Emulator rate-limit multiplier (high, so limits do not dominate).",
    )
    parser.add_argument(
        "--loader-formats",
        type=lambda text: [f.strip() for f in text.split(",") if f.strip()],
        default=[],
        help="Also run each pipeline with these dlt load-file formats (e.g. parquet,jsonl); "
        "the shipped configuration is measured too unless --skip-shipped.",
    )
    parser.add_argument(
        "--skip-shipped",
        action="store_true",
        help="Measure only the --loader-formats variants, not the pipelines as shipped "
        "(for sizes where the shipped configuration takes hours).",
    )
    parser.add_argument(
        "--skip-http", action="store_true", help="Skip the same-transport requests baseline."
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile each dlt run (slower; top functions go to <workdir>/…/logs).",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="Keep worlds, warehouses and fetched pages in the workdir (logs are always kept).",
    )
    parser.add_argument(
        "--reuse-world",
        action="store_true",
        help="Reuse a world already in --workdir (no generation figures for it).",
    )
    parser.add_argument(
        "--step-timeout", type=float, default=3600.0, help="Seconds before a step is killed."
    )
    parser.add_argument(
        "--wait-for-components",
        type=float,
        default=0.0,
        help="Seconds to wait for the generator, emulator and pipelines to become importable.",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write the results.

    Args:
        argv: Command-line arguments (default ``sys.argv[1:]``).

    Returns:
        The process exit code: 0 when every step ran (whether or not the target was met).
    """
    args = build_parser().parse_args(argv)
    command = "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.wait_for_components:
        wait_for_components(args.roles, args.wait_for_components)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="closedloop-bench-", dir="/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)
    started_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    results: dict[str, Any] = {
        "started_at": started_at.isoformat(),
        "command": command.strip(),
        "machine": machine_info(),
        "rate_limit_scale": args.rate_limit_scale,
        "workdir": str(workdir),
        "worlds": [],
    }
    console.print(f"workdir {workdir}")
    out = args.out or RESULTS_DIR / f"{started_at.date().isoformat()}.json"

    def save(partial: dict[str, Any] | None = None) -> None:
        snapshot = dict(results)
        worlds = list(results["worlds"])
        if partial is not None:
            partial = {
                **partial,
                "partial": True,
                "overall": overall(partial),
                "command": results["command"],
                "started_at": results["started_at"],
            }
            worlds.append(partial)
        snapshot["worlds"] = worlds
        snapshot["finished_at"] = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        out.parent.mkdir(parents=True, exist_ok=True)
        merged = _merge_results(out, snapshot)
        out.write_text(json.dumps(merged, indent=2, default=str) + "\n")
        out.with_suffix(".md").write_text(markdown(merged))

    failed = False
    for people in args.people:
        try:
            world = bench_world(args, people, workdir, save)
        except (ChildFailedError, RuntimeError, TimeoutError) as exc:
            console.print(f"[red]{people:,} people failed:[/] {exc}")
            failed = True
            break
        world["overall"] = overall(world)
        world["command"] = results["command"]
        world["started_at"] = results["started_at"]
        results["worlds"].append(world)
        save()
    if results["worlds"]:
        print_report(results)
        console.print(f"results: {out} (+ {out.with_suffix('.md').name})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
