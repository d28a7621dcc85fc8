"""SQL lint: sqlfluff over the dbt project, then the portable-SQL rules.

The portable rules keep every shared model buildable on Postgres (and later Spark): DuckDB
accepts constructs that other warehouses reject, and sqlfluff's duckdb dialect accepts them
too, so they are checked here by pattern. Adapter-specific SQL belongs in dispatched macros
under ``dbt_project/macros/``, which are not scanned.

Run: ``python -m orchestration.lint_sql`` (``make lint``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from orchestration.environment import DBT_PROJECT_DIR, PROJECT_ROOT

# (name, pattern, why) — patterns run on SQL with comments and string literals blanked out.
NON_PORTABLE: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "qualify",
        re.compile(r"\bqualify\b", re.I),
        "Postgres has no QUALIFY; filter a window in a CTE",
    ),
    ("group-by-all", re.compile(r"\bgroup\s+by\s+all\b", re.I), "Postgres 15 has no GROUP BY ALL"),
    ("exclude", re.compile(r"\*\s*exclude\b", re.I), "SELECT * EXCLUDE is DuckDB-only"),
    ("double-colon-cast", re.compile(r"::"), "use cast(x as t) or safe_cast"),
    (
        "count-if",
        re.compile(r"\bcount_if\s*\(", re.I),
        "use sum(case ...) or count(*) filter (where ...)",
    ),
    ("try-cast", re.compile(r"\btry_cast\s*\(", re.I), "use the dispatched safe_cast macro"),
    ("array-literal", re.compile(r"(?<![\w\]])\[\s*['\d]"), "array literals differ per warehouse"),
    ("json-arrow", re.compile(r"->>?"), "JSON operators differ per warehouse; flatten in dlt"),
    (
        "regexp-fn",
        re.compile(r"\bregexp_(matches|replace|extract)\s*\(", re.I),
        "use the regex macros",
    ),
)

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/|\{#.*?#\}", re.S)
_STRINGS = re.compile(r"'(?:[^']|'')*'")


@dataclass(frozen=True)
class Violation:
    """One non-portable construct found in a model."""

    path: Path
    line: int
    rule: str
    why: str

    def __str__(self) -> str:
        rel = (
            self.path.relative_to(PROJECT_ROOT)
            if self.path.is_relative_to(PROJECT_ROOT)
            else self.path
        )
        return f"{rel}:{self.line}: {self.rule}: {self.why}"


def _blank(match: re.Match[str]) -> str:
    # Keep newlines so line numbers survive the blanking.
    return re.sub(r"[^\n]", " ", match.group(0))


def portable_violations(models_dir: Path) -> list[Violation]:
    """Scan every model under ``models_dir`` for constructs that do not build on Postgres."""
    found: list[Violation] = []
    for path in sorted(models_dir.rglob("*.sql")):
        text = _STRINGS.sub(_blank, _COMMENTS.sub(_blank, path.read_text(encoding="utf-8")))
        for rule, pattern, why in NON_PORTABLE:
            for match in pattern.finditer(text):
                found.append(Violation(path, text.count("\n", 0, match.start()) + 1, rule, why))
    return found


def run_sqlfluff() -> int:
    """Lint the dbt project with sqlfluff (dbt templater) and return its exit code."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        # The dbt templater opens the profile's database; never lint against a real warehouse.
        env["WAREHOUSE_PATH"] = str(Path(tmp) / "lint.duckdb")
        sqlfluff = Path(sys.executable).with_name("sqlfluff")
        cmd = [str(sqlfluff) if sqlfluff.exists() else "sqlfluff", "lint", str(DBT_PROJECT_DIR)]
        return subprocess.call(cmd, cwd=PROJECT_ROOT, env=env)


def main() -> int:
    """Run both lints; non-zero when either finds a problem."""
    violations = portable_violations(DBT_PROJECT_DIR / "models")
    for violation in violations:
        print(violation)
    if violations:
        print(f"{len(violations)} non-portable construct(s) in models", file=sys.stderr)
    return max(run_sqlfluff(), 1 if violations else 0)


if __name__ == "__main__":
    sys.exit(main())
