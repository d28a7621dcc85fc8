"""The helpdesk (Zendesk-like): end-users and agents, tickets, CSAT ratings, NPS answers."""

from __future__ import annotations

from typing import Any

import numpy as np

from sandbox.world.core import DAY, HOUR, MINUTE, choice, obj
from sandbox.world.names import TICKET_SUBJECTS, TICKET_TAGS, country_names
from sandbox.world.noise import EmailNoise
from sandbox.world.people import People
from sandbox.world.systems import Ids, Rows
from sandbox.world.typed import EmailChoice, pick_email, pick_names, pick_phone

HD_EMAIL = EmailNoise(case=0.1, dots=0.1, tag=0.02, alias=0.05, typo=0.02, space=0.02, junk=0.015)
CSAT_COMMENTS = obj(
    [
        "Děkuji, rychlé vyřízení",
        "Super",
        "Nikdo mi neodpověděl",
        "Trvalo to moc dlouho",
        "Dziękuję",
        "Vďaka, všetko OK",
        "Spokojenost",
    ]
)
NPS_COMMENTS = obj(
    [
        "Skvělý obchod",
        "Doprava je drahá",
        "Rychlé dodání",
        "Málo zboží skladem",
        "Doporučuji",
        "Polecam",
        "Drahé",
        "Výborná komunikace",
    ]
)


def build_agents(rng: np.random.Generator, people: int, t0: int, ids: Ids) -> Rows:
    """Support agents (helpdesk staff; not people of the world)."""
    n = int(np.clip(5 + people // 10_000, 5, 120))
    v = country_names("CZ")
    fi = rng.integers(0, v.first_f.values.size, n)
    li = rng.integers(0, v.last_f.values.size, n)
    name = v.first_f.values[fi] + " " + v.last_f.values[li]
    email = obj([f"agent{i}@vltava-shop.cz" for i in range(1, n + 1)])
    created = t0 - rng.integers(30, 300, n) * DAY
    return Rows(
        {
            "id": ids.take("users", n),
            "name": name,
            "email": email,
            "phone": np.full(n, None, dtype=object),
            "role": np.full(n, "agent", dtype=object),
            "created_at": created,
            "updated_at": created + DAY,
        }
    )


def helpdesk_users(
    rng: np.random.Generator, people: People, t_end: int, ids: Ids, params: dict[str, Any]
) -> Rows:
    """End-users of the cohort (+ duplicates created from another channel)."""
    hp = params["helpdesk"]
    base = np.flatnonzero(people["in_helpdesk"])
    dup = base[rng.random(base.size) < hp["duplicate_user_share"]]
    pidx = np.concatenate([base, dup])
    is_dup = np.r_[np.zeros(base.size, bool), np.ones(dup.size, bool)]
    n = pidx.size
    fp = people["first_purchase_at"][pidx]
    start = np.where(fp > 0, fp, people["created_at"][pidx])
    created = start + (rng.exponential(20.0, n) * DAY).astype(np.int64)
    created = np.where(is_dup, created + (rng.random(n) * 90 * DAY).astype(np.int64), created)
    created = np.where(
        created >= t_end, start + ((t_end - start) * rng.random(n)).astype(np.int64), created
    )
    created = np.minimum(created, t_end - MINUTE)
    order = np.argsort(created, kind="stable")
    pidx, created, is_dup = pidx[order], created[order], is_dup[order]
    email, _ = pick_email(rng, people, pidx, EmailChoice(household=0.15), HD_EMAIL)
    phone, _, _ = pick_phone(rng, people, pidx, present=0.35, household=0.4)
    # Voice-channel users often exist with a phone only; duplicates often come from there.
    phone_only = (rng.random(n) < 0.06) | (is_dup & (rng.random(n) < 0.5))
    email[phone_only] = None
    phone_fill, _, _ = pick_phone(rng, people, pidx[phone_only], present=1.0)
    phone[phone_only] = phone_fill
    first, last = pick_names(rng, people, pidx, drop=0.35)
    name = np.where(rng.random(n) < 0.08, first, first + " " + last)
    name = np.where(rng.random(n) < 0.05, email, name)
    name = obj([x if x is not None else "Neznámý" for x in name])
    updated = np.where(
        rng.random(n) < 0.3, created + ((t_end - created) * rng.random(n)).astype(np.int64), created
    )
    return Rows(
        {
            "id": ids.take("users", n),
            "name": name,
            "email": email,
            "phone": phone,
            "role": np.full(n, "end-user", dtype=object),
            "created_at": created,
            "updated_at": np.minimum(updated, t_end - 1),
            "_person": pidx,
        }
    )


def ticket_state(
    rng: np.random.Generator, created: np.ndarray, t_end: int
) -> dict[str, np.ndarray]:
    """Status, first reply and solve times as of ``t_end`` for tickets created at ``created``."""
    n = created.size
    first_reply = created + (rng.exponential(5.0, n) * HOUR).astype(np.int64) + 10 * MINUTE
    solve = first_reply + (rng.exponential(40.0, n) * HOUR).astype(np.int64)
    close = solve + 4 * DAY
    status = np.full(n, "open", dtype=object)
    replied = first_reply < t_end
    solved = solve < t_end
    closed = close < t_end
    u = rng.random(n)
    status[~replied] = "new"
    status[replied & ~solved] = np.where(
        u[replied & ~solved] < 0.6, "open", np.where(u[replied & ~solved] < 0.9, "pending", "hold")
    )
    status[solved] = "solved"
    status[closed] = "closed"
    updated = np.where(
        closed, close, np.where(solved, solve, np.where(replied, first_reply, created))
    )
    return {
        "status": status,
        "first_reply_at": np.where(replied, first_reply, 0),
        "solved_at": np.where(solved, solve, 0),
        "updated_at": np.minimum(updated, t_end - 1),
    }


def make_tickets(
    rng: np.random.Generator,
    requester: np.ndarray,
    created: np.ndarray,
    agents: np.ndarray,
    t_end: int,
    ids: Ids,
) -> Rows:
    """Tickets for requesters at the given creation times (sorted by creation)."""
    order = np.argsort(created, kind="stable")
    requester, created = requester[order], created[order]
    n = created.size
    st = ticket_state(rng, created, t_end)
    ntag = rng.integers(0, 3, n)
    tags = [sorted(set(TICKET_TAGS[rng.integers(0, TICKET_TAGS.size, k)].tolist())) for k in ntag]
    tag_arr = np.empty(n, dtype=object)
    tag_arr[:] = tags
    return Rows(
        {
            "id": ids.take("tickets", n),
            "subject": TICKET_SUBJECTS[rng.integers(0, TICKET_SUBJECTS.size, n)],
            "status": st["status"],
            "priority": obj(["low", "normal", "high", "urgent"])[
                choice(rng, n, (0.2, 0.6, 0.15, 0.05))
            ],
            "channel": obj(["email", "web", "chat", "voice"])[
                choice(rng, n, (0.45, 0.25, 0.2, 0.1))
            ],
            "requester_id": requester,
            "assignee_id": np.where(
                st["status"] == "new", 0, agents[rng.integers(0, agents.size, n)]
            ),
            "tags": tag_arr,
            "created_at": created,
            "updated_at": st["updated_at"],
            "first_reply_at": st["first_reply_at"],
            "solved_at": st["solved_at"],
        }
    )


def ratings_and_nps(
    rng: np.random.Generator,
    tickets: Rows,
    users: Rows,
    t_end: int,
    ids: Ids,
    params: dict[str, Any],
) -> tuple[Rows, Rows]:
    """CSAT for a share of solved tickets; NPS answers for a share of users."""
    hp = params["helpdesk"]
    solved = np.flatnonzero(
        np.isin(tickets["status"], ["solved", "closed"])
        & (rng.random(len(tickets)) < hp["csat_share"])
    )
    t = tickets["solved_at"][solved] + (rng.exponential(1.0, solved.size) * DAY).astype(np.int64)
    ok = t < t_end
    solved, t = solved[ok], t[ok]
    order = np.argsort(t, kind="stable")
    solved, t = solved[order], t[order]
    good = rng.random(solved.size) < 0.78
    ratings = Rows(
        {
            "id": ids.take("satisfaction_ratings", solved.size),
            "ticket_id": tickets["id"][solved],
            "requester_id": tickets["requester_id"][solved],
            "score": np.where(good, "good", "bad").astype(object),
            "comment": np.where(
                rng.random(solved.size) < 0.3,
                CSAT_COMMENTS[rng.integers(0, CSAT_COMMENTS.size, solved.size)],
                None,
            ),
            "created_at": t,
            "updated_at": t,
        }
    )
    end_users = np.flatnonzero(users["role"] == "end-user")
    ans = end_users[rng.random(end_users.size) < hp["nps_share"]]
    c = users["created_at"][ans]
    nt = c + ((t_end - c) * rng.random(ans.size)).astype(np.int64)
    order = np.argsort(nt, kind="stable")
    ans, nt = ans[order], nt[order]
    score = choice(rng, ans.size, (0.03, 0.02, 0.03, 0.04, 0.05, 0.08, 0.08, 0.14, 0.2, 0.16, 0.17))
    nps = Rows(
        {
            "id": ids.take("nps_responses", ans.size),
            "user_id": users["id"][ans],
            "score": score,
            "comment": np.where(
                rng.random(ans.size) < 0.25,
                NPS_COMMENTS[rng.integers(0, NPS_COMMENTS.size, ans.size)],
                None,
            ),
            "created_at": nt,
            "updated_at": nt,
        }
    )
    return ratings, nps


def tickets_for_users(
    rng: np.random.Generator,
    users: Rows,
    agents: np.ndarray,
    t_end: int,
    ids: Ids,
    params: dict[str, Any],
) -> Rows:
    """A first ticket at user creation plus ``extra_tickets_mean`` later ones per user."""
    end_users = np.flatnonzero(users["role"] == "end-user")
    c = users["created_at"][end_users]
    k = rng.poisson(params["helpdesk"]["extra_tickets_mean"], end_users.size)
    ex = np.repeat(np.arange(end_users.size), k)
    t_ex = c[ex] + ((t_end - c[ex]) * rng.random(ex.size)).astype(np.int64)
    req = np.concatenate([users["id"][end_users], users["id"][end_users][ex]])
    created = np.concatenate([c + MINUTE, t_ex])
    ok = created < t_end
    return make_tickets(rng, req[ok], created[ok], agents, t_end, ids)
