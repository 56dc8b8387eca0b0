"""The ideas board's pages through the ASGI app: a fan posts an idea, others vote and comment, an operator
moves it along and ships it in a release from the console, and the release page thanks the fans by name;
notifications, the digest page, escaping, CSRF and the console's refusals."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from fanbase.clock import FixedClock
from fanbase.community.ideas import service
from fanbase.context import Context
from fanbase.db import Database
from tests.helpers import table_rows
from tests.pages.test_console import audit, sign_in_as
from tests.pages.test_pages import csrf_of, post_form

pytestmark = pytest.mark.usefixtures("shop")


def join(client: TestClient, name: str, email: str) -> TestClient:
    """A new browser with a fan signed in."""
    browser = TestClient(client.app, raise_server_exceptions=False)
    reply = post_form(browser, "/register", "/register",
                      {"name": name, "email": email, "password": "password-1", "next": "/"})
    assert reply.status_code == 303, reply.text
    return browser


def post_idea(browser: TestClient, title: str, product: str = "xiaomi-15") -> int:
    reply = post_form(browser, "/ideas/new", "/ideas/new",
                      {"product": product, "title": title, "body": "第一行\n第二行"})
    assert reply.status_code == 303, reply.text
    found = re.fullmatch(r"/ideas/(\d+)", reply.headers["location"])
    assert found, reply.headers["location"]
    return int(found.group(1))


def test_a_fan_posts_others_vote_and_the_idea_ships_with_their_names(client: TestClient, ctx: Context,
                                                                     db: Database, clock: FixedClock) -> None:
    assert 'href="/ideas"' in client.get("/").text
    assert client.get("/ideas/new", follow_redirects=False).headers["location"] == "/login?next=/ideas/new"
    author = join(client, "李雷", "lilei@example.com")
    voter = join(client, "韩梅梅", "hanmeimei@example.com")
    idea_id = post_idea(author, "相机夜景更好")
    page = author.get(f"/ideas/{idea_id}").text
    assert "相机夜景更好" in page and 'data-testid="idea-votes">1<' in page
    assert f'action="/ideas/{idea_id}/unvote"' in page  # the author's own vote

    board = voter.get("/ideas").text
    assert "相机夜景更好" in board and f'action="/ideas/{idea_id}/vote"' in board
    voted = post_form(voter, "/ideas", f"/ideas/{idea_id}/vote", {"next": "/ideas?sort=new"})
    assert voted.status_code == 303 and voted.headers["location"] == "/ideas?sort=new"
    board = voter.get("/ideas?sort=new").text
    assert f'data-testid="votes-{idea_id}">2<' in board and f'action="/ideas/{idea_id}/unvote"' in board
    again = post_form(voter, f"/ideas/{idea_id}", f"/ideas/{idea_id}/vote", {})  # a stale page's second vote
    assert again.status_code == 303 and "fb_notice" in again.headers.get("set-cookie", "")
    with db.read() as s:
        assert service.get_idea(s, idea_id).votes == 2
    commented = post_form(voter, f"/ideas/{idea_id}", f"/ideas/{idea_id}/comments", {"body": "同意！"})
    assert commented.status_code == 303
    assert "同意！" in client.get(f"/ideas/{idea_id}").text

    operator = TestClient(client.app, raise_server_exceptions=False)
    sign_in_as(operator, ctx, db, clock, "operator")
    console = operator.get("/console/ideas")
    assert console.status_code == 200 and 'href="/console/ideas"' in console.text and "相机夜景更好" in console.text
    moved = post_form(operator, "/console/ideas", f"/console/ideas/{idea_id}/status", {"status": "planned"})
    assert moved.status_code == 303 and moved.headers["location"] == "/console/ideas"
    assert len(audit(db, "idea.status")) == 1
    published = post_form(operator, "/console/ideas", "/console/releases",
                          {"product": "xiaomi-15", "version": "OS 2.1", "released_on": "2026-11-25",
                           "idea_ids": f"{idea_id}", "notes": "夜景模式"})
    assert published.status_code == 303, published.text
    release_url = published.headers["location"]
    assert re.fullmatch(r"/releases/\d+", release_url) and len(audit(db, "release.publish")) == 1

    release = voter.get(release_url).text
    thanks = release[release.index('data-testid="credits"'):]
    assert "OS 2.1" in release and "夜景模式" in release and "李雷" in thanks and "韩梅梅" in thanks
    assert thanks.index("李雷") < thanks.index("韩梅梅")
    assert 'data-testid="idea-status">' in voter.get(f"/ideas/{idea_id}").text
    assert release_url in voter.get(f"/ideas/{idea_id}").text
    assert "OS 2.1" in client.get("/releases").text

    notes = voter.get("/notifications").text
    assert release_url in notes and f"/ideas/{idea_id}" in notes
    read = post_form(voter, "/notifications", "/notifications/read", {})
    assert read.status_code == 303
    with db.read() as s:
        assert service.unread_count(s, service.get_idea(s, idea_id).author_id) == 2
    assert 'action="/notifications/read"' not in voter.get("/notifications").text


def test_a_title_with_a_script_is_shown_as_text(client: TestClient) -> None:
    fan = join(client, "<img src=x onerror=alert(1)>", "evil@example.com")
    idea_id = post_idea(fan, "<script>alert(1)</script>")
    comment = post_form(fan, f"/ideas/{idea_id}", f"/ideas/{idea_id}/comments", {"body": "<script>alert(2)</script>"})
    assert comment.status_code == 303
    for url in (f"/ideas/{idea_id}", "/ideas"):
        page = client.get(url).text
        assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
        assert "<img src=x" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in client.get(f"/ideas/{idea_id}").text


def test_forms_need_their_token_and_bad_input_is_told(client: TestClient, db: Database) -> None:
    fan = join(client, "粉丝", "fan@example.com")
    idea_id = post_idea(fan, "手环更轻", product="mi-band-9")
    rows = table_rows(db)
    for action in (f"/ideas/{idea_id}/vote", f"/ideas/{idea_id}/unvote", f"/ideas/{idea_id}/comments",
                   "/ideas/new", "/notifications/read"):
        refused = fan.post(action, data={"csrf": "forged", "title": "x" * 10, "body": "x"})
        assert refused.status_code == 403, action
    short = post_form(fan, "/ideas/new", "/ideas/new", {"product": "mi-band-9", "title": "x", "body": ""})
    assert short.status_code == 303 and short.headers["location"] == "/ideas/new"
    assert "3" in fan.get("/ideas/new").text  # the refusal is shown once on the form
    assert table_rows(db) == rows
    assert client.get("/ideas/999999").status_code == 404
    assert client.get("/releases/999999").status_code == 404
    assert client.get("/ideas?status=nonsense").status_code == 200


def test_the_console_is_for_operators(client: TestClient, ctx: Context, db: Database, clock: FixedClock) -> None:
    fan = join(client, "粉丝", "fan2@example.com")
    idea_id = post_idea(fan, "更多颜色")
    assert fan.get("/console/ideas").status_code == 403
    refused = post_form(fan, "/ideas", f"/console/ideas/{idea_id}/status", {"status": "planned"})
    assert refused.status_code == 403
    clerk = TestClient(client.app, raise_server_exceptions=False)
    sign_in_as(clerk, ctx, db, clock, "clerk")
    page = clerk.get("/console/ideas")
    assert page.status_code == 200 and "/console/releases" not in page.text
    token = csrf_of(page.text)
    assert clerk.post(f"/console/ideas/{idea_id}/status", data={"csrf": token, "status": "planned"}).status_code == 403
    operator = TestClient(client.app, raise_server_exceptions=False)
    sign_in_as(operator, ctx, db, clock, "operator")
    bad = post_form(operator, "/console/ideas", f"/console/ideas/{idea_id}/status",
                    {"status": "duplicate", "duplicate_of": "abc"})
    assert bad.status_code == 303 and bad.headers["location"] == "/console/ideas"
    shipped = post_form(operator, "/console/ideas", f"/console/ideas/{idea_id}/status", {"status": "shipped"})
    assert shipped.status_code == 303
    with db.read() as s:
        assert service.get_idea(s, idea_id).status == "open"


def test_the_digest_page(client: TestClient, ctx: Context, db: Database, clock: FixedClock) -> None:
    empty = client.get("/ideas/digest")
    assert empty.status_code == 200 and "/releases/" not in empty.text
    fan = join(client, "王小明", "xm@example.com")
    idea_id = post_idea(fan, "快充更快")
    with db.uow() as s:
        service.publish_release(s, clock, product_slug="xiaomi-15", version="3.0",
                                released_on=clock.now().date(), notes="", idea_ids=[idea_id], actor_id=None)
    clock.advance(7 * 24 * 3600)
    with db.uow() as s:
        assert service.record_weekly_digest(s, clock, ctx.settings.zone) == 1
    page = client.get("/ideas/digest").text
    assert "快充更快" in page and "王小明" in page and "xiaomi-15 3.0" in page
