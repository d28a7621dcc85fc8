"""The portable-SQL lint finds DuckDB-only constructs and ignores comments and strings."""

from pathlib import Path

from orchestration.lint_sql import portable_violations


def _write(tmp_path: Path, sql: str) -> Path:
    models = tmp_path / "models" / "staging"
    models.mkdir(parents=True)
    (models / "stg_x__things.sql").write_text(sql, encoding="utf-8")
    return tmp_path / "models"


def test_flags_each_non_portable_construct(tmp_path: Path) -> None:
    sql = "\n".join(
        [
            "select id::int as id,",
            "    count_if(flag) as n,",
            "    regexp_matches(email, 'x') as m",
            "from things",
            "qualify row_number() over (partition by id order by ts) = 1",
            "group by all",
        ]
    )
    rules = {(v.rule, v.line) for v in portable_violations(_write(tmp_path, sql))}
    assert rules == {
        ("double-colon-cast", 1),
        ("count-if", 2),
        ("regexp-fn", 3),
        ("qualify", 5),
        ("group-by-all", 6),
    }


def test_ignores_comments_and_string_literals(tmp_path: Path) -> None:
    sql = (
        "-- qualify is not allowed here, nor ::\nselect 'a::b qualify' as note /* group by all */\n"
    )
    assert portable_violations(_write(tmp_path, sql)) == []


def test_jinja_comment_lines_are_kept_for_line_numbers(tmp_path: Path) -> None:
    sql = "{# a\nmulti-line\nnote #}\nselect x::int from t\n"
    [violation] = portable_violations(_write(tmp_path, sql))
    assert violation.line == 4
