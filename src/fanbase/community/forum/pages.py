"""The forum's pages: ``/community`` (boards), ``/community/{board}`` (threads, pinned first, and the form for a
new one), ``/community/threads/{id}`` (posts in their safe HTML, reply, like and report; opening it counts as
reading it for a signed-in member), and the console's ``/console/forum`` (the reports queue, hiding posts,
locking and pinning threads, suspending members, new boards). The rules are ``forum.service``'s."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fanbase.accounts import service as accounts
from fanbase.accounts.service import Principal
from fanbase.community.forum import service as forum
from fanbase.community.forum.models import OPEN
from fanbase.console.pages import WRITER, staff
from fanbase.errors import ValidationFailed
from fanbase.i18n import N_
from fanbase.i18n import gettext as _
from fanbase.pages import ctx_of, render, safe_next, visitor, write
from fanbase.pagination import page_request

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**62)]
BoardSlug = Annotated[str, Path(max_length=64)]
Cursor = Annotated[str | None, Query(max_length=200)]
THREADS_PAGE = 30
POSTS_PAGE = 50
HOME = "/community"
CONSOLE = "/console/forum"
REPORT_STATUS = {"open": N_("Awaiting review"), "confirmed": N_("Confirmed"), "dismissed": N_("Dismissed")}


def _viewer(request: Request) -> forum.Viewer:
    who = visitor(request).principal
    return forum.ANONYMOUS if who is None else forum.Viewer(who.user_id, who.is_staff)


def _levels() -> dict[int, str]:
    return {level: _(name) for level, name in forum.LEVEL_NAMES.items()}


@router.get("/community")
def boards(request: Request) -> Response:
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        found = forum.list_boards(session, _viewer(request))
        return render(request, "forum/boards.html", title=_("Community"), boards=found)


@router.get("/community/threads/{thread_id}")
def thread(request: Request, thread_id: Id, cursor: Cursor = None) -> Response:
    ctx = ctx_of(request)
    viewer = _viewer(request)
    wanted = page_request(POSTS_PAGE, cursor)
    with ctx.db.read() as session:
        found = forum.get_thread(session, thread_id, viewer)
        unread = viewer.user_id is not None and not forum.has_read(session, thread_id, viewer.user_id)
    if unread and viewer.user_id is not None:  # opening a thread is reading it: counted once
        with ctx.db.uow() as session:
            forum.record_read(session, ctx.clock, thread_id=thread_id, user_id=viewer.user_id)
    with ctx.db.read() as session:
        found = forum.get_thread(session, thread_id, viewer)
        board = forum.board_of(session, found)
        page = forum.list_posts(session, found, wanted)
        ids = {found.author_id} | {p.author_id for p in page.items}
        names = accounts.names_of(session, ids)
        levels = forum.levels_of(session, ids)
        liked = forum.liked_by(session, viewer.user_id, [p.id for p in page.items])
        return render(request, "forum/thread.html", title=found.title, thread=found, board=board,
                      posts=page.items, next_cursor=page.next_cursor, first_page=cursor is None, names=names,
                      levels=levels, level_names=_levels(), liked=liked, viewer=viewer)


@router.get("/community/{board_slug}")
def board(request: Request, board_slug: BoardSlug, cursor: Cursor = None) -> Response:
    ctx = ctx_of(request)
    viewer = _viewer(request)
    after = forum.decode_thread_cursor(cursor)
    with ctx.db.read() as session:
        found = forum.get_board(session, board_slug)
        page = forum.list_threads(session, found, viewer, limit=THREADS_PAGE, after=after)
        names = accounts.names_of(session, {t.author_id for t in page.items})
        standing = (forum.standing(session, ctx.clock, ctx.settings.zone, viewer.user_id)
                    if viewer.user_id is not None else None)
        return render(request, "forum/board.html", title=found.name, board=found, threads=page.items,
                      next_cursor=page.next_cursor, first_page=cursor is None, names=names, standing=standing,
                      level_names=_levels())


# --- a member's forms -----------------------------------------------------------------------------------------


@router.post("/community/{board_slug}/threads")
async def start_thread(request: Request, board_slug: BoardSlug) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, member: Principal, fields: dict[str, str]) -> str:
        made, _first = forum.start_thread(session, ctx.clock, ctx.settings.zone, board_slug=board_slug,
                                          author_id=member.user_id, title=fields.get("title", ""),
                                          body=fields.get("body", ""))
        return f"/community/threads/{made.id}"

    return await write(request, f"{HOME}/{board_slug}", _("Your thread is posted"), work)


@router.post("/community/threads/{thread_id}/posts")
async def reply(request: Request, thread_id: Id) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, member: Principal, fields: dict[str, str]) -> str:
        post = forum.reply(session, ctx.clock, ctx.settings.zone, thread_id=thread_id, author_id=member.user_id,
                           body=fields.get("body", ""))
        return f"/community/threads/{thread_id}#post-{post.id}"

    return await write(request, f"/community/threads/{thread_id}", _("Your reply is posted"), work)


POST_ACTIONS = {"like": None, "unlike": None, "report": N_("Thank you: a moderator will look at it")}


@router.post("/community/threads/{thread_id}/posts/{post_id}/{action}")
async def on_post(request: Request, thread_id: Id, post_id: Id,
                  action: Annotated[str, Path(pattern="^(like|unlike|report)$")]) -> Response:
    """Like, take a like back, or report a post; back to the thread either way."""
    ctx = ctx_of(request)
    back = f"/community/threads/{thread_id}"

    def work(session: Session, member: Principal, fields: dict[str, str]) -> str:
        if action == "like":
            forum.like(session, ctx.clock, ctx.settings.zone, post_id=post_id, user_id=member.user_id)
        elif action == "unlike":
            forum.unlike(session, ctx.clock, post_id=post_id, user_id=member.user_id)
        else:
            forum.report(session, ctx.clock, ctx.settings.zone, post_id=post_id, reporter_id=member.user_id,
                         reason=fields.get("reason", ""))
        return f"{back}#post-{post_id}"

    notice = POST_ACTIONS[action]
    return await write(request, back, _(notice) if notice else None, work)


# --- the console ------------------------------------------------------------------------------------------------


@router.get("/console/forum")
def console(request: Request, status: Annotated[str, Query(max_length=16)] = OPEN, cursor: Cursor = None) -> Response:
    who = staff(request)
    ctx = ctx_of(request)
    if status not in REPORT_STATUS:
        status = OPEN
    with ctx.db.read() as session:
        page = forum.list_reports(session, page_request(50, cursor), status=status)
        posts = forum.posts_by_id(session, {r.post_id for r in page.items})
        threads = forum.threads_by_id(session, {p.thread_id for p in posts.values()})
        people = {r.reporter_id for r in page.items} | {p.author_id for p in posts.values()}
        names = accounts.names_of(session, people)
        standings = forum.standings(session, ctx.clock, ctx.settings.zone, {p.author_id for p in posts.values()})
        boards = forum.list_boards(session, forum.Viewer(who.user_id, True))
        return render(request, "forum/console.html", title=_("Community moderation"), section="forum",
                      can_write=who.role in ("admin", WRITER), reports=page.items, next_cursor=page.next_cursor,
                      posts=posts, threads=threads, names=names, standings=standings, report_status=status,
                      statuses=REPORT_STATUS, boards=boards, level_names=_levels())


def _back(fields: dict[str, str]) -> str:
    return safe_next(fields.get("next"), CONSOLE)


@router.post("/console/forum/reports/{report_id}/{action}")
async def resolve(request: Request, report_id: Id,
                  action: Annotated[str, Path(pattern="^(confirm|dismiss)$")]) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, moderator: Principal, fields: dict[str, str]) -> str:
        forum.resolve_report(session, ctx.clock, report_id=report_id, confirm=action == "confirm",
                             actor_id=moderator.user_id)
        return _back(fields)

    notice = _("The report is confirmed and the post hidden") if action == "confirm" else _("The report is dismissed")
    return await write(request, CONSOLE, notice, work, who=lambda r: staff(r, WRITER))


@router.post("/console/forum/posts/{post_id}/{action}")
async def hide(request: Request, post_id: Id, action: Annotated[str, Path(pattern="^(hide|unhide)$")]) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, moderator: Principal, fields: dict[str, str]) -> str:
        forum.set_post_hidden(session, ctx.clock, post_id=post_id, hidden=action == "hide", actor_id=moderator.user_id)
        return _back(fields)

    notice = _("The post is hidden") if action == "hide" else _("The post is shown again")
    return await write(request, CONSOLE, notice, work, who=lambda r: staff(r, WRITER))


THREAD_NOTICES = {"lock": N_("The thread is locked"), "unlock": N_("The thread is open again"),
                  "pin": N_("The thread is pinned"), "unpin": N_("The thread is no longer pinned")}


@router.post("/console/forum/threads/{thread_id}/{action}")
async def flag(request: Request, thread_id: Id,
               action: Annotated[str, Path(pattern="^(lock|unlock|pin|unpin)$")]) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, moderator: Principal, fields: dict[str, str]) -> str:
        forum.set_thread_flag(session, ctx.clock, thread_id=thread_id, action=action, actor_id=moderator.user_id)
        return _back(fields)

    return await write(request, CONSOLE, _(THREAD_NOTICES[action]), work, who=lambda r: staff(r, WRITER))


@router.post("/console/forum/members/{user_id}/suspend")
async def suspend(request: Request, user_id: Id) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, moderator: Principal, fields: dict[str, str]) -> str:
        raw = fields.get("days", "").strip()
        if not raw.isdigit() or not 1 <= int(raw) <= 36500:
            raise ValidationFailed(N_("{field} must be a whole number from {low} to {high}"), field=_("Days"),
                                   low=1, high=36500)
        forum.suspend(session, ctx.clock, ctx.settings.zone, user_id=user_id,
                      until=ctx.clock.now() + timedelta(days=int(raw)), reason=fields.get("reason", ""),
                      actor_id=moderator.user_id)
        return _back(fields)

    return await write(request, CONSOLE, _("The member is suspended"), work, who=lambda r: staff(r, WRITER))


@router.post("/console/forum/members/{user_id}/lift")
async def lift(request: Request, user_id: Id) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, moderator: Principal, fields: dict[str, str]) -> str:
        forum.lift_suspension(session, ctx.clock, ctx.settings.zone, user_id=user_id, actor_id=moderator.user_id)
        return _back(fields)

    return await write(request, CONSOLE, _("The suspension is lifted"), work, who=lambda r: staff(r, WRITER))


@router.post("/console/forum/boards")
async def create_board(request: Request) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, moderator: Principal, fields: dict[str, str]) -> None:
        line = fields.get("product_line", "").strip()
        forum.create_board(session, ctx.clock, slug=fields.get("slug", "").strip()[:64],
                           name=fields.get("name", "").strip()[:100],
                           description=fields.get("description", "").strip()[:500], product_line=line[:64] or None,
                           actor_id=moderator.user_id)

    return await write(request, CONSOLE, _("The board is open"), work, who=lambda r: staff(r, WRITER))
