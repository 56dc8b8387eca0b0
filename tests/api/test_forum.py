"""The community forum through the API: boards, threads (pinned first), replies, safe Markdown, likes, reports,
reads, mentions, trust levels (new members limited; levels rise with activity and fall with a confirmed
report), suspensions, locks, hidden posts, and every moderator write audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from fanbase.accounts import service as accounts
from fanbase.accounts.models import AuditEntry
from fanbase.clock import FixedClock
from fanbase.community.forum import service as forum
from fanbase.context import Context
from fanbase.db import Database
from tests.helpers import auth, staff_token, table_counts

API = "/api/v1"


def member(db: Database, ctx: Context, clock: FixedClock, name: str, email: str) -> tuple[int, str]:
    with db.uow() as s:
        user = accounts.register_customer(s, clock, email=email, password="password-1", name=name)
        return user.id, accounts.issue_token(ctx.secret_key, user, clock.now(), 3600 * 24 * 365)


def board(client: TestClient, admin: str, slug: str = "general", **extra: Any) -> dict[str, Any]:
    reply = client.post(f"{API}/admin/forum/boards", json={"slug": slug, "name": slug.title(), **extra},
                        headers=auth(admin))
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def thread(client: TestClient, token: str, title: str = "你好", body: str = "第一帖", slug: str = "general") -> Any:
    reply = client.post(f"{API}/boards/{slug}/threads", json={"title": title, "body": body}, headers=auth(token))
    assert reply.status_code == 201, reply.text
    return reply.json()


def post(client: TestClient, token: str, thread_id: int, body: str = "回复") -> Any:
    reply = client.post(f"{API}/threads/{thread_id}/posts", json={"body": body}, headers=auth(token))
    assert reply.status_code == 201, reply.text
    return reply.json()


def problem(reply: Any, status: int, code: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = reply.json()
    assert body["code"] == code, body
    return body


def standing(client: TestClient, token: str) -> dict[str, Any]:
    reply = client.get(f"{API}/me/forum", headers=auth(token))
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def last_audit(db: Database) -> tuple[str, str, int | None]:
    with db.read() as s:
        action, target, actor = s.execute(select(AuditEntry.action, AuditEntry.target, AuditEntry.actor_id)
                                          .order_by(AuditEntry.id.desc()).limit(1)).one()
        return action, target, actor


def promote(client: TestClient, admin: str, token: str, reads: int = 5) -> None:
    """Reads ``reads`` threads (staff-started, so they are there) as the member behind ``token``."""
    for n in range(reads):
        started = thread(client, admin, title=f"公告 {n}")
        assert client.post(f"{API}/threads/{started['id']}/reads", headers=auth(token)).status_code == 204


def test_boards_threads_and_replies(client: TestClient, fan: str, admin: str) -> None:
    made = board(client, admin, "phones", name="手机", description="小米手机", product_line="phones")
    assert made["product_line"] == "phones" and made["thread_count"] == 0
    board(client, admin, "general")
    problem(client.post(f"{API}/admin/forum/boards", json={"slug": "phones", "name": "again"}, headers=auth(admin)),
            409, "conflict")
    problem(client.post(f"{API}/admin/forum/boards", json={"slug": "Bad Slug", "name": "x"}, headers=auth(admin)),
            422, "validation_error")
    problem(client.post(f"{API}/admin/forum/boards", json={"slug": "threads", "name": "x"}, headers=auth(admin)),
            422, "validation_error")
    problem(client.post(f"{API}/admin/forum/boards", json={"slug": "x", "name": "x"}, headers=auth(fan)),
            403, "forbidden")

    started = thread(client, fan, title="小米 15 续航", body="**很好**")
    assert started["board"] == "general" and started["author"]["trust_level"] == 0
    assert [p["html"] for p in started["posts"]] == ["<p><strong>很好</strong></p>\n"]
    for n in range(2):
        post(client, fan, started["id"], f"回复 {n}")

    boards = client.get(f"{API}/boards").json()["items"]
    assert [(b["slug"], b["thread_count"]) for b in boards] == [("general", 1), ("phones", 0)]
    listed = client.get(f"{API}/boards/general/threads").json()
    assert [t["id"] for t in listed["items"]] == [started["id"]] and listed["items"][0]["reply_count"] == 2

    first = client.get(f"{API}/threads/{started['id']}", params={"limit": 2}).json()
    assert [p["body"] for p in first["posts"]] == ["**很好**", "回复 0"] and first["next_cursor"]
    rest = client.get(f"{API}/threads/{started['id']}", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [p["body"] for p in rest["posts"]] == ["回复 1"] and rest["next_cursor"] is None

    problem(client.get(f"{API}/boards/nowhere/threads"), 404, "not_found")
    problem(client.get(f"{API}/threads/999999"), 404, "not_found")
    problem(client.post(f"{API}/boards/nowhere/threads", json={"title": "t", "body": "b"}, headers=auth(fan)),
            404, "not_found")
    problem(client.post(f"{API}/threads/999999/posts", json={"body": "b"}, headers=auth(fan)), 404, "not_found")
    problem(client.post(f"{API}/boards/general/threads", json={"title": "   ", "body": "b"}, headers=auth(fan)),
            422, "validation_error")
    problem(client.post(f"{API}/boards/general/threads", json={"title": "t"}, headers=auth(fan)),
            422, "validation_error")
    problem(client.post(f"{API}/boards/general/threads", json={"title": "t", "body": "b"}), 401, "unauthorized")


def test_pinned_threads_come_first_then_the_latest_answered(client: TestClient, fan: str, admin: str) -> None:
    board(client, admin)
    ids = [thread(client, fan, title=f"t{n}")["id"] for n in range(3)]
    post(client, admin, ids[0])  # bumps the oldest
    pinned = client.post(f"{API}/admin/forum/threads/{ids[1]}/pin", headers=auth(admin))
    assert pinned.status_code == 200 and pinned.json()["pinned"] is True
    problem(client.post(f"{API}/admin/forum/threads/{ids[1]}/pin", headers=auth(admin)), 409, "conflict")
    order = client.get(f"{API}/boards/general/threads").json()["items"]
    assert [t["id"] for t in order] == [ids[1], ids[0], ids[2]]
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = client.get(f"{API}/boards/general/threads", params=params)
        seen += [t["id"] for t in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert seen == [ids[1], ids[0], ids[2]]
    problem(client.get(f"{API}/boards/general/threads", params={"cursor": "garbage!"}), 422, "validation_error")
    assert client.post(f"{API}/admin/forum/threads/{ids[1]}/unpin", headers=auth(admin)).json()["pinned"] is False
    assert last_audit(db=client.app.state.ctx.db)[:2] == ("forum.thread.unpin", f"thread:{ids[1]}")


def test_markdown_with_html_and_bad_links_is_neutralised(client: TestClient, fan: str, admin: str) -> None:
    board(client, admin)
    body = ("<script>alert('x')</script> **粗** *斜* `<b>code</b>` [click](javascript:alert(1)) "
            "<img src=x onerror=alert(1)> ![i](data:image/png;base64,AAAA)\n\n- one\n- two")
    html = thread(client, fan, body=body)["posts"][0]["html"]
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "onerror=alert(1)&gt;" in html
    assert "javascript:" not in html.split("[click]")[0] and 'href="javascript' not in html
    assert "<a " not in html and "<strong>粗</strong>" in html and "<em>斜</em>" in html
    assert "<code>&lt;b&gt;code&lt;/b&gt;</code>" in html and "<li>one</li>" in html


def test_links_are_safe_and_only_for_members_past_level_0(client: TestClient, db: Database, fan: str,
                                                          admin: str) -> None:
    board(client, admin)
    opened = thread(client, fan)
    for body in ("看 https://example.com", "[好价](https://example.com)", "www.example.com", "<http://a.example>"):
        before = table_counts(db)
        refused = problem(client.post(f"{API}/threads/{opened['id']}/posts", json={"body": body}, headers=auth(fan)),
                          403, "forbidden")
        assert "links" in refused["detail"] or "链接" in refused["detail"]
        assert table_counts(db) == before
    promote(client, admin, fan)
    assert standing(client, fan)["trust_level"] == 1  # five threads read and one post made
    html = post(client, fan, opened["id"], "[好价](https://example.com/a?b=1) and [x](ftp://example.com)")["html"]
    assert '<a href="https://example.com/a?b=1" rel="nofollow ugc noopener">好价</a>' in html
    assert "ftp://" in html and html.count("<a ") == 1


def test_new_members_post_three_times_a_local_day(client: TestClient, db: Database, ctx: Context,
                                                  clock: FixedClock, fan: str, admin: str) -> None:
    board(client, admin)
    clock.set(datetime(2026, 11, 25, 15, 50, tzinfo=UTC))  # 23:50 in Shanghai
    opened = thread(client, fan)
    post(client, fan, opened["id"])
    post(client, fan, opened["id"])
    assert standing(client, fan)["posts_left_today"] == 0
    before = table_counts(db)
    refused = client.post(f"{API}/threads/{opened['id']}/posts", json={"body": "第四帖"}, headers=auth(fan))
    problem(refused, 429, "rate_limited")
    assert refused.headers["retry-after"] == "600"
    problem(client.post(f"{API}/boards/general/threads", json={"title": "t", "body": "b"}, headers=auth(fan)),
            429, "rate_limited")
    assert table_counts(db) == before
    post(client, admin, opened["id"], "staff are not limited")
    clock.advance(10 * 60 + 1)  # 00:00:01 the next day
    post(client, fan, opened["id"], "新的一天")
    assert standing(client, fan)["posts_left_today"] == 2


def test_trust_level_rises_with_activity_and_falls_with_a_confirmed_report(
        client: TestClient, db: Database, ctx: Context, clock: FixedClock, fan: str, admin: str) -> None:
    board(client, admin)
    _, other = member(db, ctx, clock, "路人", "other@example.com")
    assert standing(client, fan)["trust_level"] == 0
    promote(client, admin, fan, reads=4)
    started = thread(client, admin, title="第五个")
    assert client.post(f"{API}/threads/{started['id']}/reads", headers=auth(fan)).status_code == 204
    assert client.post(f"{API}/threads/{started['id']}/reads", headers=auth(fan)).status_code == 204  # once
    assert standing(client, fan)["threads_read"] == 5 and standing(client, fan)["trust_level"] == 0  # no post yet
    mine = post(client, fan, started["id"], "我来了")
    now = standing(client, fan)
    assert now["trust_level"] == 1 and now["may_post_links"] and now["daily_posts"] == 30

    assert client.post(f"{API}/posts/{mine['id']}/likes", headers=auth(other)).status_code == 201
    assert client.get(f"{API}/threads/{started['id']}").json()["posts"][1]["author"]["trust_level"] == 1

    report = client.post(f"{API}/posts/{mine['id']}/reports", json={"reason": "广告"}, headers=auth(other))
    assert report.status_code == 201 and report.json()["status"] == "open"
    queue = client.get(f"{API}/admin/forum/reports", headers=auth(admin)).json()["items"]
    assert [r["id"] for r in queue] == [report.json()["id"]]
    confirmed = client.post(f"{API}/admin/forum/reports/{report.json()['id']}/confirm", headers=auth(admin))
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    action, target, actor = last_audit(db)
    assert (action, target) == ("forum.report.confirm", f"report:{report.json()['id']}") and actor is not None
    after = standing(client, fan)
    assert after["trust_level"] == 0 and after["penalties"] == 1 and not after["may_post_links"]
    problem(client.post(f"{API}/threads/{started['id']}/posts", json={"body": "https://x.example"},
                        headers=auth(fan)), 403, "forbidden")
    hidden = client.get(f"{API}/threads/{started['id']}", headers=auth(other)).json()["posts"][1]
    assert hidden["hidden"] is True and hidden["body"] is None and hidden["html"] is None
    problem(client.post(f"{API}/admin/forum/reports/{report.json()['id']}/confirm", headers=auth(admin)),
            409, "conflict")
    assert client.get(f"{API}/admin/forum/reports", headers=auth(admin)).json()["items"] == []
    # the penalty wears off after PENALTY_DAYS
    clock.advance((forum.PENALTY_DAYS + 1) * 86400)
    assert standing(client, fan)["trust_level"] == 1


def test_levels_from_counts_and_days() -> None:
    def level(read: int, posts: int, likes: int, days: int, penalties: int = 0) -> int:
        return forum.earned_level(threads_read=read, posts_made=posts, likes_received=likes, days=days,
                                  penalties=penalties)

    assert level(4, 10, 10, 100) == 0 and level(5, 1, 0, 0) == 1
    assert level(20, 10, 5, 6) == 1 and level(20, 10, 5, 7) == 2 and level(20, 10, 4, 7) == 1
    assert level(50, 30, 20, 30) == 3 and level(50, 30, 20, 29) == 2
    assert level(50, 30, 20, 30, penalties=2) == 1 and level(5, 1, 0, 0, penalties=3) == 0


def test_likes(client: TestClient, db: Database, ctx: Context, clock: FixedClock, fan: str, admin: str) -> None:
    board(client, admin)
    _, other = member(db, ctx, clock, "路人", "other@example.com")
    first = thread(client, fan)["posts"][0]
    problem(client.post(f"{API}/posts/{first['id']}/likes", headers=auth(fan)), 403, "forbidden")
    liked = client.post(f"{API}/posts/{first['id']}/likes", headers=auth(other))
    assert liked.status_code == 201 and liked.json() == {"post_id": first["id"], "like_count": 1, "liked": True}
    problem(client.post(f"{API}/posts/{first['id']}/likes", headers=auth(other)), 409, "conflict")
    seen = client.get(f"{API}/threads/{first['thread_id']}", headers=auth(other)).json()["posts"][0]
    assert seen["liked"] is True and seen["like_count"] == 1
    assert standing(client, fan)["likes_received"] == 1
    assert client.delete(f"{API}/posts/{first['id']}/likes", headers=auth(other)).status_code == 204
    problem(client.delete(f"{API}/posts/{first['id']}/likes", headers=auth(other)), 404, "not_found")
    assert standing(client, fan)["likes_received"] == 0
    problem(client.post(f"{API}/posts/999999/likes", headers=auth(other)), 404, "not_found")
    problem(client.post(f"{API}/posts/{first['id']}/likes"), 401, "unauthorized")


def test_reports_once_per_reporter_and_dismissal(client: TestClient, db: Database, ctx: Context, clock: FixedClock,
                                                 fan: str, admin: str) -> None:
    board(client, admin)
    _, other = member(db, ctx, clock, "路人", "other@example.com")
    first = thread(client, fan)["posts"][0]
    problem(client.post(f"{API}/posts/{first['id']}/reports", json={"reason": "x"}, headers=auth(fan)),
            403, "forbidden")
    made = client.post(f"{API}/posts/{first['id']}/reports", json={"reason": "跑题"}, headers=auth(other))
    assert made.status_code == 201
    problem(client.post(f"{API}/posts/{first['id']}/reports", json={"reason": "again"}, headers=auth(other)),
            409, "conflict")
    problem(client.post(f"{API}/posts/{first['id']}/reports", json={"reason": ""}, headers=auth(other)),
            422, "validation_error")
    problem(client.get(f"{API}/admin/forum/reports", headers=auth(fan)), 403, "forbidden")
    dismissed = client.post(f"{API}/admin/forum/reports/{made.json()['id']}/dismiss", headers=auth(admin))
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert last_audit(db)[0] == "forum.report.dismiss"
    problem(client.post(f"{API}/admin/forum/reports/{made.json()['id']}/confirm", headers=auth(admin)),
            409, "conflict")
    problem(client.post(f"{API}/admin/forum/reports/999999/dismiss", headers=auth(admin)), 404, "not_found")
    listed = client.get(f"{API}/admin/forum/reports", params={"status": "dismissed"}, headers=auth(admin)).json()
    assert [r["id"] for r in listed["items"]] == [made.json()["id"]]
    assert standing(client, fan)["penalties"] == 0


def test_a_suspended_member_writes_nothing(client: TestClient, db: Database, ctx: Context, clock: FixedClock,
                                           fan: str, admin: str) -> None:
    board(client, admin)
    fan_id = client.get(f"{API}/me", headers=auth(fan)).json()["id"]
    _, other = member(db, ctx, clock, "路人", "other@example.com")
    opened = thread(client, other)
    until = (clock.now() + timedelta(days=3)).isoformat()
    suspended = client.put(f"{API}/admin/forum/members/{fan_id}/suspension", json={"until": until, "reason": "刷屏"},
                           headers=auth(admin))
    assert suspended.status_code == 200 and suspended.json()["suspended_until"] is not None
    assert last_audit(db)[:2] == ("forum.member.suspend", f"user:{fan_id}")
    before = table_counts(db)
    first = opened["posts"][0]["id"]
    for method, path, body in (("POST", "/boards/general/threads", {"title": "t", "body": "b"}),
                               ("POST", f"/threads/{opened['id']}/posts", {"body": "b"}),
                               ("POST", f"/posts/{first}/likes", None),
                               ("POST", f"/posts/{first}/reports", {"reason": "r"})):
        refused = problem(client.request(method, API + path, json=body, headers=auth(fan)), 403, "forbidden")
        assert "suspended" in refused["detail"] or "禁言" in refused["detail"] or "暂停" in refused["detail"], refused
    assert table_counts(db) == before
    assert client.get(f"{API}/threads/{opened['id']}", headers=auth(fan)).status_code == 200  # may still read
    assert standing(client, fan)["suspended_until"] is not None

    lifted = client.delete(f"{API}/admin/forum/members/{fan_id}/suspension", headers=auth(admin))
    assert lifted.status_code == 200 and lifted.json()["suspended_until"] is None
    assert last_audit(db)[0] == "forum.member.unsuspend"
    problem(client.delete(f"{API}/admin/forum/members/{fan_id}/suspension", headers=auth(admin)), 409, "conflict")
    post(client, fan, opened["id"])

    # a suspension ends by itself
    client.put(f"{API}/admin/forum/members/{fan_id}/suspension",
               json={"until": (clock.now() + timedelta(hours=1)).isoformat()}, headers=auth(admin))
    clock.advance(3601)
    post(client, fan, opened["id"])

    admin_id = client.get(f"{API}/me", headers=auth(admin)).json()["id"]
    problem(client.put(f"{API}/admin/forum/members/{admin_id}/suspension", json={"until": until},
                       headers=auth(admin)), 409, "conflict")
    problem(client.put(f"{API}/admin/forum/members/{fan_id}/suspension",
                       json={"until": (clock.now() - timedelta(minutes=1)).isoformat()}, headers=auth(admin)),
            422, "validation_error")
    problem(client.put(f"{API}/admin/forum/members/{fan_id}/suspension", json={"until": "2026-12-01T00:00:00"},
                       headers=auth(admin)), 422, "validation_error")  # no offset
    problem(client.put(f"{API}/admin/forum/members/999999/suspension", json={"until": until}, headers=auth(admin)),
            404, "not_found")
    assert client.get(f"{API}/admin/forum/members/{fan_id}", headers=auth(admin)).json()["posts_made"] == 2


def test_a_locked_thread_refuses_replies(client: TestClient, db: Database, fan: str, admin: str) -> None:
    board(client, admin)
    opened = thread(client, fan)
    locked = client.post(f"{API}/admin/forum/threads/{opened['id']}/lock", headers=auth(admin))
    assert locked.status_code == 200 and locked.json()["locked"] is True
    assert last_audit(db)[:2] == ("forum.thread.lock", f"thread:{opened['id']}")
    before = table_counts(db)
    problem(client.post(f"{API}/threads/{opened['id']}/posts", json={"body": "b"}, headers=auth(fan)), 409, "conflict")
    assert table_counts(db) == before
    problem(client.post(f"{API}/admin/forum/threads/{opened['id']}/lock", headers=auth(admin)), 409, "conflict")
    problem(client.post(f"{API}/admin/forum/threads/999999/lock", headers=auth(admin)), 404, "not_found")
    assert client.post(f"{API}/admin/forum/threads/{opened['id']}/unlock", headers=auth(admin)).status_code == 200
    post(client, fan, opened["id"])


def test_hidden_posts_are_hidden_from_others(client: TestClient, db: Database, ctx: Context, clock: FixedClock,
                                             fan: str, admin: str) -> None:
    board(client, admin)
    _, other = member(db, ctx, clock, "路人", "other@example.com")
    opened = thread(client, fan, title="标题")
    answer = post(client, fan, opened["id"], "不妥的话")
    hidden = client.post(f"{API}/admin/forum/posts/{answer['id']}/hide", headers=auth(admin))
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    assert last_audit(db)[:2] == ("forum.post.hide", f"post:{answer['id']}")
    problem(client.post(f"{API}/admin/forum/posts/{answer['id']}/hide", headers=auth(admin)), 409, "conflict")
    for token, shown in ((None, False), (other, False), (fan, True), (admin, True)):
        seen = client.get(f"{API}/threads/{opened['id']}", headers=auth(token) if token else {}).json()["posts"][1]
        assert seen["hidden"] is True and (seen["body"] == "不妥的话") is shown and (seen["html"] is None) is not shown
    problem(client.post(f"{API}/posts/{answer['id']}/likes", headers=auth(other)), 404, "not_found")
    assert client.post(f"{API}/admin/forum/posts/{answer['id']}/unhide", headers=auth(admin)).status_code == 200
    assert client.get(f"{API}/threads/{opened['id']}").json()["posts"][1]["body"] == "不妥的话"

    # hiding the opening post hides the thread from everyone but its author and staff
    client.post(f"{API}/admin/forum/posts/{opened['posts'][0]['id']}/hide", headers=auth(admin))
    problem(client.get(f"{API}/threads/{opened['id']}", headers=auth(other)), 404, "not_found")
    problem(client.post(f"{API}/threads/{opened['id']}/posts", json={"body": "b"}, headers=auth(other)),
            404, "not_found")
    assert client.get(f"{API}/boards/general/threads").json()["items"] == []
    assert client.get(f"{API}/boards").json()["items"][0]["thread_count"] == 0
    assert client.get(f"{API}/threads/{opened['id']}", headers=auth(fan)).status_code == 200
    assert [t["hidden"] for t in client.get(f"{API}/boards/general/threads", headers=auth(admin)).json()["items"]] \
        == [True]


def test_mentions(client: TestClient, db: Database, ctx: Context, clock: FixedClock, fan: str, admin: str) -> None:
    board(client, admin)
    _, alice = member(db, ctx, clock, "Alice", "alice.w@example.com")
    _, bob = member(db, ctx, clock, "鲍勃", "bob@example.com")
    fan_id = client.get(f"{API}/me", headers=auth(fan)).json()["id"]
    opened = thread(client, fan, body="@alice 你好, @鲍勃 看看; `@bob` in code; mail bob@example.com; @nobody")
    assert client.get(f"{API}/me/mentions", headers=auth(bob)).json()["unread"] == 1
    inbox = client.get(f"{API}/me/mentions", headers=auth(alice)).json()
    assert inbox["unread"] == 1 and len(inbox["items"]) == 1
    mention = inbox["items"][0]
    assert mention["thread_id"] == opened["id"] and mention["author"]["id"] == fan_id and mention["read"] is False
    problem(client.post(f"{API}/me/mentions/{mention['id']}/read", headers=auth(bob)), 404, "not_found")
    assert client.post(f"{API}/me/mentions/{mention['id']}/read", headers=auth(alice)).status_code == 204
    assert client.get(f"{API}/me/mentions", headers=auth(alice)).json()["unread"] == 0
    assert client.get(f"{API}/me/mentions", params={"unread": "true"}, headers=auth(alice)).json()["items"] == []

    post(client, fan, opened["id"], "@Alice.W again")  # by e-mail name, any case
    assert client.get(f"{API}/me/mentions", headers=auth(alice)).json()["unread"] == 1
    post(client, admin, opened["id"], "staff mention @fan")  # the e-mail's name is fanN: nobody by that handle
    own = client.get(f"{API}/me/mentions", headers=auth(fan)).json()
    assert own["items"] == []
    problem(client.get(f"{API}/me/mentions"), 401, "unauthorized")


def test_moderation_needs_an_operator(client: TestClient, db: Database, ctx: Context, clock: FixedClock,
                                      fan: str, admin: str) -> None:
    board(client, admin)
    opened = thread(client, fan)
    _, clerk = staff_token(db, ctx.secret_key, clock, role="clerk")
    before = table_counts(db)
    for path in (f"/admin/forum/threads/{opened['id']}/lock", f"/admin/forum/posts/{opened['posts'][0]['id']}/hide"):
        problem(client.post(API + path, headers=auth(clerk)), 403, "forbidden")
        problem(client.post(API + path, headers=auth(fan)), 403, "forbidden")
    assert table_counts(db) == before
    assert client.get(f"{API}/admin/forum/reports", headers=auth(clerk)).status_code == 200


@pytest.mark.parametrize("body", ["x" * (forum.MAX_BODY + 1), 5, None, ["a"]])
def test_bad_bodies_are_refused(client: TestClient, db: Database, fan: str, admin: str, body: Any) -> None:
    board(client, admin)
    before = table_counts(db)
    problem(client.post(f"{API}/boards/general/threads", json={"title": "t", "body": body}, headers=auth(fan)),
            422, "validation_error")
    assert table_counts(db) == before
