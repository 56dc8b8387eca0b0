"""Share links on the storefront: the share button of the product page, ``?ref=CODE`` on arrival, the fan's
"my commissions" page, and the console's commission rates per category.

How a click is recorded (API.md leaves it to the storefront):
- a signed-in visitor opening ``/products/{slug}?ref=CODE``: the click is recorded then (``note_ref``);
- an anonymous visitor: the code is kept in the ``fb_ref`` cookie (the last few codes, newest last, for the
  attribution window of 7 days) and recorded as a click when they log in or register (``claim_clicks``),
  at that moment; the cookie is then dropped.
A code that does not exist, or the visitor's own link, records nothing.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from fanbase.accounts.service import Principal, verify_token
from fanbase.console.pages import WRITER, staff
from fanbase.errors import DomainError, Unauthorized
from fanbase.i18n import N_
from fanbase.i18n import gettext as _
from fanbase.pages import ctx_of, render, signed_in, visitor, write
from fanbase.pagination import page_request
from fanbase.social.referrals import service
from fanbase.social.referrals.api import share_url
from fanbase.social.referrals.models import PAID, PENDING, REVERSED

router = APIRouter()
REF_COOKIE = "fb_ref"
REF_COOKIE_CODES = 5
COMMISSIONS = "/commissions"
RATES = "/console/commission-rates"
PAGE_SIZE = 20
STATUS_LABELS = {PENDING: N_("Pending: the order is not completed yet"), PAID: N_("Paid to your wallet"),
                 REVERSED: N_("Reversed: the order was refunded or cancelled")}


# --- ?ref=CODE and sign-in ----------------------------------------------------------------------------


def _cookie_codes(request: Request) -> list[str]:
    raw = request.cookies.get(REF_COOKIE, "")
    return [code for code in raw.split(".") if service.valid_code(code)][-REF_COOKIE_CODES:] if len(raw) < 200 else []


async def note_ref(request: Request, response: Response, ref: str | None) -> Response:
    """The product page was opened with ``?ref=CODE``: a click for a signed-in customer, else the code is
    kept in a cookie until they sign in."""
    if not ref or not service.valid_code(ref):
        return response
    ctx = ctx_of(request)
    principal = visitor(request).principal
    if principal is not None:
        def work() -> None:
            with ctx.db.uow() as session:
                service.record_click(session, ctx.clock, code=ref, customer_id=principal.user_id)

        with suppress(DomainError):  # an unknown code: the page is shown all the same
            await run_in_threadpool(work)
        return response
    codes = [code for code in _cookie_codes(request) if code != ref] + [ref]
    response.set_cookie(REF_COOKIE, ".".join(codes[-REF_COOKIE_CODES:]),
                        max_age=int(service.ATTRIBUTION_WINDOW.total_seconds()), httponly=True, samesite="lax",
                        secure=ctx.settings.public_url.startswith("https://"), path="/")
    return response


async def claim_clicks(request: Request, response: Response, token: str) -> Response:
    """After a log-in or registration: the codes the visitor opened while anonymous become their clicks."""
    codes = _cookie_codes(request)
    if not codes:
        return response
    ctx = ctx_of(request)
    try:
        customer_id = verify_token(ctx.secret_key, token, ctx.clock.now(), ctx.revocations).user_id
    except Unauthorized:
        return response

    def work() -> None:
        with ctx.db.uow() as session:
            service.record_clicks(session, ctx.clock, codes=codes, customer_id=customer_id)

    await run_in_threadpool(work)
    response.delete_cookie(REF_COOKIE, path="/")
    return response


# --- the fan's pages ---------------------------------------------------------------------------------


@router.post("/products/{slug}/share")
async def share(request: Request, slug: Annotated[str, Path(max_length=100)]) -> Response:
    ctx = ctx_of(request)
    done: list[str] = []

    def work(session: Session, fan: Principal, fields: dict[str, str]) -> None:
        link = service.share(session, ctx.clock, sharer_id=fan.user_id, product_slug=slug)
        done.append(_("Your share link: {url}", url=share_url(ctx, link)))

    return await write(request, f"/products/{slug}", lambda: done[0] if done else None, work)


@router.get("/commissions")
def commissions(request: Request, cursor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    fan = signed_in(request)
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        page = service.commissions(session, fan.user_id, page_request(PAGE_SIZE, cursor))
        totals = service.totals(session, fan.user_id)
        links = [(product, share_url(ctx, link)) for link, product in service.my_links(session, fan.user_id)]
        return render(request, "referrals/commissions.html", title=_("My commissions"), items=page.items,
                      next_cursor=page.next_cursor, first_page=cursor is None, totals=totals, links=links,
                      labels=STATUS_LABELS)


# --- the console -------------------------------------------------------------------------------------


@router.get("/console/commission-rates")
def rates_page(request: Request) -> Response:
    who = staff(request)
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        return render(request, "referrals/rates.html", title=_("Commission rates"), section="commissions",
                      can_write=who.role in ("admin", WRITER), rates=service.rates(session),
                      max_rate=str(service.MAX_RATE))


@router.post("/console/commission-rates")
async def set_rate(request: Request) -> Response:
    ctx = ctx_of(request)
    done: list[str] = []

    def work(session: Session, who: Principal, fields: dict[str, str]) -> None:
        slug, rate = service.set_rate(session, ctx.clock, category=fields.get("category", "").strip()[:64],
                                      rate=fields.get("rate", "").strip()[:12], actor_id=who.user_id)
        done.append(_("The commission rate of {category} is now {rate}", category=slug, rate=rate))

    return await write(request, RATES, lambda: done[0] if done else None, work, who=lambda r: staff(r, WRITER))
