"""Forum routes: boards, threads and posts (read by anyone), writing, likes, reports, reads and mentions (signed
in), and moderation under ``/admin/forum`` (operator). The rules are ``forum.service``'s."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, Field, Strict
from sqlalchemy.orm import Session

from fanbase.accounts import service as accounts
from fanbase.accounts.service import Principal, require_staff
from fanbase.community.forum import service
from fanbase.community.forum.models import Board, Post, Report, Thread
from fanbase.context import Context
from fanbase.pagination import PageRequest, page_request
from fanbase.web import Ctx, CurrentCaller, FastJSONResponse, InputModel, Staff, iso, principal

router = APIRouter(tags=["forum"])

Id = Annotated[int, Path(ge=1, le=2**62)]
BoardSlug = Annotated[str, Path(max_length=64)]
Limit = Annotated[int | None, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=200)]
SlugText = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
Timestamp = Annotated[AwareDatetime, Strict(False)]  # ISO 8601 with an offset (JSON has no datetime type)


def viewer_of(request: Request) -> Principal | None:
    """Reading needs no token; with one (checked as everywhere), authors and staff see hidden posts."""
    return principal(request) if request.headers.get("authorization") else None


MaybeCaller = Annotated[Principal | None, Depends(viewer_of)]


class BoardIn(InputModel):
    slug: SlugText
    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: Annotated[str, Field(max_length=500)] = ""
    product_line: SlugText | None = None


class ThreadIn(InputModel):
    title: Annotated[str, Field(min_length=1, max_length=service.MAX_TITLE)]
    body: Annotated[str, Field(min_length=1, max_length=service.MAX_BODY)]


class PostIn(InputModel):
    body: Annotated[str, Field(min_length=1, max_length=service.MAX_BODY)]


class ReportIn(InputModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class SuspensionIn(InputModel):
    until: Timestamp
    reason: Annotated[str, Field(max_length=500)] = ""


class BoardOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    product_line: str | None
    thread_count: int


class BoardsOut(BaseModel):
    items: list[BoardOut]
    next_cursor: str | None


class AuthorOut(BaseModel):
    id: int
    name: str
    trust_level: int


class ThreadOut(BaseModel):
    id: int
    board: str
    title: str
    author: AuthorOut
    pinned: bool
    locked: bool
    hidden: bool
    reply_count: int
    created_at: str
    last_posted_at: str


class ThreadsOut(BaseModel):
    items: list[ThreadOut]
    next_cursor: str | None


class PostOut(BaseModel):
    id: int
    thread_id: int
    author: AuthorOut
    hidden: bool
    body: str | None = Field(description="the Markdown typed; null when hidden by a moderator")
    html: str | None = Field(description="safe HTML rendered from body when it was written; null when hidden")
    like_count: int
    liked: bool
    created_at: str


class ThreadDetailOut(ThreadOut):
    posts: list[PostOut]
    next_cursor: str | None


class LikeOut(BaseModel):
    post_id: int
    like_count: int
    liked: bool


class ReportOut(BaseModel):
    id: int
    post_id: int
    thread_id: int
    post_author_id: int
    reporter_id: int
    reason: str
    status: Literal["open", "confirmed", "dismissed"]
    created_at: str
    resolved_at: str | None


class ReportsOut(BaseModel):
    items: list[ReportOut]
    next_cursor: str | None


class MentionOut(BaseModel):
    id: int
    post_id: int
    thread_id: int
    thread_title: str
    author: AuthorOut
    read: bool
    created_at: str


class MentionsOut(BaseModel):
    items: list[MentionOut]
    next_cursor: str | None
    unread: int


class StandingOut(BaseModel):
    user_id: int
    trust_level: int
    threads_read: int
    posts_made: int
    likes_received: int
    penalties: int
    suspended_until: str | None
    suspension_reason: str
    daily_posts: int | None
    posts_left_today: int | None
    may_post_links: bool
    staff: bool


# --- shaping ------------------------------------------------------------------------------------------------


def _authors(session: Session, user_ids: set[int]) -> dict[int, dict[str, Any]]:
    names = accounts.names_of(session, user_ids)
    levels = service.levels_of(session, user_ids)
    return {uid: {"id": uid, "name": names.get(uid, ""), "trust_level": levels.get(uid, 0)} for uid in user_ids}


def _board(board: Board, thread_count: int) -> dict[str, Any]:
    return {"id": board.id, "slug": board.slug, "name": board.name, "description": board.description,
            "product_line": board.product_line, "thread_count": thread_count}


def _thread(ctx: Context, thread: Thread, board_slug: str, authors: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {"id": thread.id, "board": board_slug, "title": thread.title, "author": authors[thread.author_id],
            "pinned": thread.pinned, "locked": thread.locked, "hidden": thread.hidden,
            "reply_count": thread.reply_count, "created_at": iso(ctx, thread.created_at),
            "last_posted_at": iso(ctx, thread.last_posted_at)}


def _post(ctx: Context, post: Post, viewer: service.Viewer, authors: dict[int, dict[str, Any]],
          liked: set[int]) -> dict[str, Any]:
    shown = viewer.sees(post)
    return {"id": post.id, "thread_id": post.thread_id, "author": authors[post.author_id], "hidden": post.hidden,
            "body": post.body if shown else None, "html": post.html if shown else None,
            "like_count": post.like_count, "liked": post.id in liked, "created_at": iso(ctx, post.created_at)}


def _viewer(caller: Principal | None) -> service.Viewer:
    return service.ANONYMOUS if caller is None else service.Viewer(caller.user_id, caller.is_staff)


def _thread_detail(ctx: Context, session: Session, thread: Thread, viewer: service.Viewer,
                   request: PageRequest | None = None) -> dict[str, Any]:
    page = service.list_posts(session, thread, request or page_request(None, None))
    authors = _authors(session, {thread.author_id} | {p.author_id for p in page.items})
    liked = service.liked_by(session, viewer.user_id, [p.id for p in page.items])
    return (_thread(ctx, thread, service.board_of(session, thread).slug, authors)
            | {"posts": [_post(ctx, p, viewer, authors, liked) for p in page.items],
               "next_cursor": page.next_cursor})


def _report(ctx: Context, report: Report, post: Post) -> dict[str, Any]:
    return {"id": report.id, "post_id": report.post_id, "thread_id": post.thread_id, "post_author_id": post.author_id,
            "reporter_id": report.reporter_id, "reason": report.reason, "status": report.status,
            "created_at": iso(ctx, report.created_at), "resolved_at": iso(ctx, report.resolved_at)}


def _standing(ctx: Context, standing: service.Standing) -> dict[str, Any]:
    return asdict(standing) | {"suspended_until": iso(ctx, standing.suspended_until)}


# --- reading --------------------------------------------------------------------------------------------------


@router.get("/boards", response_model=BoardsOut)
def boards(ctx: Ctx, caller: MaybeCaller) -> FastJSONResponse:
    with ctx.db.read() as session:
        return FastJSONResponse({"items": [_board(b, n) for b, n in service.list_boards(session, _viewer(caller))],
                                 "next_cursor": None})


@router.get("/boards/{slug}/threads", response_model=ThreadsOut)
def threads(slug: BoardSlug, ctx: Ctx, caller: MaybeCaller, limit: Limit = None,
            cursor: Cursor = None) -> FastJSONResponse:
    """Pinned threads first, then the most recently answered."""
    size, after = page_request(limit, None).limit, service.decode_thread_cursor(cursor)
    with ctx.db.read() as session:
        board = service.get_board(session, slug)
        page = service.list_threads(session, board, _viewer(caller), limit=size, after=after)
        authors = _authors(session, {t.author_id for t in page.items})
        return FastJSONResponse({"items": [_thread(ctx, t, board.slug, authors) for t in page.items],
                                 "next_cursor": page.next_cursor})


@router.get("/threads/{thread_id}", response_model=ThreadDetailOut)
def thread(thread_id: Id, ctx: Ctx, caller: MaybeCaller, limit: Limit = None,
           cursor: Cursor = None) -> FastJSONResponse:
    """The thread with a page of its posts, oldest first. A hidden post's text is shown only to its author and
    to staff."""
    viewer, request = _viewer(caller), page_request(limit, cursor)
    with ctx.db.read() as session:
        found = service.get_thread(session, thread_id, viewer)
        return FastJSONResponse(_thread_detail(ctx, session, found, viewer, request))


# --- writing --------------------------------------------------------------------------------------------------


@router.post("/boards/{slug}/threads", status_code=201, response_model=ThreadDetailOut)
def start_thread(slug: BoardSlug, body: ThreadIn, caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    viewer = _viewer(caller)
    with ctx.db.uow() as session:
        made, _post_made = service.start_thread(session, ctx.clock, ctx.settings.zone, board_slug=slug,
                                                author_id=caller.user_id, title=body.title, body=body.body)
        return FastJSONResponse(_thread_detail(ctx, session, made, viewer), status_code=201)


@router.post("/threads/{thread_id}/posts", status_code=201, response_model=PostOut)
def reply(thread_id: Id, body: PostIn, caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.uow() as session:
        post = service.reply(session, ctx.clock, ctx.settings.zone, thread_id=thread_id, author_id=caller.user_id,
                             body=body.body)
        authors = _authors(session, {post.author_id})
        return FastJSONResponse(_post(ctx, post, _viewer(caller), authors, set()), status_code=201)


@router.post("/threads/{thread_id}/reads", status_code=204)
def read(thread_id: Id, caller: CurrentCaller, ctx: Ctx) -> Response:
    """The caller read the thread (counted once per thread towards the trust level)."""
    with ctx.db.uow() as session:
        service.record_read(session, ctx.clock, thread_id=thread_id, user_id=caller.user_id)
    return Response(status_code=204)


@router.post("/posts/{post_id}/likes", status_code=201, response_model=LikeOut)
def like(post_id: Id, caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.uow() as session:
        post = service.like(session, ctx.clock, ctx.settings.zone, post_id=post_id, user_id=caller.user_id)
        return FastJSONResponse({"post_id": post.id, "like_count": post.like_count, "liked": True}, status_code=201)


@router.delete("/posts/{post_id}/likes", status_code=204)
def unlike(post_id: Id, caller: CurrentCaller, ctx: Ctx) -> Response:
    with ctx.db.uow() as session:
        service.unlike(session, ctx.clock, post_id=post_id, user_id=caller.user_id)
    return Response(status_code=204)


@router.post("/posts/{post_id}/reports", status_code=201, response_model=ReportOut)
def report(post_id: Id, body: ReportIn, caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.uow() as session:
        made = service.report(session, ctx.clock, ctx.settings.zone, post_id=post_id, reporter_id=caller.user_id,
                              reason=body.reason)
        post = service.get_post(session, post_id, _viewer(caller))
        return FastJSONResponse(_report(ctx, made, post), status_code=201)


@router.get("/me/forum", response_model=StandingOut)
def my_standing(caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    """The caller's trust level, what it allows today, and any suspension."""
    with ctx.db.read() as session:
        return FastJSONResponse(_standing(ctx, service.standing(session, ctx.clock, ctx.settings.zone,
                                                                caller.user_id)))


@router.get("/me/mentions", response_model=MentionsOut)
def my_mentions(caller: CurrentCaller, ctx: Ctx, limit: Limit = None, cursor: Cursor = None,
                unread: Annotated[bool, Query()] = False) -> FastJSONResponse:
    """Posts that named the caller with ``@name`` (or ``@`` and the part of the e-mail address before the
    ``@``), newest first."""
    with ctx.db.read() as session:
        page = service.mentions(session, caller.user_id, page_request(limit, cursor), unread_only=unread)
        authors = _authors(session, {m.author_id for m in page.items})
        return FastJSONResponse({"items": [{"id": m.id, "post_id": m.post_id, "thread_id": m.thread_id,
                                            "thread_title": m.thread_title, "author": authors[m.author_id],
                                            "read": m.read, "created_at": iso(ctx, m.created_at)}
                                           for m in page.items], "next_cursor": page.next_cursor,
                                 "unread": service.unread_mentions(session, caller.user_id)})


@router.post("/me/mentions/{mention_id}/read", status_code=204)
def mention_read(mention_id: Id, caller: CurrentCaller, ctx: Ctx) -> Response:
    with ctx.db.uow() as session:
        service.mark_mention_read(session, mention_id=mention_id, user_id=caller.user_id)
    return Response(status_code=204)


# --- moderation -------------------------------------------------------------------------------------------------


@router.post("/admin/forum/boards", status_code=201, response_model=BoardOut)
def create_board(body: BoardIn, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        board = service.create_board(session, ctx.clock, slug=body.slug, name=body.name, description=body.description,
                                     product_line=body.product_line, actor_id=caller.user_id)
        return FastJSONResponse(_board(board, 0), status_code=201)


@router.get("/admin/forum/reports", response_model=ReportsOut)
def reports(caller: Staff, ctx: Ctx, status: Annotated[Literal["open", "confirmed", "dismissed"], Query()] = "open",
            limit: Limit = None, cursor: Cursor = None) -> FastJSONResponse:
    """The moderation queue, oldest first."""
    with ctx.db.read() as session:
        page = service.list_reports(session, page_request(limit, cursor), status=status)
        posts = service.posts_by_id(session, {r.post_id for r in page.items})
        return FastJSONResponse({"items": [_report(ctx, r, posts[r.post_id]) for r in page.items],
                                 "next_cursor": page.next_cursor})


def _resolve(report_id: int, confirm: bool, caller: Principal, ctx: Context) -> FastJSONResponse:
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        done = service.resolve_report(session, ctx.clock, report_id=report_id, confirm=confirm,
                                      actor_id=caller.user_id)
        post = service.posts_by_id(session, {done.post_id})[done.post_id]
        return FastJSONResponse(_report(ctx, done, post))


@router.post("/admin/forum/reports/{report_id}/confirm", response_model=ReportOut)
def confirm_report(report_id: Id, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    """The post broke the rules: it is hidden, and it counts against its author's trust level."""
    return _resolve(report_id, True, caller, ctx)


@router.post("/admin/forum/reports/{report_id}/dismiss", response_model=ReportOut)
def dismiss_report(report_id: Id, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    return _resolve(report_id, False, caller, ctx)


def _hide(post_id: int, hidden: bool, caller: Principal, ctx: Context) -> FastJSONResponse:
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        post = service.set_post_hidden(session, ctx.clock, post_id=post_id, hidden=hidden, actor_id=caller.user_id)
        return FastJSONResponse(_post(ctx, post, _viewer(caller), _authors(session, {post.author_id}), set()))


@router.post("/admin/forum/posts/{post_id}/hide", response_model=PostOut)
def hide_post(post_id: Id, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    return _hide(post_id, True, caller, ctx)


@router.post("/admin/forum/posts/{post_id}/unhide", response_model=PostOut)
def unhide_post(post_id: Id, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    return _hide(post_id, False, caller, ctx)


def _flag(thread_id: int, action: str, caller: Principal, ctx: Context) -> FastJSONResponse:
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        found = service.set_thread_flag(session, ctx.clock, thread_id=thread_id, action=action,
                                        actor_id=caller.user_id)
        authors = _authors(session, {found.author_id})
        return FastJSONResponse(_thread(ctx, found, service.board_of(session, found).slug, authors))


@router.post("/admin/forum/threads/{thread_id}/lock", response_model=ThreadOut)
def lock_thread(thread_id: Id, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    return _flag(thread_id, "lock", caller, ctx)


@router.post("/admin/forum/threads/{thread_id}/unlock", response_model=ThreadOut)
def unlock_thread(thread_id: Id, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    return _flag(thread_id, "unlock", caller, ctx)


@router.post("/admin/forum/threads/{thread_id}/pin", response_model=ThreadOut)
def pin_thread(thread_id: Id, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    return _flag(thread_id, "pin", caller, ctx)


@router.post("/admin/forum/threads/{thread_id}/unpin", response_model=ThreadOut)
def unpin_thread(thread_id: Id, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    return _flag(thread_id, "unpin", caller, ctx)


@router.get("/admin/forum/members/{user_id}", response_model=StandingOut)
def member(user_id: Id, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.read() as session:
        return FastJSONResponse(_standing(ctx, service.standing(session, ctx.clock, ctx.settings.zone, user_id)))


@router.put("/admin/forum/members/{user_id}/suspension", response_model=StandingOut)
def suspend(user_id: Id, body: SuspensionIn, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    """Suspend a member until ``until`` (a ban is a suspension far ahead): they may read, not write."""
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        done = service.suspend(session, ctx.clock, ctx.settings.zone, user_id=user_id, until=body.until,
                               reason=body.reason, actor_id=caller.user_id)
        return FastJSONResponse(_standing(ctx, done))


@router.delete("/admin/forum/members/{user_id}/suspension", response_model=StandingOut)
def lift_suspension(user_id: Id, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        done = service.lift_suspension(session, ctx.clock, ctx.settings.zone, user_id=user_id,
                                       actor_id=caller.user_id)
        return FastJSONResponse(_standing(ctx, done))

