"""A fan's profile page ``/me``: level and this year's growth, points and when they expire, badges, the fan's
reviews, and the fan's ideas."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fanbase.community.ideas import service as ideas
from fanbase.i18n import N_
from fanbase.i18n import gettext as _
from fanbase.membership import service
from fanbase.membership.models import LEVELS
from fanbase.pages import ctx_of, render, signed_in
from fanbase.social.reviews import service as reviews

router = APIRouter()

LEVEL_NAMES = {"bronze": N_("Bronze"), "silver": N_("Silver"), "gold": N_("Gold"), "diamond": N_("Diamond")}


@dataclass(frozen=True)
class Section:
    title: str  # translated
    items: list[tuple[str, str]]  # (text, link)
    empty: str = ""  # shown when there are no items


def ideas_section(session: Session, customer_id: int) -> Section:
    """The fan's ideas and where each one stands."""
    return Section(title=_("My ideas"),
                   items=[(f"{idea.title} · {_(ideas.STATUS_LABELS[idea.status])}", f"/ideas/{idea.id}")
                          for idea in ideas.ideas_by(session, customer_id)],
                   empty=_("No ideas yet: tell us what to build next"))


SECTIONS: list[Callable[[Session, int], Section | None]] = [ideas_section]


@router.get("/me")
def profile(request: Request) -> Response:
    customer = signed_in(request)
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        found = service.membership(session, ctx.clock, ctx.settings.zone, customer.user_id)
        badges = service.badges_of(session, customer.user_id)
        written = reviews.reviews_by(session, customer.user_id)
        sections = [s for s in (load(session, customer.user_id) for load in SECTIONS) if s is not None]
        return render(request, "membership/profile.html", title=_("My membership"), m=found, badges=badges,
                      reviews=written, sections=sections, level_names=LEVEL_NAMES,
                      levels=list(reversed(LEVELS)))
