"""Running one benchmark task in a child process and measuring it from the outside.

Every measured step runs in its own interpreter so that its peak memory is its own (a
parent that already generated a world would otherwise inflate the ingestion figures) and so
that no two steps share a GIL. The parent polls the child's process tree with ``psutil``;
the child also reports the kernel's own high-water mark (``ru_maxrss``), which cannot miss
a short spike between two polls.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POLL_SECONDS = 0.05
# A child is killed when the machine's available memory falls below this: the benchmark
# reports the step as failed instead of letting the kernel's OOM killer pick a victim
# (which could be the emulator or this harness).
MIN_AVAILABLE_BYTES = 1 * 2**30


class ChildFailedError(RuntimeError):
    """A benchmark task exited with an error; the message carries its stderr tail."""


@dataclass
class ChildResult:
    """What one child task reported, plus what the parent saw from outside.

    Attributes:
        task: Task name (``generate``, ``ingest``, ``files``, ``http``).
        payload: The JSON the task wrote (its own timings, rows, kernel peak RSS).
        wall_seconds: Process start to exit, interpreter start-up and imports included.
        peak_tree_rss_mb: Highest summed RSS of the child and its descendants seen by polling.
    """

    task: str
    payload: dict[str, Any]
    wall_seconds: float
    peak_tree_rss_mb: float

    @property
    def peak_rss_mb(self) -> float:
        """Peak RSS: the larger of the polled tree peak and the kernel's high-water marks."""
        kernel = float(self.payload.get("max_rss_mb", 0.0)) + float(
            self.payload.get("max_rss_children_mb", 0.0)
        )
        return max(self.peak_tree_rss_mb, kernel)


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def run_child(
    task: str,
    params: dict[str, Any],
    *,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    log_path: Path | None = None,
) -> ChildResult:
    """Run ``python -m benchmarks.worker <task>`` and measure it.

    Args:
        task: Worker task name.
        params: JSON-serialisable arguments of the task.
        env: Extra environment variables for the child.
        timeout: Seconds after which the child is killed and :class:`ChildFailedError` raised.
        log_path: Where the child's stderr goes (kept for post-mortems); a temp file if None.

    Returns:
        The task's payload and the outside measurements.

    Raises:
        ChildFailedError: The task exited non-zero or timed out.
    """
    with tempfile.TemporaryDirectory(prefix="closedloop-bench-io-") as tmp:
        params_file = Path(tmp) / "params.json"
        result_file = Path(tmp) / "result.json"
        params_file.write_text(json.dumps(params))
        stderr_path = log_path or Path(tmp) / "stderr.log"
        stderr_path.parent.mkdir(parents=True, exist_ok=True)
        child_env = {**os.environ, **(env or {})}
        cmd = [sys.executable, "-m", "benchmarks.worker", task, str(params_file), str(result_file)]
        peak = 0
        with stderr_path.open("w") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(
                cmd, cwd=PROJECT_ROOT, env=child_env, stdout=err, stderr=subprocess.STDOUT
            )
            watched = psutil.Process(proc.pid)
            while proc.poll() is None:
                peak = max(peak, _tree_rss(watched))
                elapsed = time.perf_counter() - started
                problem = None
                if timeout is not None and elapsed > timeout:
                    problem = f"timed out after {timeout:.0f} s"
                elif psutil.virtual_memory().available < MIN_AVAILABLE_BYTES:
                    problem = (
                        f"killed after {elapsed:.0f} s: machine memory nearly exhausted "
                        f"(child tree at {peak / 2**30:.1f} GiB)"
                    )
                if problem is not None:
                    _kill_tree(watched)
                    proc.wait()
                    raise ChildFailedError(f"{task} {problem}; log: {stderr_path}")
                time.sleep(POLL_SECONDS)
            wall = time.perf_counter() - started
        if proc.returncode != 0 or not result_file.exists():
            tail = stderr_path.read_text(errors="replace")[-4000:]
            raise ChildFailedError(f"{task} exited with {proc.returncode}:\n{tail}")
        payload = json.loads(result_file.read_text())
    return ChildResult(task, payload, wall, peak / 2**20)


def _kill_tree(proc: psutil.Process) -> None:
    """Kill a child and its descendants (only processes this harness started)."""
    try:
        family = [*proc.children(recursive=True), proc]
    except psutil.Error:
        family = [proc]
    for p in family:
        try:
            p.kill()
        except psutil.Error:
            continue


class CpuWatch:
    """CPU seconds a long-running process (the emulator) spends during a block.

    Used to tell whether a slow ingestion waits on the server or on itself: on a 2-core
    machine, a server busy for nearly the whole wall time is the bottleneck.

    Args:
        pid: Process to watch.
    """

    def __init__(self, pid: int) -> None:
        self._proc = psutil.Process(pid)
        self._start = 0.0
        self.seconds = 0.0
        self.rss_mb = 0.0

    def _cpu(self) -> float:
        times = self._proc.cpu_times()
        return float(times.user + times.system)

    def __enter__(self) -> CpuWatch:
        self._start = self._cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = self._cpu() - self._start
        self.rss_mb = self._proc.memory_info().rss / 2**20


def machine_info() -> dict[str, Any]:
    """Where the figures come from: CPU, memory, OS and the versions that matter."""
    import dlt
    import duckdb
    import pyarrow

    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": psutil.cpu_count(logical=True),
        "cpu_model": cpu_model or platform.processor(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "dlt": dlt.__version__,
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
    }


def code_fingerprint(*folders: str) -> dict[str, str]:
    """A short content hash per source folder, tying figures to the code that produced them.

    The pipelines, generator and emulator change between runs (and are not always
    committed), so a git commit alone does not say which code was measured.

    Args:
        folders: Folders relative to the project root.

    Returns:
        ``{folder: sha256[:12]}`` over the folder's ``*.py`` files, plus ``git_head``.
    """
    out: dict[str, str] = {}
    for folder in folders:
        digest = hashlib.sha256()
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
        out[folder] = digest.hexdigest()[:12]
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    out["git_head"] = head.stdout.strip() or "unknown"
    return out


def dir_size_mb(path: Path) -> float:
    """Total size of the files under ``path`` in MiB."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20
