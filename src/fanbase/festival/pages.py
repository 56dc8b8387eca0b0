"""Festival pages: the console's ``/console/festivals`` (list, create form) and a festival's live dashboard
(numbers, orders per hour as an SVG chart, top products and sharers). The storefront's banner and struck
prices are drawn by the catalogue's pages with ``festival.service``."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fanbase.accounts.service import Principal
from fanbase.charts import bar_chart
from fanbase.console.pages import WRITER, staff
from fanbase.console.pages import _local as local_time  # datetime-local fields, in the store's zone
from fanbase.errors import ValidationFailed
from fanbase.festival import dashboard as dashboards
from fanbase.festival import service
from fanbase.i18n import N_
from fanbase.i18n import gettext as _
from fanbase.pages import ctx_of, render, write

router = APIRouter()
FESTIVALS = "/console/festivals"
FestivalId = Annotated[int, Path(ge=1, le=2**62)]
STATUS_LABELS = {service.SCHEDULED: N_("Scheduled"), service.LIVE: N_("Live"), service.ENDED: N_("Ended")}


def parse_discounts(raw: str) -> list[service.DiscountSpec]:
    """One discount a line: ``<product-slug> <percent>`` or ``category:<slug> <percent>``."""
    found = []
    for number, line in enumerate(raw.splitlines()[:service.MAX_DISCOUNTS + 1], start=1):
        words = line.split()
        if not words:
            continue
        if len(words) != 2 or not words[1].rstrip("%").isdigit() or len(words[1]) > 3:
            raise ValidationFailed(N_("Discount line {line}: write a product slug (or category:slug) and a "
                                      "percentage"), line=number)
        target, percent = words[0][:101], int(words[1].rstrip("%"))
        if target.startswith("category:"):
            found.append(service.DiscountSpec(percent_off=percent, category=target.removeprefix("category:")))
        else:
            found.append(service.DiscountSpec(percent_off=percent, product_slug=target))
    return found


@router.get("/console/festivals")
def festivals_page(request: Request) -> Response:
    who = staff(request)
    ctx = ctx_of(request)
    now = ctx.clock.now()
    zone = ctx.settings.zone
    with ctx.db.read() as session:
        start = (now + timedelta(days=1)).astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        defaults = {"starts_at": start.strftime("%Y-%m-%dT%H:%M"),
                    "ends_at": (start + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")}
        rows = [(f, service.status(f, now)) for f in service.list_festivals(session)]
        return render(request, "festival/festivals.html", title=_("Fan festivals"), section="festivals",
                      can_write=who.role in ("admin", WRITER), rows=rows, statuses=STATUS_LABELS,
                      defaults=defaults, describe=service.describe, max_percent=service.MAX_PERCENT_OFF)


@router.post("/console/festivals")
async def create_festival(request: Request) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, who: Principal, fields: dict[str, str]) -> str:
        festival = service.create_festival(
            session, ctx.clock, name=fields.get("name", "").strip()[:service.MAX_NAME + 1],
            starts_at=local_time(ctx, fields, "starts_at"), ends_at=local_time(ctx, fields, "ends_at"),
            discounts=parse_discounts(fields.get("discounts", "")[:20_000]), actor_id=who.user_id)
        return f"{FESTIVALS}/{festival.id}"

    return await write(request, FESTIVALS, _("The festival is created"), work, who=lambda r: staff(r, WRITER))


@router.get("/console/festivals/{festival_id}")
def festival_page(request: Request, festival_id: FestivalId) -> Response:
    who = staff(request)
    ctx = ctx_of(request)
    zone = ctx.settings.zone
    with ctx.db.read() as session:
        board = dashboards.dashboard(session, ctx.clock.now(), festival_id)
        fmt = "%H:%M" if board.bucket_hours < 24 and len(board.bucket_starts) <= 24 else "%m-%d %H:%M"
        labels = [at.astimezone(zone).strftime(fmt) for at in board.bucket_starts]
        chart = bar_chart(board.per_bucket, labels, _("Orders per hour during the festival")
                          if board.bucket_hours == 1 else
                          _("Orders per {hours} hours during the festival", hours=board.bucket_hours))
        return render(request, "festival/dashboard.html", title=board.festival.name, section="festivals",
                      can_write=who.role in ("admin", WRITER), board=board, chart=chart,
                      state=STATUS_LABELS[board.status], describe=service.describe)
