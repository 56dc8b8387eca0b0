"""The ideas board's pages: the board with filters and vote buttons, an idea with its comments, the "post an
idea" form, a release with the fans it thanks, the weekly digest, a fan's notifications, and the console's
ideas page (status changes, duplicates, publishing a release). The rules are the service's; these routes only
translate forms and answers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fanbase.accounts.service import Principal, names_of
from fanbase.catalog import service as catalog
from fanbase.community.ideas import service
from fanbase.community.ideas.models import ACTIVE, STATUSES, Idea
from fanbase.console.pages import WRITER, staff
from fanbase.errors import ValidationFailed
from fanbase.i18n import N_
from fanbase.i18n import gettext as _
from fanbase.pages import ctx_of, named, render, safe_next, signed_in, visitor, write
from fanbase.pagination import page_request

router = APIRouter()
IdeaId = Annotated[int, Path(ge=1, le=2**62)]
ReleaseId = Annotated[int, Path(ge=1, le=2**62)]
Cursor = Annotated[str | None, Query(max_length=200)]
PAGE_SIZE = 20
SORTS = {"votes": N_("Most votes"), "new": N_("Newest")}


def _products(session: Session) -> list[tuple[str, str]]:
    """(slug, name) of the catalogue's products, for the filters and the form."""
    return [(p.slug, named(p)) for p in catalog.list_products(session, page_request(100, None)).items]


# --- the board ------------------------------------------------------------------------------------


@router.get("/ideas")
def board(request: Request, product: Annotated[str | None, Query(max_length=100)] = None,
          status: Annotated[str | None, Query(max_length=20)] = None,
          sort: Literal["votes", "new"] = "votes", cursor: Cursor = None) -> Response:
    who = visitor(request).principal
    ctx = ctx_of(request)
    status = status if status in STATUSES else None
    with ctx.db.read() as session:
        page = service.list_ideas(session, limit=PAGE_SIZE, cursor=cursor, product=product or None, status=status,
                                  sort=sort)
        ideas = list(page.items)
        names = service.author_names(session, ideas)
        mine = service.voted(session, who.user_id, [i.id for i in ideas]) if who else set()
        products = _products(session)
        return render(request, "ideas/board.html", title=_("Ideas"), ideas=ideas, names=names, mine=mine,
                      products=products, product=product or "", chosen_status=status or "", sort=sort, sorts=SORTS,
                      statuses=service.STATUS_LABELS, active=ACTIVE, next_cursor=page.next_cursor,
                      here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))


@router.get("/ideas/new")
def new_idea(request: Request, product: Annotated[str | None, Query(max_length=100)] = None) -> Response:
    signed_in(request)
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        products = _products(session)
        return render(request, "ideas/new.html", title=_("Post an idea"), products=products, product=product or "")


@router.post("/ideas/new")
async def post_idea(request: Request) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> str:
        idea = service.post_idea(session, ctx.clock, customer_id=customer.user_id,
                                 product_slug=fields.get("product", "")[:100], title=fields.get("title", "")[:1000],
                                 body=fields.get("body", "")[:20_000], is_staff=customer.is_staff)
        return f"/ideas/{idea.id}"

    return await write(request, "/ideas/new", _("Your idea is posted, with your vote"), work)


@router.get("/ideas/digest")
def digest(request: Request) -> Response:
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        found = service.digests(session, limit=4)
        return render(request, "ideas/digest.html", title=_("Shipped this week"), digests=found)


@router.get("/ideas/{idea_id}")
def idea_page(request: Request, idea_id: IdeaId, cursor: Cursor = None) -> Response:
    who = visitor(request).principal
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        idea = service.get_idea(session, idea_id)
        page = service.comments(session, idea_id, page_request(50, cursor))
        names = names_of(session, {idea.author_id} | {c.author_id for c in page.items})
        has_voted = bool(who and service.voted(session, who.user_id, [idea.id]))
        product = catalog.get_product(session, idea.product_slug)
        original = session.get(Idea, idea.duplicate_of) if idea.duplicate_of else None
        release = service.get_release(session, idea.release_id) if idea.release_id else None
        return render(request, "ideas/idea.html", title=idea.title, description=idea.body[:160], idea=idea,
                      names=names, comments=page.items, next_cursor=page.next_cursor, has_voted=has_voted,
                      product=product, original=original, release=release, statuses=service.STATUS_LABELS,
                      active=ACTIVE, can_vote=not (who and who.is_staff))


def _back(fields: dict[str, str], idea_id: int) -> str:
    return safe_next(fields.get("next"), f"/ideas/{idea_id}")


@router.post("/ideas/{idea_id}/vote")
async def vote(request: Request, idea_id: IdeaId) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> str:
        service.vote(session, ctx.clock, idea_id=idea_id, customer_id=customer.user_id, is_staff=customer.is_staff)
        return _back(fields, idea_id)

    return await write(request, f"/ideas/{idea_id}", _("Thanks for your vote"), work)


@router.post("/ideas/{idea_id}/unvote")
async def unvote(request: Request, idea_id: IdeaId) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> str:
        service.withdraw_vote(session, ctx.clock, idea_id=idea_id, customer_id=customer.user_id)
        return _back(fields, idea_id)

    return await write(request, f"/ideas/{idea_id}", _("Your vote is withdrawn"), work)


@router.post("/ideas/{idea_id}/comments")
async def comment(request: Request, idea_id: IdeaId) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> None:
        service.add_comment(session, ctx.clock, idea_id=idea_id, author_id=customer.user_id,
                            body=fields.get("body", "")[:10_000])

    return await write(request, f"/ideas/{idea_id}", _("Your comment is posted"), work)


# --- releases -----------------------------------------------------------------------------------------


@router.get("/releases")
def releases(request: Request, product: Annotated[str | None, Query(max_length=100)] = None,
             cursor: Cursor = None) -> Response:
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        page = service.list_releases(session, page_request(PAGE_SIZE, cursor), product=product or None)
        return render(request, "ideas/releases.html", title=_("Releases"), releases=page.items,
                      next_cursor=page.next_cursor, product=product or "")


@router.get("/releases/{release_id}")
def release_page(request: Request, release_id: ReleaseId) -> Response:
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        release = service.get_release(session, release_id)
        ideas = service.release_ideas(session, release_id)
        credits = service.credits(session, release_id)
        product = catalog.get_product(session, release.product_slug)
        return render(request, "ideas/release.html", title=f"{named(product)} {release.version}", release=release,
                      ideas=ideas, credits=credits, product=product)


# --- notifications ----------------------------------------------------------------------------------


@router.get("/notifications")
def notifications(request: Request, cursor: Cursor = None) -> Response:
    customer = signed_in(request)
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        page = service.notifications(session, customer.user_id, page_request(PAGE_SIZE, cursor))
        unread = service.unread_count(session, customer.user_id)
        return render(request, "ideas/notifications.html", title=_("Notifications"),
                      notes=[(n, service.notification_text(n)) for n in page.items], unread=unread,
                      next_cursor=page.next_cursor)


@router.post("/notifications/read")
async def mark_all_read(request: Request) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> None:
        service.mark_read(session, ctx.clock, customer_id=customer.user_id)

    return await write(request, "/notifications", _("All notifications are marked read"), work)


# --- console ------------------------------------------------------------------------------------------


@router.get("/console/ideas")
def console_ideas(request: Request, status: Annotated[str | None, Query(max_length=20)] = None,
                  product: Annotated[str | None, Query(max_length=100)] = None, cursor: Cursor = None) -> Response:
    who = staff(request)
    ctx = ctx_of(request)
    status = status if status in STATUSES else None
    with ctx.db.read() as session:
        page = service.list_ideas(session, limit=50, cursor=cursor, product=product or None, status=status,
                                  sort="new")
        ideas = list(page.items)
        names = service.author_names(session, ideas)
        products = _products(session)
        recent = service.list_releases(session, page_request(10, None)).items
        return render(request, "ideas/console.html", title=_("Ideas"), section="ideas",
                      can_write=who.role in ("admin", WRITER), ideas=ideas, names=names, products=products,
                      chosen_status=status or "", product=product or "", statuses=service.STATUS_LABELS,
                      transitions={s: sorted(t - service.RELEASE_ONLY) for s, t in service.TRANSITIONS.items()},
                      next_cursor=page.next_cursor, releases=recent,
                      today=ctx.clock.now().astimezone(ctx.settings.zone).date().isoformat())


def _staff_writer(request: Request) -> Principal:
    return staff(request, WRITER)


@router.post("/console/ideas/{idea_id}/status")
async def console_status(request: Request, idea_id: IdeaId) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, operator: Principal, fields: dict[str, str]) -> None:
        raw = fields.get("duplicate_of", "").strip()
        if raw and (not raw.isdigit() or len(raw) > 18):
            raise ValidationFailed(N_("duplicate_of must be an idea number"))
        service.change_status(session, ctx.clock, idea_id=idea_id, status=fields.get("status", "")[:20],
                              duplicate_of=int(raw) if raw else None, actor_id=operator.user_id)

    return await write(request, "/console/ideas", _("The idea's status is changed; its fans are notified"), work,
                       who=_staff_writer)


@router.post("/console/releases")
async def console_release(request: Request) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, operator: Principal, fields: dict[str, str]) -> str:
        ids: list[int] = []
        for part in fields.get("idea_ids", "").replace("，", ",").replace(" ", ",").split(","):
            if part:
                if not part.isdigit() or len(part) > 18:
                    raise ValidationFailed(N_("Idea numbers are whole numbers separated by commas"))
                ids.append(int(part))
        try:
            released_on = date.fromisoformat(fields.get("released_on", "").strip()[:10])
        except ValueError:
            raise ValidationFailed(N_("The release date must be a date")) from None
        release = service.publish_release(session, ctx.clock, product_slug=fields.get("product", "")[:100],
                                          version=fields.get("version", "")[:200], released_on=released_on,
                                          notes=fields.get("notes", "")[:20_000], idea_ids=ids,
                                          actor_id=operator.user_id)
        return f"/releases/{release.id}"

    return await write(request, "/console/ideas", _("The release is published"), work, who=_staff_writer)
