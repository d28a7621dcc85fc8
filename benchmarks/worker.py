"""Child-process entry point: one measured task per interpreter.

``python -m benchmarks.worker <task> <params.json> <result.json>``. The task's own timer
starts after the imports, so interpreter start-up does not count against dlt or a baseline
(the parent records the process wall time separately). The result carries the kernel's peak
RSS of this process (``ru_maxrss``) and its CPU time.
"""

from __future__ import annotations

import cProfile
import importlib
import io
import json
import os
import pstats
import resource
import sys
import time
from pathlib import Path
from typing import Any


def _usage() -> dict[str, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Linux reports ru_maxrss in KiB.
    return {
        "max_rss_mb": me.ru_maxrss / 1024,
        "max_rss_children_mb": kids.ru_maxrss / 1024,
        "cpu_seconds": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
    }


def task_generate(params: dict[str, Any]) -> dict[str, Any]:
    """Generate a world and report time per stage and rows per table."""
    from sandbox.world import generate

    stages: dict[str, list[float]] = {}
    started = time.perf_counter()

    def progress(stage: str, fraction: float = 0.0, *_: Any) -> None:
        # Stage boundaries, so the report can say where generation time goes.
        now = time.perf_counter() - started
        span = stages.setdefault(str(stage), [now, now])
        span[1] = now

    manifest = generate(
        int(params["people"]), int(params["seed"]), Path(params["out"]), progress=progress
    )
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "counts": dict(manifest.get("counts") or {}),
        "stages": {k: v[1] - v[0] for k, v in stages.items()},
        "stage_spans": stages,
    }


def _profile_text(profiler: cProfile.Profile, limit: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats(key).print_stats(limit)
        out[key] = buf.getvalue()
    return out


def task_ingest(params: dict[str, Any]) -> dict[str, Any]:
    """Run one role's dlt pipeline into a fresh DuckDB file."""
    from orchestration.environment import apply_runtime_env, sandbox_source_env

    os.environ.update(sandbox_source_env(params["url"], Path(params["world"])))
    os.environ["WAREHOUSE_PATH"] = params["warehouse"]
    os.environ["DLT_PIPELINES_DIR"] = params["pipelines_dir"]
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    # The project's .dlt/config.toml (log level, job clean-up) applies as in production.
    apply_runtime_env()
    from pipelines.factory import make_pipeline, make_source

    role = params["role"]
    # make_source imports the source module lazily; import it before the timer starts.
    importlib.import_module(f"pipelines.{role}")
    profiler = cProfile.Profile() if params.get("profile") else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    destination = None
    if params.get("loader_file_format"):
        import dlt

        # Same DuckDB file, other load-file format: an explicit capability of the destination
        # factory, so the pipelines' own code stays exactly as shipped.
        destination = dlt.destinations.duckdb(
            params["warehouse"], preferred_loader_file_format=params["loader_file_format"]
        )
    pipeline = make_pipeline(role, destination=destination)
    info = pipeline.run(make_source(role))
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - started
    info.raise_on_failed_jobs()
    trace = pipeline.last_trace
    counts = dict(trace.last_normalize_info.row_counts) if trace.last_normalize_info else {}
    steps = {
        str(step.step): (step.finished_at - step.started_at).total_seconds()
        for step in trace.steps
        if step.finished_at is not None
    }
    result: dict[str, Any] = {
        "seconds": seconds,
        "rows": {t: n for t, n in counts.items() if not t.startswith("_dlt")},
        "steps": steps,
        "loader_file_formats": sorted(
            {
                job.job_file_info.file_format
                for p in info.load_packages
                for job in p.jobs["completed_jobs"]
            }
        ),
    }
    if profiler is not None:
        path = Path(params["profile"])
        profiler.dump_stats(path)
        result["profile_file"] = str(path)
        result["profile"] = _profile_text(profiler, 30)
    return result


def task_files(params: dict[str, Any]) -> dict[str, Any]:
    """Direct DuckDB load of one role's world files."""
    from benchmarks.baselines import load_files

    return load_files(params["role"], Path(params["world"]), Path(params["db"]))


def task_http(params: dict[str, Any]) -> dict[str, Any]:
    """``requests`` + ``read_json`` load of one REST role's API pages."""
    from benchmarks.baselines import http_baseline
    from orchestration.environment import sandbox_source_env

    env = sandbox_source_env(params["url"], Path(params["world"]))
    return http_baseline(params["role"], env, Path(params["scratch"]), Path(params["db"]))


TASKS = {
    "generate": task_generate,
    "ingest": task_ingest,
    "files": task_files,
    "http": task_http,
}


def _identity_tasks() -> dict[str, Any]:
    # Imported only when asked for: Splink and scipy are not needed by the ingestion tasks.
    from benchmarks.identity_tasks import TASKS as IDENTITY_TASKS

    return IDENTITY_TASKS


def main(argv: list[str]) -> int:
    """Run the task named in ``argv`` and write its JSON result.

    Args:
        argv: ``[task, params_file, result_file]``.

    Returns:
        The process exit code.
    """
    task, params_file, result_file = argv
    params = json.loads(Path(params_file).read_text())
    tasks = TASKS if task in TASKS else _identity_tasks()
    result = tasks[task](params)
    result.update(_usage())
    Path(result_file).write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
