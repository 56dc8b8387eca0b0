"""The ideas board through the API: posting, voting (one vote per fan, withdrawable), comments, the status
lifecycle and its refusals, duplicates merging their votes, notifications to voters on every change,
releases crediting authors and voters, the status hook for other domains, and vote stuffing refused with
nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from fanbase.accounts.models import AuditEntry
from fanbase.clock import Clock, FixedClock
from fanbase.community.ideas import service
from fanbase.community.ideas.models import Idea
from fanbase.context import Context
from fanbase.db import Database
from tests.helpers import auth, customer_token, table_counts, table_rows

pytestmark = pytest.mark.usefixtures("shop")


@pytest.fixture
def fans(ctx: Context, clock: FixedClock) -> list[tuple[int, str]]:
    """Five fans named 粉丝1..粉丝5: (id, token)."""
    return [customer_token(ctx.db, ctx.secret_key, clock, name=f"粉丝{n}") for n in range(1, 6)]


def post_idea(client: TestClient, token: str, title: str = "电池续航再长一点", product: str = "xiaomi-15",
              body: str = "希望续航两天") -> dict[str, Any]:
    reply = client.post("/api/v1/ideas", json={"title": title, "body": body, "product_slug": product},
                        headers=auth(token))
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def vote(client: TestClient, token: str, idea_id: int, status: int = 201) -> dict[str, Any]:
    reply = client.post(f"/api/v1/ideas/{idea_id}/votes", headers=auth(token))
    assert reply.status_code == status, reply.text
    return reply.json()  # type: ignore[no-any-return]


def patch(client: TestClient, admin: str, idea_id: int, status: str, duplicate_of: int | None = None,
          expect: int = 200) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status} | ({"duplicate_of": duplicate_of} if duplicate_of else {})
    reply = client.patch(f"/api/v1/admin/ideas/{idea_id}", json=body, headers=auth(admin))
    assert reply.status_code == expect, reply.text
    return reply.json()  # type: ignore[no-any-return]


def idea(client: TestClient, idea_id: int) -> dict[str, Any]:
    reply = client.get(f"/api/v1/ideas/{idea_id}")
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def problem(reply: Any, status: int, code: str) -> None:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert reply.json()["code"] == code, reply.json()


def notes(client: TestClient, token: str) -> dict[str, Any]:
    reply = client.get("/api/v1/me/notifications", headers=auth(token))
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


# --- posting, voting, comments --------------------------------------------------------------------------


def test_a_fan_posts_an_idea_others_vote_and_withdraw(client: TestClient, fans: list[tuple[int, str]]) -> None:
    (author_id, author), (_, second), (_, third) = fans[:3]
    posted = post_idea(client, author, title="  电池续航\n再长一点  ")
    assert {k: posted[k] for k in ("title", "status", "votes")} == {"title": "电池续航 再长一点", "status": "open",
                                                                   "votes": 1}
    assert posted["author_id"] == author_id and posted["author_name"] == "粉丝1"
    assert posted["product_slug"] == "xiaomi-15" and posted["duplicate_of"] is None
    assert vote(client, second, posted["id"]) == {"idea_id": posted["id"], "customer_id": fans[1][0], "votes": 2}
    assert vote(client, third, posted["id"])["votes"] == 3
    problem(client.post(f"/api/v1/ideas/{posted['id']}/votes", headers=auth(author)), 409, "conflict")
    assert client.delete(f"/api/v1/ideas/{posted['id']}/votes", headers=auth(third)).status_code == 204
    problem(client.delete(f"/api/v1/ideas/{posted['id']}/votes", headers=auth(third)), 404, "not_found")
    assert idea(client, posted["id"])["votes"] == 2
    assert vote(client, third, posted["id"])["votes"] == 3  # a withdrawn vote may be cast again


def test_the_board_filters_sorts_and_pages(client: TestClient, fans: list[tuple[int, str]], admin: str) -> None:
    token = fans[0][1]
    first = post_idea(client, token, title="第一个想法")
    second = post_idea(client, token, title="第二个想法")
    band = post_idea(client, token, title="手环想法", product="mi-band-9")
    for _, other in fans[1:3]:
        vote(client, other, second["id"])
    vote(client, fans[3][1], band["id"])
    patch(client, admin, first["id"], "under_review")

    def ids(**params: Any) -> list[int]:
        reply = client.get("/api/v1/ideas", params=params)
        assert reply.status_code == 200, reply.text
        return [i["id"] for i in reply.json()["items"]]

    assert ids() == [second["id"], band["id"], first["id"]]
    assert ids(sort="new") == [band["id"], second["id"], first["id"]]
    assert ids(product="xiaomi-15") == [second["id"], first["id"]]
    assert ids(status="under_review") == [first["id"]]
    assert ids(product="no-such-product") == []
    for sort in ("votes", "new"):
        page = client.get("/api/v1/ideas", params={"sort": sort, "limit": 2}).json()
        rest = client.get("/api/v1/ideas", params={"sort": sort, "limit": 2, "cursor": page["next_cursor"]}).json()
        assert [i["id"] for i in page["items"] + rest["items"]] == ids(sort=sort) and rest["next_cursor"] is None
        other = "new" if sort == "votes" else "votes"
        problem(client.get("/api/v1/ideas", params={"sort": other, "cursor": page["next_cursor"]}), 422,
                "validation_error")
    problem(client.get("/api/v1/ideas", params={"status": "maybe"}), 422, "validation_error")
    problem(client.get("/api/v1/ideas", params={"sort": "random"}), 422, "validation_error")


def test_posting_is_checked(client: TestClient, fans: list[tuple[int, str]], admin: str, db: Database) -> None:
    token = fans[0][1]
    good = {"title": "好想法", "body": "", "product_slug": "xiaomi-15"}
    before = table_rows(db)
    for bad in ({"title": "  a "}, {"title": "x" * 121}, {"body": "x" * 5001}, {"product_slug": "nope"},
                {"title": "bad\x07title"}, {"title": 123}):
        problem(client.post("/api/v1/ideas", json=good | bad, headers=auth(token)), 422, "validation_error")
    problem(client.post("/api/v1/ideas", json=good), 401, "unauthorized")
    problem(client.post("/api/v1/ideas", json=good, headers=auth(admin)), 403, "forbidden")
    assert table_rows(db) == before
    problem(client.get("/api/v1/ideas/999999"), 404, "not_found")
    problem(client.post("/api/v1/ideas/999999/votes", headers=auth(token)), 404, "not_found")
    problem(client.delete("/api/v1/ideas/999999/votes", headers=auth(token)), 404, "not_found")
    problem(client.post("/api/v1/ideas/999999/comments", json={"body": "嗯"}, headers=auth(token)), 404,
            "not_found")
    problem(client.get("/api/v1/ideas/999999/comments"), 404, "not_found")
    problem(client.patch("/api/v1/admin/ideas/999999", json={"status": "planned"}, headers=auth(admin)), 404,
            "not_found")
    posted = post_idea(client, token)
    problem(client.post(f"/api/v1/ideas/{posted['id']}/votes", headers=auth(admin)), 403, "forbidden")
    assert table_rows(db) != before


def test_vote_stuffing_from_one_account_is_refused_and_writes_nothing(client: TestClient, db: Database,
                                                                        fans: list[tuple[int, str]]) -> None:
    posted = post_idea(client, fans[0][1])
    stuffer = fans[1][1]
    vote(client, stuffer, posted["id"])
    counts, rows = table_counts(db), table_rows(db)
    for _ in range(20):
        problem(client.post(f"/api/v1/ideas/{posted['id']}/votes", headers=auth(stuffer)), 409, "conflict")
    assert table_counts(db) == counts and table_rows(db) == rows
    assert idea(client, posted["id"])["votes"] == 2


def test_comments_are_plain_text_in_order(client: TestClient, fans: list[tuple[int, str]], admin: str) -> None:
    posted = post_idea(client, fans[0][1])
    url = f"/api/v1/ideas/{posted['id']}/comments"
    first = client.post(url, json={"body": "<b>赞</b>"}, headers=auth(fans[1][1]))
    assert first.status_code == 201 and first.json()["body"] == "<b>赞</b>" and first.json()["author_name"] == "粉丝2"
    assert client.post(url, json={"body": "我们在看"}, headers=auth(admin)).status_code == 201  # staff answer
    for bad in ({"body": ""}, {"body": "   "}, {"body": "x" * 2001}, {}):
        problem(client.post(url, json=bad, headers=auth(fans[1][1])), 422, "validation_error")
    problem(client.post(url, json={"body": "嗯"}), 401, "unauthorized")
    listed = client.get(url, params={"limit": 1}).json()
    rest = client.get(url, params={"cursor": listed["next_cursor"]}).json()
    assert [c["body"] for c in listed["items"] + rest["items"]] == ["<b>赞</b>", "我们在看"]


# --- the lifecycle --------------------------------------------------------------------------------------

ALLOWED = [("open", "under_review"), ("open", "planned"), ("open", "declined"), ("under_review", "open"),
           ("under_review", "planned"), ("under_review", "declined"), ("planned", "in_progress"),
           ("planned", "declined"), ("in_progress", "planned"), ("declined", "open")]
FORBIDDEN = [("open", "open"), ("open", "in_progress"), ("under_review", "in_progress"),
             ("planned", "open"), ("planned", "under_review"), ("in_progress", "declined"),
             ("in_progress", "open"), ("declined", "planned"), ("declined", "under_review")]
PATHS = {"open": [], "under_review": ["under_review"], "planned": ["planned"],
         "in_progress": ["planned", "in_progress"], "declined": ["declined"]}


@pytest.mark.parametrize(("start", "target"), ALLOWED)
def test_allowed_transitions(client: TestClient, fans: list[tuple[int, str]], admin: str, start: str,
                             target: str) -> None:
    posted = post_idea(client, fans[0][1])
    for step in PATHS[start]:
        patch(client, admin, posted["id"], step)
    assert patch(client, admin, posted["id"], target)["status"] == target


@pytest.mark.parametrize(("start", "target"), FORBIDDEN + [(s, "shipped") for s in PATHS])
def test_forbidden_transitions_are_conflicts_and_write_nothing(client: TestClient, db: Database, admin: str,
                                                               fans: list[tuple[int, str]], start: str,
                                                               target: str) -> None:
    posted = post_idea(client, fans[0][1])
    for step in PATHS[start]:
        patch(client, admin, posted["id"], step)
    rows = table_rows(db)
    problem(client.patch(f"/api/v1/admin/ideas/{posted['id']}", json={"status": target}, headers=auth(admin)),
            409, "conflict")
    assert table_rows(db) == rows


def test_final_statuses_and_closed_votes(client: TestClient, fans: list[tuple[int, str]], admin: str) -> None:
    posted = post_idea(client, fans[0][1])
    vote(client, fans[1][1], posted["id"])
    patch(client, admin, posted["id"], "declined")
    problem(client.post(f"/api/v1/ideas/{posted['id']}/votes", headers=auth(fans[2][1])), 409, "conflict")
    problem(client.delete(f"/api/v1/ideas/{posted['id']}/votes", headers=auth(fans[1][1])), 409, "conflict")
    assert idea(client, posted["id"])["votes"] == 2
    patch(client, admin, posted["id"], "open")  # reconsidered: votes open again
    vote(client, fans[2][1], posted["id"])
    shipped = _publish(client, admin, [posted["id"]])
    for target in ("open", "planned", "declined", "shipped"):
        patch(client, admin, posted["id"], target, expect=409)
    assert idea(client, posted["id"])["release_id"] == shipped["id"]


def test_only_operators_change_status(client: TestClient, fans: list[tuple[int, str]], ctx: Context,
                                      clock: FixedClock) -> None:
    from tests.helpers import staff_token

    posted = post_idea(client, fans[0][1])
    url = f"/api/v1/admin/ideas/{posted['id']}"
    problem(client.patch(url, json={"status": "planned"}), 401, "unauthorized")
    problem(client.patch(url, json={"status": "planned"}, headers=auth(fans[0][1])), 403, "forbidden")
    _, clerk = staff_token(ctx.db, ctx.secret_key, clock, role="clerk")
    problem(client.patch(url, json={"status": "planned"}, headers=auth(clerk)), 403, "forbidden")
    _, operator = staff_token(ctx.db, ctx.secret_key, clock, role="operator")
    assert patch(client, operator, posted["id"], "planned")["status"] == "planned"


# --- duplicates -----------------------------------------------------------------------------------------


def test_a_duplicate_merges_its_votes_into_the_original(client: TestClient, db: Database, admin: str,
                                                         fans: list[tuple[int, str]]) -> None:
    (_, a), (_, b), (_, v1), (_, v2), (_, v3) = fans
    original = post_idea(client, a, title="原来的想法")
    copy = post_idea(client, b, title="重复的想法")
    vote(client, v1, original["id"])
    vote(client, v2, original["id"])
    vote(client, v2, copy["id"])  # a voter of both keeps one vote
    vote(client, v3, copy["id"])
    merged = patch(client, admin, copy["id"], "duplicate", duplicate_of=original["id"])
    assert merged["status"] == "duplicate" and merged["duplicate_of"] == original["id"] and merged["votes"] == 0
    assert idea(client, original["id"])["votes"] == 5  # a, v1, v2 + b, v3
    # the merged votes are real votes of the original: a second vote is refused, withdrawal works
    problem(client.post(f"/api/v1/ideas/{original['id']}/votes", headers=auth(v3)), 409, "conflict")
    assert client.delete(f"/api/v1/ideas/{original['id']}/votes", headers=auth(b)).status_code == 204
    assert idea(client, original["id"])["votes"] == 4
    problem(client.post(f"/api/v1/ideas/{copy['id']}/votes", headers=auth(a)), 409, "conflict")
    for fan in (b, v2, v3):
        latest = notes(client, fan)["items"][0]
        assert latest["kind"] == "idea_duplicate" and latest["link"] == f"/ideas/{original['id']}"
        assert latest["params"]["original_id"] == original["id"]
    assert notes(client, v1)["items"] == []
    with db.read() as s:
        assert s.scalar(select(AuditEntry.detail).where(AuditEntry.action == "idea.status")) == {
            "from": "open", "to": "duplicate", "duplicate_of": original["id"]}


def test_duplicate_rules(client: TestClient, db: Database, admin: str, fans: list[tuple[int, str]]) -> None:
    token = fans[0][1]
    first = post_idea(client, token)
    second = post_idea(client, token)
    other_product = post_idea(client, token, product="mi-band-9")
    closed = post_idea(client, token)
    patch(client, admin, closed["id"], "declined")
    rows = table_rows(db)
    url = f"/api/v1/admin/ideas/{second['id']}"
    for body, status, code in (
            ({"status": "duplicate"}, 422, "validation_error"),
            ({"status": "duplicate", "duplicate_of": second["id"]}, 422, "validation_error"),
            ({"status": "duplicate", "duplicate_of": 999999}, 422, "validation_error"),
            ({"status": "duplicate", "duplicate_of": other_product["id"]}, 422, "validation_error"),
            ({"status": "planned", "duplicate_of": first["id"]}, 422, "validation_error"),
            ({"status": "duplicate", "duplicate_of": closed["id"]}, 409, "conflict"),
            ({"status": "duplicate", "duplicate_of": "1"}, 422, "validation_error")):
        problem(client.patch(url, json=body, headers=auth(admin)), status, code)
    assert table_rows(db) == rows
    patch(client, admin, second["id"], "duplicate", duplicate_of=first["id"])
    # a duplicate cannot take another's votes, nor be reopened
    patch(client, admin, first["id"], "duplicate", duplicate_of=second["id"], expect=409)
    patch(client, admin, second["id"], "open", expect=409)


# --- notifications -------------------------------------------------------------------------------------


def test_every_change_notifies_each_voter_and_the_author_once(client: TestClient, admin: str,
                                                               fans: list[tuple[int, str]]) -> None:
    (_, author), (_, voter), (_, withdrawn), (_, stranger), _ = fans
    posted = post_idea(client, author, title="夜间模式")
    vote(client, voter, posted["id"])
    vote(client, withdrawn, posted["id"])
    assert client.delete(f"/api/v1/ideas/{posted['id']}/votes", headers=auth(withdrawn)).status_code == 204
    patch(client, admin, posted["id"], "under_review")
    patch(client, admin, posted["id"], "planned")
    client.post(f"/api/v1/ideas/{posted['id']}/votes", headers=auth(stranger))  # joins now
    patch(client, admin, posted["id"], "in_progress")
    release = _publish(client, admin, [posted["id"]], version="2.0")

    def kinds(token: str) -> list[tuple[str, str]]:
        return [(n["kind"], n["params"].get("status", "")) for n in notes(client, token)["items"]]

    expected = [("idea_shipped", ""), ("idea_status", "in_progress"), ("idea_status", "planned"),
                ("idea_status", "under_review")]
    assert kinds(author) == expected and kinds(voter) == expected
    assert kinds(stranger) == expected[:2] and kinds(withdrawn) == []
    mine = notes(client, voter)
    assert mine["unread"] == 4 and mine["items"][0]["link"] == f"/releases/{release['id']}"
    english = client.get("/api/v1/me/notifications", headers=auth(voter) | {"Accept-Language": "en"}).json()
    assert english["items"][0]["text"] == "“夜间模式” shipped in xiaomi-15 2.0"
    assert english["items"][1]["text"] == "“夜间模式” is now In progress"
    # reading: one, someone else's (404), then all
    first_id = mine["items"][0]["id"]
    assert client.post(f"/api/v1/me/notifications/{first_id}/read", headers=auth(voter)).status_code == 204
    assert notes(client, voter)["unread"] == 3 and notes(client, voter)["items"][0]["read_at"]
    problem(client.post(f"/api/v1/me/notifications/{first_id}/read", headers=auth(author)), 404, "not_found")
    assert client.post("/api/v1/me/notifications/read", headers=auth(voter)).status_code == 204
    assert notes(client, voter)["unread"] == 0 and notes(client, author)["unread"] == 4
    problem(client.get("/api/v1/me/notifications"), 401, "unauthorized")
    page = client.get("/api/v1/me/notifications", params={"limit": 3}, headers=auth(author)).json()
    rest = client.get("/api/v1/me/notifications", params={"cursor": page["next_cursor"]}, headers=auth(author))
    assert len(page["items"]) == 3 and len(rest.json()["items"]) == 1


# --- releases --------------------------------------------------------------------------------------------


def _publish(client: TestClient, admin: str, idea_ids: list[int], version: str = "1.1",
             product: str = "xiaomi-15", expect: int = 201) -> dict[str, Any]:
    reply = client.post("/api/v1/admin/releases", json={"product_slug": product, "version": version,
                                                        "released_on": "2026-11-25", "notes": "更好的续航",
                                                        "idea_ids": idea_ids}, headers=auth(admin))
    assert reply.status_code == expect, reply.text
    return reply.json()  # type: ignore[no-any-return]


def test_a_release_ships_ideas_and_credits_authors_and_voters_once(client: TestClient, db: Database, admin: str,
                                                                   fans: list[tuple[int, str]]) -> None:
    (a_id, a), (b_id, b), (v1_id, v1), (v2_id, v2), (_, outsider) = fans
    battery = post_idea(client, a, title="续航更长")
    camera = post_idea(client, b, title="相机更好")
    other = post_idea(client, outsider, title="不在这个版本")
    vote(client, v1, battery["id"])
    vote(client, b, battery["id"])  # b wrote camera: credited as its author, once
    vote(client, v1, camera["id"])  # v1 voted twice: credited once
    vote(client, v2, camera["id"])
    patch(client, admin, camera["id"], "planned")
    release = _publish(client, admin, [battery["id"], camera["id"]])
    assert release["version"] == "1.1" and release["product_slug"] == "xiaomi-15"
    assert release["released_on"] == "2026-11-25" and release["notes"] == "更好的续航"
    assert [i["id"] for i in release["ideas"]] == [battery["id"], camera["id"]]
    assert {i["status"] for i in release["ideas"]} == {"shipped"}
    assert release["credits"] == [
        {"customer_id": a_id, "name": "粉丝1", "role": "author"},
        {"customer_id": b_id, "name": "粉丝2", "role": "author"},
        {"customer_id": v1_id, "name": "粉丝3", "role": "voter"},
        {"customer_id": v2_id, "name": "粉丝4", "role": "voter"}]
    assert client.get(f"/api/v1/releases/{release['id']}").json() == release
    listed = client.get("/api/v1/releases", params={"product": "xiaomi-15"}).json()
    assert [r["id"] for r in listed["items"]] == [release["id"]]
    assert client.get("/api/v1/releases", params={"product": "mi-band-9"}).json()["items"] == []
    problem(client.get("/api/v1/releases/999999"), 404, "not_found")
    # votes of a shipped idea are its credits: they stay
    problem(client.post(f"/api/v1/ideas/{battery['id']}/votes", headers=auth(v2)), 409, "conflict")
    problem(client.delete(f"/api/v1/ideas/{battery['id']}/votes", headers=auth(v1)), 409, "conflict")
    with db.read() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "release.publish")).one()
        assert entry.target == f"release:{release['id']}" and entry.detail["ideas"] == [battery["id"], camera["id"]]
        assert service.shipped_idea_authors(s, [a_id, b_id, v1_id]) == {a_id, b_id}
        assert [i.id for i in service.shipped_ideas_by(s, a_id)] == [battery["id"]]
    assert other["status"] == "open"


def test_release_refusals_write_nothing(client: TestClient, db: Database, admin: str,
                                        fans: list[tuple[int, str]]) -> None:
    token = fans[0][1]
    first = post_idea(client, token)
    band = post_idea(client, token, product="mi-band-9")
    declined = post_idea(client, token)
    patch(client, admin, declined["id"], "declined")
    _publish(client, admin, [], version="1.0")
    rows = table_rows(db)
    _publish(client, admin, [first["id"]], version="1.0", expect=409)  # that version exists
    _publish(client, admin, [declined["id"]], version="1.2", expect=409)
    _publish(client, admin, [band["id"]], version="1.2", expect=422)
    _publish(client, admin, [999999], version="1.2", expect=422)
    _publish(client, admin, [first["id"], first["id"]], version="1.2", expect=422)
    _publish(client, admin, [first["id"]], version="1.2", product="nope", expect=422)
    _publish(client, admin, [first["id"]], version="   ", expect=422)
    problem(client.post("/api/v1/admin/releases", json={"product_slug": "xiaomi-15", "version": "1.2",
                                                         "released_on": "2026-11-25", "idea_ids": []},
                        headers=auth(token)), 403, "forbidden")
    assert table_rows(db) == rows
    _publish(client, admin, [first["id"]], version="1.2")
    _publish(client, admin, [first["id"]], version="1.3", expect=409)  # shipped once


# --- the hook for other domains -------------------------------------------------------------------------


@pytest.fixture
def heard() -> Iterator[list[tuple[int, str, str]]]:
    seen: list[tuple[int, str, str]] = []

    def listener(session: Any, clock: Clock, changed: Idea, old: str) -> None:
        seen.append((changed.id, old, changed.status))

    service.on_status(listener)
    yield seen
    service.remove_listener(listener)


def test_other_domains_hear_status_changes_in_the_same_transaction(client: TestClient, admin: str,
                                                                    fans: list[tuple[int, str]],
                                                                    heard: list[tuple[int, str, str]]) -> None:
    posted = post_idea(client, fans[0][1])
    patch(client, admin, posted["id"], "planned")
    _publish(client, admin, [posted["id"]])
    assert heard == [(posted["id"], "open", "planned"), (posted["id"], "planned", "shipped")]


def test_a_listener_that_fails_rolls_the_change_back(client: TestClient, db: Database, admin: str,
                                                     fans: list[tuple[int, str]]) -> None:
    posted = post_idea(client, fans[0][1])

    def refuse(session: Any, clock: Clock, changed: Idea, old: str) -> None:
        raise RuntimeError("membership is down")

    rows = table_rows(db)
    service.on_status(refuse)
    try:
        reply = client.patch(f"/api/v1/admin/ideas/{posted['id']}", json={"status": "planned"},
                             headers=auth(admin))
    finally:
        service.remove_listener(refuse)
    assert reply.status_code == 500
    assert table_rows(db) == rows
