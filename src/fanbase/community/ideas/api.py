"""Ideas board routes (API.md "Word of mouth, group buys, ideas, membership"): ideas, votes, comments, the
operator's status changes and releases with their credits, a fan's notifications and the weekly digest."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from fanbase.accounts.service import names_of, require_staff
from fanbase.community.ideas import service
from fanbase.community.ideas.models import STATUSES, Idea, IdeaComment, IdeaDigest, IdeaNotification, Release
from fanbase.context import Context
from fanbase.pagination import page_request
from fanbase.web import Ctx, CurrentCaller, FastJSONResponse, InputModel, Staff, iso

router = APIRouter(tags=["ideas"])

IdeaId = Annotated[int, Path(ge=1, le=2**62)]
ReleaseId = Annotated[int, Path(ge=1, le=2**62)]
NotificationId = Annotated[int, Path(ge=1, le=2**62)]
Limit = Annotated[int | None, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=200)]
ProductFilter = Annotated[str | None, Query(max_length=100)]
Status = Literal["open", "under_review", "planned", "in_progress", "shipped", "declined", "duplicate"]
assert set(Status.__args__) == set(STATUSES)  # type: ignore[attr-defined]


class IdeaIn(InputModel):
    title: str = Field(min_length=service.TITLE_MIN, max_length=service.TITLE_MAX)
    body: str = Field(default="", max_length=service.BODY_MAX)
    product_slug: str = Field(min_length=1, max_length=100)


class StatusIn(InputModel):
    status: Status
    duplicate_of: int | None = Field(default=None, ge=1, le=2**62)


class CommentIn(InputModel):
    body: str = Field(min_length=1, max_length=service.COMMENT_MAX)


class ReleaseIn(InputModel):
    product_slug: str = Field(min_length=1, max_length=100)
    version: str = Field(min_length=1, max_length=service.VERSION_MAX)
    released_on: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", max_length=10, examples=["2026-11-25"])
    notes: str = Field(default="", max_length=service.NOTES_MAX)
    idea_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(default_factory=list,
                                                                  max_length=service.RELEASE_IDEAS_MAX)


    @field_validator("released_on")
    @classmethod
    def _calendar_day(cls, value: str) -> str:
        if not date(2000, 1, 1) <= date.fromisoformat(value) <= date(2100, 12, 31):  # ValueError: 422
            raise ValueError("released_on must be a date from 2000 to 2100")
        return value


class IdeaOut(BaseModel):
    id: int
    title: str
    status: Status
    votes: int
    body: str
    product_slug: str
    author_id: int
    author_name: str
    duplicate_of: int | None
    release_id: int | None
    created_at: str
    updated_at: str


class IdeaListOut(BaseModel):
    items: list[IdeaOut]
    next_cursor: str | None


class VoteOut(BaseModel):
    idea_id: int
    customer_id: int
    votes: int


class CommentOut(BaseModel):
    id: int
    idea_id: int
    body: str
    author_name: str
    created_at: str


class CommentListOut(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None


class CreditOut(BaseModel):
    customer_id: int
    name: str
    role: Literal["author", "voter"]


class ReleaseOut(BaseModel):
    id: int
    product_slug: str
    version: str
    released_on: date
    notes: str
    created_at: str
    ideas: list[IdeaOut]
    credits: list[CreditOut]


class ReleaseSummaryOut(BaseModel):
    id: int
    product_slug: str
    version: str
    released_on: date
    created_at: str


class ReleaseListOut(BaseModel):
    items: list[ReleaseSummaryOut]
    next_cursor: str | None


class NotificationOut(BaseModel):
    id: int
    kind: str
    text: str = Field(description="in the request's language")
    params: dict[str, Any]
    link: str
    read_at: str | None
    created_at: str


class NotificationListOut(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int


class DigestPersonOut(BaseModel):
    customer_id: int
    name: str


class DigestIdeaOut(BaseModel):
    id: int
    title: str
    author: DigestPersonOut
    votes: int
    voters: list[DigestPersonOut] = Field(description="the first 100 voters other than the author")


class DigestReleaseOut(BaseModel):
    id: int
    product_slug: str
    version: str
    released_on: date
    ideas: list[DigestIdeaOut]


class DigestOut(BaseModel):
    id: int
    week_start: date
    week_end: date
    releases: list[DigestReleaseOut]
    created_at: str


def idea_view(ctx: Context, idea: Idea, names: dict[int, str]) -> dict[str, Any]:
    return {"id": idea.id, "title": idea.title, "status": idea.status, "votes": idea.votes, "body": idea.body,
            "product_slug": idea.product_slug, "author_id": idea.author_id,
            "author_name": names.get(idea.author_id, ""), "duplicate_of": idea.duplicate_of,
            "release_id": idea.release_id, "created_at": iso(ctx, idea.created_at),
            "updated_at": iso(ctx, idea.updated_at)}


def ideas_view(ctx: Context, session: Session, ideas: list[Idea]) -> list[dict[str, Any]]:
    names = service.author_names(session, ideas)
    return [idea_view(ctx, idea, names) for idea in ideas]


def release_view(ctx: Context, session: Session, release: Release) -> dict[str, Any]:
    return {"id": release.id, "product_slug": release.product_slug, "version": release.version,
            "released_on": release.released_on.isoformat(), "notes": release.notes,
            "created_at": iso(ctx, release.created_at),
            "ideas": ideas_view(ctx, session, service.release_ideas(session, release.id)),
            "credits": [{"customer_id": c.customer_id, "name": c.name, "role": c.role}
                        for c in service.credits(session, release.id)]}


def comment_view(ctx: Context, comment: IdeaComment, names: dict[int, str]) -> dict[str, Any]:
    return {"id": comment.id, "idea_id": comment.idea_id, "body": comment.body,
            "author_name": names.get(comment.author_id, ""), "created_at": iso(ctx, comment.created_at)}


def notification_view(ctx: Context, note: IdeaNotification) -> dict[str, Any]:
    return {"id": note.id, "kind": note.kind, "text": service.notification_text(note), "params": note.params,
            "link": note.link, "read_at": iso(ctx, note.read_at), "created_at": iso(ctx, note.created_at)}


def digest_view(ctx: Context, digest: IdeaDigest) -> dict[str, Any]:
    return {"id": digest.id, **digest.content, "created_at": iso(ctx, digest.created_at)}


# --- ideas ------------------------------------------------------------------------------------------


@router.post("/ideas", status_code=201, response_model=IdeaOut)
def post_idea(body: IdeaIn, caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.uow() as session:
        idea = service.post_idea(session, ctx.clock, customer_id=caller.user_id, product_slug=body.product_slug,
                                 title=body.title, body=body.body, is_staff=caller.is_staff)
        return FastJSONResponse(ideas_view(ctx, session, [idea])[0], status_code=201)


@router.get("/ideas", response_model=IdeaListOut)
def list_ideas(ctx: Ctx, product: ProductFilter = None, status: Status | None = None,
               sort: Literal["votes", "new"] = "votes", limit: Limit = None, cursor: Cursor = None) -> FastJSONResponse:
    """Ideas, most votes first (``sort=votes``) or newest first (``sort=new``)."""
    size = page_request(limit, None).limit
    with ctx.db.read() as session:
        page = service.list_ideas(session, limit=size, cursor=cursor, product=product, status=status, sort=sort)
        return FastJSONResponse({"items": ideas_view(ctx, session, list(page.items)),
                                 "next_cursor": page.next_cursor})


@router.get("/ideas/{idea_id}", response_model=IdeaOut)
def get_idea(idea_id: IdeaId, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.read() as session:
        return FastJSONResponse(ideas_view(ctx, session, [service.get_idea(session, idea_id)])[0])


@router.post("/ideas/{idea_id}/votes", status_code=201, response_model=VoteOut)
def vote(idea_id: IdeaId, caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    """One vote per fan: a second is 409 ``conflict``; only open, under-review, planned or in-progress ideas
    take votes (409 otherwise)."""
    with ctx.db.uow() as session:
        votes = service.vote(session, ctx.clock, idea_id=idea_id, customer_id=caller.user_id,
                             is_staff=caller.is_staff)
    return FastJSONResponse({"idea_id": idea_id, "customer_id": caller.user_id, "votes": votes}, status_code=201)


@router.delete("/ideas/{idea_id}/votes", status_code=204)
def withdraw_vote(idea_id: IdeaId, caller: CurrentCaller, ctx: Ctx) -> Response:
    """404 ``not_found`` without a vote to withdraw; 409 once the idea no longer takes votes."""
    with ctx.db.uow() as session:
        service.withdraw_vote(session, ctx.clock, idea_id=idea_id, customer_id=caller.user_id)
    return Response(status_code=204)


@router.post("/ideas/{idea_id}/comments", status_code=201, response_model=CommentOut)
def add_comment(idea_id: IdeaId, body: CommentIn, caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    """Plain text (no Markdown, no HTML)."""
    with ctx.db.uow() as session:
        comment = service.add_comment(session, ctx.clock, idea_id=idea_id, author_id=caller.user_id,
                                      body=body.body)
        names = names_of(session, {comment.author_id})
        return FastJSONResponse(comment_view(ctx, comment, names), status_code=201)


@router.get("/ideas/{idea_id}/comments", response_model=CommentListOut)
def list_comments(idea_id: IdeaId, ctx: Ctx, limit: Limit = None, cursor: Cursor = None) -> FastJSONResponse:
    with ctx.db.read() as session:
        page = service.comments(session, idea_id, page_request(limit, cursor))
        names = names_of(session, {c.author_id for c in page.items})
        return FastJSONResponse({"items": [comment_view(ctx, c, names) for c in page.items],
                                 "next_cursor": page.next_cursor})


@router.patch("/admin/ideas/{idea_id}", response_model=IdeaOut)
def change_status(idea_id: IdeaId, body: StatusIn, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    """Moves the idea along its lifecycle (``shipped`` only through a release: 409); ``duplicate`` needs
    ``duplicate_of``, another active idea of the same product, which takes its votes. Voters and the author
    are notified."""
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        idea = service.change_status(session, ctx.clock, idea_id=idea_id, status=body.status,
                                     duplicate_of=body.duplicate_of, actor_id=caller.user_id)
        return FastJSONResponse(ideas_view(ctx, session, [idea])[0])


# --- releases ---------------------------------------------------------------------------------------


@router.post("/admin/releases", status_code=201, response_model=ReleaseOut)
def publish_release(body: ReleaseIn, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    """Publishes a release that ships ``idea_ids`` (each active and of that product); ``credits`` name every
    author and voter of those ideas once (``role``: ``author`` | ``voter``)."""
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        release = service.publish_release(session, ctx.clock, product_slug=body.product_slug,
                                          version=body.version, released_on=date.fromisoformat(body.released_on),
                                          notes=body.notes, idea_ids=body.idea_ids, actor_id=caller.user_id)
        return FastJSONResponse(release_view(ctx, session, release), status_code=201)


@router.get("/releases", response_model=ReleaseListOut)
def list_releases(ctx: Ctx, product: ProductFilter = None, limit: Limit = None,
                  cursor: Cursor = None) -> FastJSONResponse:
    with ctx.db.read() as session:
        page = service.list_releases(session, page_request(limit, cursor), product=product)
        return FastJSONResponse({"items": [{"id": r.id, "product_slug": r.product_slug, "version": r.version,
                                            "released_on": r.released_on.isoformat(),
                                            "created_at": iso(ctx, r.created_at)} for r in page.items],
                                 "next_cursor": page.next_cursor})


@router.get("/releases/{release_id}", response_model=ReleaseOut)
def get_release(release_id: ReleaseId, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.read() as session:
        return FastJSONResponse(release_view(ctx, session, service.get_release(session, release_id)))


# --- notifications and the digest ------------------------------------------------------------------


@router.get("/me/notifications", response_model=NotificationListOut)
def my_notifications(caller: CurrentCaller, ctx: Ctx, limit: Limit = None, cursor: Cursor = None) -> FastJSONResponse:
    """Newest first: every status change of an idea you wrote or voted for."""
    with ctx.db.read() as session:
        page = service.notifications(session, caller.user_id, page_request(limit, cursor))
        return FastJSONResponse({"items": [notification_view(ctx, n) for n in page.items],
                                 "next_cursor": page.next_cursor,
                                 "unread": service.unread_count(session, caller.user_id)})


@router.post("/me/notifications/{notification_id}/read", status_code=204)
def mark_read(notification_id: NotificationId, caller: CurrentCaller, ctx: Ctx) -> Response:
    with ctx.db.uow() as session:
        service.mark_read(session, ctx.clock, customer_id=caller.user_id, notification_id=notification_id)
    return Response(status_code=204)


@router.post("/me/notifications/read", status_code=204)
def mark_all_read(caller: CurrentCaller, ctx: Ctx) -> Response:
    with ctx.db.uow() as session:
        service.mark_read(session, ctx.clock, customer_id=caller.user_id)
    return Response(status_code=204)


@router.get("/digests/latest", response_model=DigestOut)
def latest_digest(ctx: Ctx) -> FastJSONResponse:
    """The last weekly digest: the releases published that week, their ideas, authors and voters."""
    with ctx.db.read() as session:
        return FastJSONResponse(digest_view(ctx, service.latest_digest(session)))
