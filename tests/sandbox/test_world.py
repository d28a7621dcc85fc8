"""Tests for the synthetic world generator (``sandbox.world``): determinism, counts, truth,
noise, the BG/NBD + Gamma-Gamma process, and ``advance`` increments."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sandbox.world import WorldError, advance, expected_counts, generate, load_manifest

SEED = 11
AS_OF = pd.Timestamp("2026-11-01T00:00:00Z")


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _pq(world: Path, rel: str) -> pd.DataFrame:
    return pq.read_table(world / rel).to_pandas()


def _sql(world: Path, query: str) -> pd.DataFrame:
    with sqlite3.connect(world / "shop" / "shop.sqlite") as con:
        return pd.read_sql_query(query, con)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world") / "w"
    generate(2000, SEED, out)
    return out


@pytest.fixture(scope="module")
def advanced(tmp_path_factory: pytest.TempPathFactory, world: Path) -> tuple[Path, Path]:
    """(copy of the world before, the same world advanced by 7 days)."""
    base = tmp_path_factory.mktemp("adv")
    before = base / "before"
    after = base / "after"
    shutil.copytree(world, before)
    shutil.copytree(world, after)
    advance(after, 7)
    return before, after


# --- determinism ----------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(400, 5, a)
    generate(400, 5, b)
    generate(400, 6, c)
    ha, hb = _hashes(a), _hashes(b)
    assert ha == hb
    assert len(ha) > 30
    assert _hashes(c) != ha  # the seed matters
    for w in (a, b):
        advance(w, 1)
        advance(w, 4)
    assert _hashes(a) == _hashes(b)
    assert load_manifest(a)["version"] == 2


# --- manifest and counts ----------------------------------------------------------------------


def test_manifest_matches_files(world: Path) -> None:
    m = load_manifest(world)
    assert m["format"] == 1
    assert m["seed"] == SEED
    assert m["version"] == 0
    assert m["as_of"] == "2026-11-01T00:00:00Z"
    assert m["start"] == "2024-01-01T00:00:00Z"
    exp = expected_counts(world)
    assert m["counts"] == exp
    for key in (
        "crm.contacts",
        "shop.orders",
        "esp.events",
        "web.events",
        "web.consent",
        "web.quarantine",
    ):
        assert exp[key] > 0
    assert exp["web.quarantine"] == sum(m["malformed_web_lines"].values())
    files = m["web_files"]["events"] + m["web_files"]["consent"]
    assert sorted(str(p.relative_to(world)) for p in (world / "web").rglob("*.jsonl")) == sorted(
        files
    )
    # Web covers the last 90 days only.
    days = {re.search(r"dt=(\d{4}-\d{2}-\d{2})", f).group(1) for f in m["web_files"]["events"]}
    assert min(days) >= "2026-08-03"
    assert max(days) <= "2026-10-31"
    bg = m["params"]["bgnbd"]
    truth = json.loads((world / "truth" / "params.json").read_text())
    assert truth["bgnbd"] == bg
    assert set(bg) == {"r", "alpha", "a", "b"}
    assert set(truth["gamma_gamma"]) >= {"p", "q", "gamma"}


def test_system_shares_are_subsets(world: Path) -> None:
    people = _pq(world, "truth/people.parquet")
    rec = _pq(world, "truth/records.parquet")
    n = len(people)
    assert n == 2000
    share = lambda s, t: rec[(rec.system == s) & (rec.table == t)].person_id.nunique() / n  # noqa: E731
    assert 0.45 < share("shop", "orders") < 0.65
    assert 0.2 < share("crm", "contacts") < 0.45
    assert 0.5 < share("esp", "profiles") < 0.7
    assert 0.08 < share("helpdesk", "users") < 0.22


def test_bad_input_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(WorldError, match="people"):
        generate(5, 1, tmp_path / "small")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("hello")
    with pytest.raises(WorldError, match="not empty"):
        generate(100, 1, junk)
    with pytest.raises(WorldError, match="not a world"):
        advance(junk, 1)
    with pytest.raises(WorldError, match="not a world"):
        advance(tmp_path / "missing", 1)
    with pytest.raises(WorldError, match="not a world"):
        load_manifest(junk)
    with pytest.raises(WorldError, match="not a world"):
        expected_counts(junk)


def test_advance_rejects_bad_days(world: Path, tmp_path: Path) -> None:
    w = tmp_path / "w"
    shutil.copytree(world, w)
    with pytest.raises(WorldError, match="already holds a world"):
        generate(100, 1, w)
    with pytest.raises(WorldError, match="days"):
        advance(w, 0)
    assert load_manifest(w)["version"] == 0


# --- truth ------------------------------------------------------------------------------------


PERSON_TABLES = {
    ("crm", "contacts"): lambda w: _pq(w, "crm/contacts.parquet").id.astype(str),
    ("shop", "customers"): lambda w: _sql(w, "select id from customers").id.astype(str),
    ("shop", "orders"): lambda w: _sql(w, "select id from orders").id.astype(str),
    ("shop", "addresses"): lambda w: _sql(w, "select id from addresses").id.astype(str),
    ("shop", "carts"): lambda w: _sql(w, "select id from carts").id.astype(str),
    ("esp", "profiles"): lambda w: _pq(w, "esp/profiles.parquet").id.astype(str),
    ("helpdesk", "users"): lambda w: (
        _pq(w, "helpdesk/users.parquet").query("role == 'end-user'").id.astype(str)
    ),
}


def _check_truth(world: Path) -> None:
    rec = _pq(world, "truth/records.parquet")
    people = _pq(world, "truth/people.parquet")
    assert not rec.duplicated(["system", "table", "record_id"]).any()
    assert rec.person_id.isin(people.person_id).all()
    hh = people.set_index("person_id").household_id
    assert (rec.household_id.to_numpy() == hh.loc[rec.person_id].to_numpy()).all()
    for (system, table), ids in PERSON_TABLES.items():
        got = set(rec[(rec.system == system) & (rec.table == table)].record_id)
        assert set(ids(world)) == got, (system, table)
    consent = _pq(world, "truth/consent.parquet")
    assert len(consent) == 5 * len(people)
    assert set(consent.purpose) == {
        "analytics",
        "marketing_email",
        "sms",
        "ad_user_data",
        "ad_personalization",
    }


def test_truth_covers_every_person_record(world: Path) -> None:
    _check_truth(world)


def test_truth_covers_every_record_after_advance(advanced: tuple[Path, Path]) -> None:
    _check_truth(advanced[1])


# --- noise --------------------------------------------------------------------------------------


def _records_with(world: Path) -> pd.DataFrame:
    """Email and phone per person-record across systems."""
    rec = _pq(world, "truth/records.parquet")
    frames = []
    c = _pq(world, "crm/contacts.parquet")[["id", "email", "phone"]].assign(
        system="crm", table="contacts"
    )
    frames.append(c)
    s = _sql(world, "select id, email, phone from customers").assign(
        system="shop", table="customers"
    )
    frames.append(s)
    p = _pq(world, "esp/profiles.parquet")[["id", "email", "phone_number"]].rename(
        columns={"phone_number": "phone"}
    )
    frames.append(p.assign(system="esp", table="profiles"))
    u = _pq(world, "helpdesk/users.parquet").query("role == 'end-user'")[["id", "email", "phone"]]
    frames.append(u.assign(system="helpdesk", table="users"))
    allr = pd.concat(frames, ignore_index=True)
    allr["record_id"] = allr.id.astype(str)
    return allr.merge(rec, on=["system", "table", "record_id"])


def test_emails_vary_per_person_with_case_tags_and_dots(world: Path) -> None:
    r = _records_with(world).dropna(subset=["email"])
    r["norm"] = r.email.str.strip().str.lower()
    by_person = r.groupby("person_id").norm.nunique()
    assert (by_person > 1).mean() > 0.1  # several emails per person
    raw_variants = r.groupby(["person_id", "norm"]).email.nunique()
    assert (raw_variants > 1).sum() > 5  # same address typed in different case
    assert r.email.str.contains(r"\+", regex=True).sum() > 5  # +tags
    gmail_dots = (
        r[r.norm.str.endswith("@gmail.com")]
        .norm.str.split("@")
        .str[0]
        .str.contains(".", regex=False)
    )
    assert gmail_dots.any()
    assert (r.email != r.email.str.strip()).sum() > 0  # stray whitespace


def test_junk_values_and_their_variants_are_present(world: Path) -> None:
    r = _records_with(world)
    emails = set(r.email.dropna().str.strip().str.lower())
    assert emails & {"test@test.com", "noemail@", "x@x.cz"}
    assert emails & {
        "test@tset.com",
        "tets@test.com",
        "test@test.cz",
        "noemail@noemail.cz",
        "x@x.com",
    }
    digits = r.phone.dropna().str.replace(r"\D", "", regex=True)
    assert (digits.str.fullmatch(r"0+") | digits.str.fullmatch(r"(420|421|48)?0+")).sum() > 0


def test_households_share_phones_and_people_share_names(world: Path) -> None:
    r = _records_with(world).dropna(subset=["phone"])
    r["digits"] = r.phone.str.replace(r"\D", "", regex=True).str[-9:]
    r = r[~r.digits.str.fullmatch(r"0+|123456789|1+|9+")]
    g = r.groupby("digits").agg(
        persons=("person_id", "nunique"), households=("household_id", "nunique")
    )
    shared = g[g.persons > 1]
    assert len(shared) > 5
    assert (shared.households == 1).mean() > 0.9  # shared phones are household phones
    people = _pq(world, "truth/people.parquet")
    assert people.duplicated(["first_name", "last_name"]).sum() > 5  # common-name collisions
    assert (people.first_name != people.first_name_ascii).mean() > 0.2  # diacritics exist
    c = _pq(world, "crm/contacts.parquet")
    ascii_only = c.lastname.dropna().str.fullmatch(r"[A-Za-z\- ]+")
    assert ascii_only.mean() > 0.2
    assert ascii_only.mean() < 0.95


def test_phone_formats_are_mixed(world: Path) -> None:
    phones = _sql(world, "select phone from customers where phone is not null").phone
    patterns = {
        "e164": r"\+\d{11,12}",
        "spaced_intl": r"\+\d{2,3} \d{3} \d{3} \d{3}",
        "00": r"00\d{11,12}",
        "national": r"\d{9}",
        "dashes": r"\d{3}-\d{3}-\d{3}",
        "parens": r"\(\+\d{2,3}\) .*",
    }
    seen = {k for k, p in patterns.items() if phones.str.fullmatch(p).any()}
    assert seen == set(patterns)


# --- shop consistency and processes ------------------------------------------------------------


def test_orders_lines_and_totals_are_consistent(world: Path) -> None:
    o = _sql(world, "select id, subtotal, shipping, total, currency, status from orders")
    lines = _sql(
        world, "select order_id, line_total, quantity, unit_price, discount from order_lines"
    )
    s = lines.groupby("order_id").line_total.sum().round(2)
    assert np.allclose(o.set_index("id").subtotal.loc[s.index], s, atol=0.011)
    assert np.allclose(o.total, (o.subtotal + o.shipping).round(2), atol=0.011)
    assert np.allclose(
        lines.line_total, (lines.quantity * lines.unit_price - lines.discount).round(2), atol=0.011
    )
    assert set(o.currency) == {"CZK", "EUR", "PLN"}
    assert {"cancelled", "refunded", "partially_refunded", "delivered"} <= set(o.status)
    refunds = _sql(world, "select order_id from refunds")
    assert set(refunds.order_id) <= set(o[o.status.str.contains("refunded")].id)
    cust = _sql(world, "select is_guest, loyalty_id from customers")
    assert cust.is_guest.sum() > 0
    assert (cust.is_guest == 0).sum() > 0
    assert cust.loyalty_id.notna().sum() > 0
    carts = _sql(world, "select status from carts")
    assert {"converted", "abandoned"} <= set(carts.status)


def test_bgnbd_orders_per_customer_match_the_stated_process(world: Path) -> None:
    people = _pq(world, "truth/people.parquet")
    rec = _pq(world, "truth/records.parquet")
    o = _sql(world, "select id, status, currency, subtotal from orders")
    o = o[o.status != "cancelled"]
    ro = rec[(rec.system == "shop") & (rec.table == "orders")].assign(
        id=lambda d: d.record_id.astype(int)
    )
    o = o.merge(ro[["id", "person_id"]], on="id")
    buyers = people[people.n_purchases > 0].set_index("person_id")
    actual = o.groupby("person_id").size().reindex(buyers.index, fill_value=0)
    assert (actual == buyers.n_purchases).all()
    # E[X(T) | lambda, p] = (1 - exp(-lambda p T)) / p repeat purchases, plus the first one.
    t_days = (AS_OF - buyers.first_purchase_at).dt.total_seconds() / 86400
    lam, p = buyers.bgnbd_lambda, buyers.bgnbd_p
    expected = (1 + (1 - np.exp(-lam * p * t_days)) / p).mean()
    assert actual.mean() == pytest.approx(expected, rel=0.12)
    # Gamma-Gamma: order value (subtotal in CZK) ~ Gamma(p, nu) → mean p / nu.
    params = load_manifest(world)["params"]
    fx = params["fx_to_czk"]
    z = o.subtotal * o.currency.map(fx)
    ez = params["gamma_gamma"]["p"] / o.person_id.map(people.set_index("person_id").gg_nu)
    assert z.mean() == pytest.approx(ez.mean(), rel=0.1)


def test_click_ids_match_web_purchase_sessions(world: Path) -> None:
    orders = _sql(world, "select order_number, gclid, fbclid, utm_campaign from orders")
    events = []
    for f in sorted((world / "web" / "events").rglob("*.jsonl")):
        for line in f.read_text().splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if isinstance(e, dict) and e.get("event_name") == "purchase":
                events.append(e)
    assert len(events) > 20
    web = pd.DataFrame(events).drop_duplicates("event_id")
    m = web.merge(orders, on="order_number", suffixes=("_web", "_shop"))
    assert len(m) == len(web)
    assert (m.gclid_web.fillna("") == m.gclid_shop.fillna("")).all()
    assert (m.fbclid_web.fillna("") == m.fbclid_shop.fillna("")).all()
    assert m.gclid_shop.notna().sum() > 0


def test_schemas_and_types(world: Path) -> None:
    with sqlite3.connect(world / "shop" / "shop.sqlite") as con:
        cols = {r[1]: (r[2], r[5]) for r in con.execute("PRAGMA table_info(orders)")}
        idx = [r[1] for r in con.execute("PRAGMA index_list(orders)")]
        placed = con.execute("select placed_at from orders limit 1").fetchone()[0]
    assert cols["id"] == ("INTEGER", 1)
    assert cols["total"][0] == "NUMERIC(12,2)"
    assert cols["placed_at"][0] == "TIMESTAMP"
    assert any("updated_at" in i for i in idx)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", placed)
    ts = pq.read_schema(world / "crm" / "contacts.parquet").field("createdate").type
    assert ts == pa.timestamp("us", tz="UTC")
    ids = pq.read_table(world / "esp" / "profiles.parquet").column("id").to_pylist()
    assert ids == sorted(ids)
    assert all(len(i) == 26 for i in ids)
    contacts = pq.read_table(world / "crm" / "contacts.parquet").column("id").to_pylist()
    assert contacts == sorted(contacts)
    stages = set(_pq(world, "crm/contacts.parquet").lifecyclestage)
    assert {"subscriber", "lead", "customer"} <= stages
    deals = _pq(world, "crm/deals.parquet")
    assert deals[deals.dealstage == "closedlost"].closed_lost_reason.notna().all()
    assert {"closedwon", "closedlost"} <= set(deals.dealstage)


# --- advance ------------------------------------------------------------------------------------


def test_advance_moves_clock_and_keeps_ids(advanced: tuple[Path, Path]) -> None:
    before, after = advanced
    m0, m1 = load_manifest(before), load_manifest(after)
    assert m1["version"] == 1
    assert m1["as_of"] == "2026-11-08T00:00:00Z"
    assert m1["counts"] == expected_counts(after)
    assert m1["people"] > m0["people"]
    for key in (
        "shop.orders",
        "shop.order_lines",
        "esp.events",
        "helpdesk.tickets",
        "web.events",
        "web.consent",
    ):
        assert m1["counts"][key] > m0["counts"][key], key
    for key, n in m0["counts"].items():
        assert m1["counts"][key] >= n, key
    # Stable ids: every old row is still there with the same business key.
    o0 = _sql(before, "select id, order_number, placed_at from orders")
    o1 = _sql(after, "select id, order_number, placed_at from orders")
    merged = o0.merge(o1, on="id", suffixes=("_0", "_1"))
    assert len(merged) == len(o0)
    assert (merged.order_number_0 == merged.order_number_1).all()
    c0 = set(_pq(before, "crm/contacts.parquet").id)
    assert c0 <= set(_pq(after, "crm/contacts.parquet").id)
    p0 = set(_pq(before, "esp/profiles.parquet").id)
    assert p0 <= set(_pq(after, "esp/profiles.parquet").id)
    e0 = set(_pq(before, "esp/events.parquet").id)
    assert e0 <= set(_pq(after, "esp/events.parquet").id)


def test_advance_updates_fall_inside_the_new_window(advanced: tuple[Path, Path]) -> None:
    before, after = advanced
    lo, hi = pd.Timestamp("2026-11-01T00:00:00Z"), pd.Timestamp("2026-11-08T00:00:00Z")
    c0 = _pq(before, "crm/contacts.parquet").set_index("id")
    c1 = _pq(after, "crm/contacts.parquet").set_index("id")
    old = c1.loc[c0.index]
    changed = old[old.lastmodifieddate != c0.lastmodifieddate]
    assert len(changed) > 0
    assert ((changed.lastmodifieddate > lo) & (changed.lastmodifieddate <= hi)).all()
    assert (c1.lastmodifieddate <= hi).all()
    newly_archived = old[old.archived & ~c0.archived]
    assert len(newly_archived) > 0
    assert ((newly_archived.archived_at > lo) & (newly_archived.archived_at <= hi)).all()
    # Shop rows updated by SQL carry updated_at inside the window.
    u0 = _sql(before, "select id, updated_at, status from orders").set_index("id")
    u1 = _sql(after, "select id, updated_at, status from orders").set_index("id")
    moved = u1.loc[u0.index][u1.loc[u0.index].updated_at != u0.updated_at]
    assert len(moved) > 0
    assert (moved.updated_at > "2026-11-01 00:00:00").all()
    assert (moved.updated_at <= "2026-11-08 00:00:00").all()
    # Deleted tickets and unsubscribes with their event.
    t1 = _pq(after, "helpdesk/tickets.parquet")
    assert (t1.status == "deleted").sum() > (
        _pq(before, "helpdesk/tickets.parquet").status == "deleted"
    ).sum()
    p0 = _pq(before, "esp/profiles.parquet").set_index("id")
    p1 = _pq(after, "esp/profiles.parquet").set_index("id").loc[p0.index]
    unsub = p1[(p1.email_consent == "UNSUBSCRIBED") & (p0.email_consent == "SUBSCRIBED")]
    assert len(unsub) > 0
    assert ((unsub.updated > lo) & (unsub.updated <= hi)).all()
    metrics = _pq(after, "esp/metrics.parquet").set_index("name").id
    ev = _pq(after, "esp/events.parquet")
    unsub_ev = ev[(ev.metric_id == metrics["Unsubscribed"]) & ev.profile_id.isin(unsub.index)]
    assert set(unsub_ev.profile_id) == set(unsub.index)


def test_advance_produces_late_events_and_new_web_files(advanced: tuple[Path, Path]) -> None:
    before, after = advanced
    lo = pd.Timestamp("2026-11-01T00:00:00Z")
    ev0 = _pq(before, "esp/events.parquet")
    ev1 = _pq(after, "esp/events.parquet")
    new = ev1[~ev1.id.isin(ev0.id)]
    late = new[new.datetime < lo]
    assert len(late) > 0
    assert (late.datetime >= lo - pd.Timedelta(days=2)).all()
    f0 = set(load_manifest(before)["web_files"]["events"])
    f1 = set(load_manifest(after)["web_files"]["events"])
    added = f1 - f0
    assert all(f.endswith("part-0001.jsonl") for f in added)
    new_days = {f for f in added if f.split("dt=")[1][:10] >= "2026-11-01"}
    late_days = {f for f in added if f.split("dt=")[1][:10] < "2026-11-01"}
    assert len(new_days) == 7
    assert late_days, "late web events go to new part files in older dt= folders"
    for f in late_days:
        folder = (after / f).parent
        assert (folder / "part-0000.jsonl").exists()


def test_advance_twice_keeps_counting(advanced: tuple[Path, Path], tmp_path: Path) -> None:
    w = tmp_path / "w"
    shutil.copytree(advanced[1], w)
    m = advance(w, 1)
    assert m["version"] == 2
    assert m["as_of"] == "2026-11-09T00:00:00Z"
    assert m["counts"] == expected_counts(w)
    assert any(f.endswith("part-0002.jsonl") for f in m["web_files"]["events"])


def test_nothing_happens_after_as_of(world: Path) -> None:
    future_ok = {("crm/deals", "closedate"), ("crm/campaigns", "hs_end_date")}
    for f in sorted(world.glob("*/*.parquet")):
        rel = str(f.relative_to(world))[: -len(".parquet")]
        if rel.startswith("truth/"):
            continue
        schema = pq.read_schema(f)
        table = pq.read_table(f)
        for field in schema:
            if pa.types.is_timestamp(field.type) and (rel, field.name) not in future_ok:
                col = table.column(field.name).drop_null().to_pandas()
                assert (col <= AS_OF).all(), (rel, field.name)
    for table, col in (
        ("orders", "updated_at"),
        ("carts", "updated_at"),
        ("customers", "updated_at"),
    ):
        mx = _sql(world, f"select max({col}) as m from {table}").m.iloc[0]
        assert mx <= "2026-11-01 00:00:00", table
    for f in sorted((world / "web").rglob("*.jsonl")):
        for line in f.read_text().splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if isinstance(e, dict) and "event_ts" in e:
                assert e["event_ts"] < "2026-11-01T00:00:00", f
                # dt= is the event's UTC day; re-delivered duplicates may land a day later.
                day = pd.Timestamp(e["event_ts"][:10])
                assert pd.Timestamp(f.parent.name[3:]) - day in (
                    pd.Timedelta(0),
                    pd.Timedelta(days=1),
                )


def test_advance_stays_the_function_after_it_ran(tmp_path: Path) -> None:
    """Running ``advance`` imports its module; the package attribute must stay callable."""
    import sandbox.world

    sandbox.world.generate(200, 1, tmp_path / "w")
    sandbox.world.advance(tmp_path / "w", 1)
    assert callable(sandbox.world.advance)
    from sandbox.world import advance

    assert advance is sandbox.world.advance
