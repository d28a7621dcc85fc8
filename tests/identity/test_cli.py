"""``closedloop identity`` end to end on the example file: resolve, evaluate, stable IDs."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from orchestration import environment
from orchestration.cli import app

runner = CliRunner()
EXAMPLE = environment.PROJECT_ROOT / "docs" / "examples" / "identity"
PEOPLE = EXAMPLE / "people.csv"
MAPPING = EXAMPLE / "mapping.yml"
METRIC_KEYS = {
    "records",
    "true_entities",
    "clusters",
    "true_pairs",
    "predicted_pairs",
    "correct_pairs",
    "precision",
    "recall",
    "f1",
    "largest_cluster",
    "largest_true_entity",
    "largest_excess",
}


def _invoke(*args: str | Path) -> Result:
    result = runner.invoke(app, ["identity", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _ids_of(frame: pd.DataFrame, person: str) -> set[str]:
    return set(frame.loc[frame["person"] == person, "golden_id"])


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    out = tmp_path_factory.mktemp("identity") / "people_resolved.csv"
    edges = out.with_name("edges.parquet")
    review = out.with_name("review.csv")
    result = _invoke(
        "resolve",
        PEOPLE,
        "--mapping",
        MAPPING,
        "--out",
        out,
        "--edges-out",
        edges,
        "--review-out",
        review,
    )
    return out, result


def test_every_row_gets_one_golden_id(resolved: tuple[Path, Result]) -> None:
    out, result = resolved
    people, frame = _read(PEOPLE), _read(out)
    assert list(frame.columns) == [*people.columns, "golden_id", "cluster_size", "change_reason"]
    pd.testing.assert_frame_equal(frame[list(people.columns)], people)
    assert (frame["golden_id"] != "").all()
    sizes = frame.groupby("golden_id")["golden_id"].transform("size").astype(str)
    assert (frame["cluster_size"] == sizes).all()
    assert set(frame["change_reason"]) == {"new_record"}
    for heading in ("records", "largest cluster", "Blocked values by rule", "Edges by rule"):
        assert heading in result.stdout
    assert "shared_email" in result.stdout
    edges = pd.read_parquet(out.with_name("edges.parquet"))
    assert {"record_key_left", "record_key_right", "rule"} <= set(edges.columns)
    assert "record_key_left" in out.with_name("review.csv").read_text(encoding="utf-8")


def test_junk_email_does_not_merge_people(resolved: tuple[Path, Result]) -> None:
    frame = _read(resolved[0])
    junk = frame[frame["email"].str.contains("test@t", case=False)]
    assert junk["person"].nunique() == 4
    # Each person keeps their own cluster: the two Martins share test@test.com and nothing else.
    per_person = [_ids_of(frame, p) for p in sorted(junk["person"].unique())]
    assert all(len(ids) == 1 for ids in per_person)
    assert len(set.union(*per_person)) == 4
    # Martin Horák's own duplicate still joins him through his phone.
    assert len(frame.loc[frame["person"] == "P07", "golden_id"]) == 2


@pytest.mark.parametrize("household", [("P03", "P04", "P05"), ("P07", "P20")])
def test_household_members_stay_apart(
    resolved: tuple[Path, Result], household: tuple[str, ...]
) -> None:
    frame = _read(resolved[0])
    ids = [_ids_of(frame, person) for person in household]
    assert all(len(i) == 1 for i in ids)
    assert len(set.union(*ids)) == len(household)


@pytest.mark.parametrize(
    "person",
    [
        "P01",  # gmail dots, +tag at googlemail, gmial.com typo, full name only, email only
        "P02",  # sezam.cz typo, upper case, Petar/Petra transposition
        "P05",  # gmail dots
        "P06",  # Polish ł and a wpp.pl typo
        "P11",  # an address typed into the name field
        "P15",  # 00420 phone prefix and outlok.com
        "P18",  # onte.pl typo, Polish national number
    ],
)
def test_typo_and_dot_duplicates_merge(resolved: tuple[Path, Result], person: str) -> None:
    frame = _read(resolved[0])
    assert len(_ids_of(frame, person)) == 1
    assert (frame.loc[frame["person"] == person, "cluster_size"].astype(int) > 1).all()


def test_evaluate_a_resolved_file(resolved: tuple[Path, Result]) -> None:
    out = resolved[0]
    table = _invoke("evaluate", out, "--truth", "person", "--cluster-col", "golden_id")
    assert "F1" in table.stdout
    assert "largest excess" in table.stdout
    as_json = _invoke("evaluate", out, "--truth", "person", "--cluster-col", "golden_id", "--json")
    metrics = json.loads(as_json.stdout)
    assert set(metrics) == METRIC_KEYS
    assert metrics["records"] == len(_read(PEOPLE))
    assert metrics["precision"] == 1.0


def test_evaluate_resolves_with_a_mapping() -> None:
    result = _invoke("evaluate", PEOPLE, "--truth", "person", "--mapping", MAPPING, "--json")
    metrics = json.loads(result.stdout)
    assert set(metrics) == METRIC_KEYS
    assert metrics["precision"] == 1.0
    assert metrics["f1"] >= 0.9
    assert metrics["true_entities"] == _read(PEOPLE)["person"].nunique()


def test_prior_keeps_golden_ids_on_a_rerun(resolved: tuple[Path, Result], tmp_path: Path) -> None:
    first = resolved[0]
    again = tmp_path / "again.csv"
    _invoke("resolve", PEOPLE, "--mapping", MAPPING, "--out", again, "--prior", first)
    before, after = _read(first), _read(again)
    assert after["golden_id"].tolist() == before["golden_id"].tolist()
    assert set(after["change_reason"]) == {"unchanged"}


def test_prior_keeps_golden_ids_when_rows_arrive(
    resolved: tuple[Path, Result], tmp_path: Path
) -> None:
    first = resolved[0]
    grown = tmp_path / "people_more.csv"
    extra = [
        "shop,s300,Jan,Novák,,j.a.n.novak@gmail.com,,,,,,,,,2024-09-09 09:00:00,P01",
        "crm,c300,Olga,Nová,,olga.nova@seznam.cz,,,,,,CZ,,,2024-09-09 09:00:00,P30",
    ]
    grown.write_text(
        PEOPLE.read_text(encoding="utf-8").rstrip("\n") + "\n" + "\n".join(extra) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "more.parquet"
    _invoke("resolve", grown, "--mapping", MAPPING, "--out", out, "--prior", first)
    before, after = _read(first), pd.read_parquet(out)
    n = len(before)
    assert after["golden_id"].iloc[:n].tolist() == before["golden_id"].tolist()
    assert set(after["change_reason"].iloc[:n]) == {"unchanged"}
    jan, olga = after.iloc[n], after.iloc[n + 1]
    assert jan["golden_id"] in _ids_of(before, "P01")
    assert olga["golden_id"] not in set(before["golden_id"])
    assert {jan["change_reason"], olga["change_reason"]} == {"new_record"}


def test_an_earlier_output_can_be_the_input(resolved: tuple[Path, Result], tmp_path: Path) -> None:
    first = resolved[0]
    out = tmp_path / "twice.csv"
    _invoke("resolve", first, "--mapping", MAPPING, "--out", out, "--prior", first)
    frame = _read(out)
    assert list(frame.columns) == list(_read(first).columns)
    assert frame["golden_id"].tolist() == _read(first)["golden_id"].tolist()


def test_a_duckdb_table_deterministic_only(tmp_path: Path) -> None:
    warehouse = tmp_path / "people.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema crm")
        con.execute(
            "create table crm.people as select * from read_csv(?, all_varchar = true)",
            [str(PEOPLE)],
        )
    out = tmp_path / "out.csv"
    result = _invoke(
        "resolve",
        f"{warehouse}::crm.people",
        "--mapping",
        MAPPING,
        "--out",
        out,
        "--deterministic-only",
    )
    assert "splink_person" not in result.stdout
    frame = _read(out)
    assert len(frame) == len(_read(PEOPLE))
    assert len(_ids_of(frame, "P01")) == 1


def test_unusable_input_is_one_red_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("record_id: customer_no\nsource: crm\ncolumns: {email: e_mail}\n", "utf-8")
    result = runner.invoke(
        app,
        [
            "identity",
            "resolve",
            str(PEOPLE),
            "--mapping",
            str(bad),
            "--out",
            str(tmp_path / "o.csv"),
        ],
    )
    assert result.exit_code == 2
    assert "customer_no" in result.output
    assert "first_name" in result.output  # the columns the input does have
    assert "Traceback" not in result.output
    wrong_suffix = runner.invoke(
        app, ["identity", "resolve", str(PEOPLE), "--mapping", str(MAPPING), "--out", "o.json"]
    )
    assert wrong_suffix.exit_code == 2
    assert ".csv or .parquet" in wrong_suffix.output
    neither = runner.invoke(app, ["identity", "evaluate", str(PEOPLE), "--truth", "person"])
    assert neither.exit_code == 2
