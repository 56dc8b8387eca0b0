"""The community pages through the ASGI app: boards, a thread posted and answered, Markdown shown safely (a
script in a title or a post is text), likes, reports, reading counted, locked and hidden, the console's
moderation queue (confirm, lock, suspend; audited), and refusals that write nothing."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from fanbase.clock import FixedClock
from fanbase.community.forum import service as forum
from fanbase.community.forum.models import Post, Read, Report, Thread
from fanbase.context import Context
from fanbase.db import Database
from tests.helpers import table_counts
from tests.pages.test_accessibility import audit as accessibility
from tests.pages.test_console import audit, sign_in_as
from tests.pages.test_pages import csrf_of, post_form, register

SCRIPT = "<script>alert('x')</script>"


def boards(db: Database, clock: FixedClock) -> None:
    with db.uow() as s:
        assert forum.seed_demo_boards(s, clock) == 3
        assert forum.seed_demo_boards(s, clock) == 0


def only(db: Database, model: type) -> list:  # type: ignore[type-arg]
    with db.read() as s:
        rows = list(s.scalars(select(model).order_by(*model.__table__.primary_key.columns)))  # type: ignore[attr-defined]
        s.expunge_all()
        return rows


def test_a_fan_posts_a_thread_and_a_reply_and_scripts_stay_text(client: TestClient, db: Database,
                                                                 clock: FixedClock) -> None:
    boards(db, clock)
    page = client.get("/community")
    assert page.status_code == 200 and 'href="/community/general"' in page.text and 'href="/community"' in page.text
    board = client.get("/community/general")
    assert "/login?next=/community/general" in board.text and 'action="/community/general/threads"' not in board.text

    register(client, "forum-fan@example.com")
    made = post_form(client, "/community/general", "/community/general/threads",
                     {"title": f"标题 {SCRIPT}", "body": f"**好** {SCRIPT} [x](javascript:alert(1))"})
    assert made.status_code == 303
    location = made.headers["location"]
    assert re.fullmatch(r"/community/threads/\d+", location)
    shown = client.get(location).text
    assert SCRIPT not in shown and "&lt;script&gt;" in shown
    assert "<strong>好</strong>" in shown and 'href="javascript' not in shown
    replied = post_form(client, location, location + "/posts", {"body": "第二帖 *斜*"})
    assert replied.status_code == 303 and replied.headers["location"].startswith(location + "#post-")
    shown = client.get(location).text
    assert shown.count('data-testid="post"') == 2 and "<em>斜</em>" in shown
    assert len(only(db, Read)) == 1  # opening the thread counted as reading it, once
    listing = client.get("/community/general").text
    assert listing.count('data-testid="thread-row"') == 1 and SCRIPT not in listing

    refused = post_form(client, location, location + "/posts", {"body": "看 https://spam.example"})
    assert refused.status_code == 303 and refused.headers["location"] == location
    assert len(only(db, Post)) == 2
    limited = post_form(client, location, location + "/posts", {"body": "第三帖"})
    assert limited.status_code == 303
    over = post_form(client, location, location + "/posts", {"body": "第四帖"})
    assert over.status_code == 303 and over.headers["location"] == location and len(only(db, Post)) == 3


def test_likes_reports_and_moderation_in_the_console(client: TestClient, ctx: Context, db: Database,
                                                     clock: FixedClock) -> None:
    boards(db, clock)
    register(client, "author@example.com")
    made = post_form(client, "/community/phones", "/community/phones/threads", {"title": "续航", "body": "很好"})
    location = made.headers["location"]
    thread_id = int(location.rsplit("/", 1)[1])
    first = only(db, Post)[0].id

    reader = TestClient(client.app, raise_server_exceptions=False)
    register(reader, "reader@example.com")
    page = reader.get(location).text
    assert f'action="{location}/posts/{first}/like"' in page
    liked = post_form(reader, location, f"{location}/posts/{first}/like", {})
    assert liked.status_code == 303 and only(db, Post)[0].like_count == 1
    assert f'action="{location}/posts/{first}/unlike"' in reader.get(location).text
    reported = post_form(reader, location, f"{location}/posts/{first}/report", {"reason": f"广告 {SCRIPT}"})
    assert reported.status_code == 303 and [r.status for r in only(db, Report)] == ["open"]
    assert f'action="{location}/posts/{first}/like"' not in client.get(location).text  # not on one's own post

    assert reader.get("/console/forum").status_code == 403
    operator = TestClient(client.app, raise_server_exceptions=False)
    sign_in_as(operator, ctx, db, clock, "operator")
    queue = operator.get("/console/forum")
    assert queue.status_code == 200 and queue.text.count('data-testid="report-row"') == 1
    assert SCRIPT not in queue.text and 'href="/console/forum"' in queue.text
    report_id = only(db, Report)[0].id
    confirmed = post_form(operator, "/console/forum", f"/console/forum/reports/{report_id}/confirm", {})
    assert confirmed.status_code == 303 and [r.status for r in only(db, Report)] == ["confirmed"]
    assert len(audit(db, "forum.report.confirm")) == 1
    assert reader.get(location).status_code == 404  # its opening post hidden: the thread is gone for others
    assert client.get(location).status_code == 200  # but not for its author

    locked = post_form(operator, location, f"/console/forum/threads/{thread_id}/lock", {"next": location})
    assert locked.status_code == 303 and locked.headers["location"] == location
    assert only(db, Thread)[0].locked and len(audit(db, "forum.thread.lock")) == 1
    before = table_counts(db)
    refused = post_form(client, location, f"{location}/posts", {"body": "还能回复吗"})
    assert refused.status_code == 303 and table_counts(db) == before
    assert 'data-testid="locked"' in client.get(location).text

    author_id = only(db, Post)[0].author_id
    suspended = post_form(operator, "/console/forum", f"/console/forum/members/{author_id}/suspend",
                          {"days": "7", "reason": "广告"})
    assert suspended.status_code == 303 and len(audit(db, "forum.member.suspend")) == 1
    before = table_counts(db)
    refused = post_form(client, "/community/phones", "/community/phones/threads", {"title": "t", "body": "b"})
    assert refused.status_code == 303 and table_counts(db) == before
    lifted = post_form(operator, "/console/forum", f"/console/forum/members/{author_id}/lift", {})
    assert lifted.status_code == 303 and len(audit(db, "forum.member.unsuspend")) == 1

    opened = post_form(operator, "/console/forum", "/console/forum/boards",
                       {"slug": "wearables", "name": "穿戴", "description": "", "product_line": "lifestyle"})
    assert opened.status_code == 303 and len(audit(db, "forum.board.create")) == 1
    assert 'href="/community/wearables"' in client.get("/community").text


def test_hidden_replies_and_forms_without_their_token(client: TestClient, ctx: Context, db: Database,
                                                      clock: FixedClock) -> None:
    boards(db, clock)
    register(client, "hider@example.com")
    made = post_form(client, "/community/general", "/community/general/threads", {"title": "t", "body": "开帖"})
    location = made.headers["location"]
    post_form(client, location, location + "/posts", {"body": "不妥的回复"})
    reply_id = only(db, Post)[1].id
    operator = TestClient(client.app, raise_server_exceptions=False)
    sign_in_as(operator, ctx, db, clock, "operator")
    hidden = post_form(operator, location, f"/console/forum/posts/{reply_id}/hide", {"next": location})
    assert hidden.status_code == 303 and hidden.headers["location"] == location
    stranger = TestClient(client.app, raise_server_exceptions=False)
    page = stranger.get(location).text
    assert "不妥的回复" not in page and 'data-testid="hidden-post"' in page
    assert "不妥的回复" in client.get(location).text  # its author still sees it
    assert "不妥的回复" in operator.get(location).text

    before = table_counts(db)
    token_less = client.post(location + "/posts", data={"body": "no token"}, follow_redirects=False)
    assert token_less.status_code == 403 and table_counts(db) == before
    customer = TestClient(client.app, raise_server_exceptions=False)
    sign_in_as(customer, ctx, db, clock, None)
    before = table_counts(db)
    refused = customer.post(f"/console/forum/posts/{reply_id}/unhide", data={"csrf": csrf_of(customer.get("/").text)},
                            follow_redirects=False)
    assert refused.status_code == 403 and table_counts(db) == before


def test_forum_pages_are_accessible(client: TestClient, ctx: Context, db: Database, clock: FixedClock) -> None:
    boards(db, clock)
    register(client, "a11y@example.com")
    made = post_form(client, "/community/general", "/community/general/threads", {"title": "t", "body": "b"})
    location = made.headers["location"]
    reader = TestClient(client.app, raise_server_exceptions=False)
    register(reader, "a11y-reader@example.com")
    post_form(reader, location, location + "/posts", {"body": "回复"})
    reply_id = only(db, Post)[1].id
    post_form(client, location, f"{location}/posts/{reply_id}/report", {"reason": "r"})
    problems = []
    for who in (client, reader):
        for url in ("/community", "/community/general", location):
            problems += accessibility(who, url)
    operator = TestClient(client.app, raise_server_exceptions=False)
    sign_in_as(operator, ctx, db, clock, "operator")
    problems += accessibility(operator, "/console/forum") + accessibility(operator, location)
    assert problems == []
