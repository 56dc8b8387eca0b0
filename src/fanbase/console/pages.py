"""The operator console: dashboard, products and variants, stock, orders, flash sales, the money-market fund
(totals, daily income, trading calendar, wallet tiers), audit log.

Staff only: a signed-in customer gets a 403 page; reading needs any staff role, every write the
``operator`` role (admin may do everything), as the JSON admin routes require. Writes call the same
service functions as those routes, which write the audit log with the acting staff member.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fanbase.accounts import service as accounts
from fanbase.accounts.service import Principal
from fanbase.broadcast import CATALOG_CHANGED, FLASH_SALE_CHANGED
from fanbase.catalog import service as catalog
from fanbase.charts import bar_chart, line_chart
from fanbase.context import Context
from fanbase.errors import Forbidden, NotFound, ValidationFailed
from fanbase.festival import service as festivals
from fanbase.flashsale import service as flashsale
from fanbase.flashsale.models import FIRST_COME, LOTTERY, FlashSale
from fanbase.flashsale.showcase import list_sales, next_launch, orders_since, sold_curve
from fanbase.fund import calendar, income
from fanbase.fund import service as fund
from fanbase.i18n import N_
from fanbase.i18n import gettext as _
from fanbase.inventory import service as inventory
from fanbase.money import format_fen
from fanbase.orders import service as orders
from fanbase.orders.models import DELIVERED, PAID, SHIPPED
from fanbase.orders.pages import EVENT_LABELS, METHOD_LABELS, STATUS_LABELS
from fanbase.pages import Work, ctx_of, render, signed_in, write, yuan_field
from fanbase.pagination import page_request
from fanbase.social.groupbuys import service as groupbuys
from fanbase.wallet import service as wallet
from fanbase.wallet.pages import TIER_NAMES, tier_rules, yield_chart

router = APIRouter()
OrderId = Annotated[int, Path(ge=1, le=2**62)]
SaleId = Annotated[int, Path(ge=1, le=2**62)]
Slug = Annotated[str, Path(max_length=100)]
Sku = Annotated[str, Path(max_length=64)]
WRITER = "operator"
ORDER_ACTIONS = {"ship": (PAID, N_("The order is shipped")), "deliver": (SHIPPED, N_("The order is delivered")),
                 "refund": (PAID, N_("The order is refunded"))}
MODE_LABELS = {FIRST_COME: N_("First come, first served"), LOTTERY: N_("Lottery among the fans who reserved")}
SALE_STATUS_LABELS = {"scheduled": N_("Scheduled"), "reserving": N_("Taking reservations"), "live": N_("Live"),
                      "sold_out": N_("Sold out"), "ended": N_("Ended")}


def staff(request: Request, *roles: str) -> Principal:
    """The signed-in staff member (any role, or one of ``roles``); a customer is refused with a 403 page."""
    principal = signed_in(request)
    if not principal.is_staff:
        raise Forbidden(N_("The console is for the store's staff"))
    accounts.require_staff(principal, *roles)
    return principal


@contextmanager
def _read(request: Request) -> Iterator[tuple[Context, Session]]:
    """A console page's reads, once the staff member is checked (a customer never reaches the database)."""
    staff(request)
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        yield ctx, session


def _page(request: Request, template: str, title: str, section: str, **values: Any) -> Response:
    who = staff(request)
    return render(request, f"console/{template}", title=title, section=section,
                  can_write=who.role in ("admin", WRITER), **values)


async def _write(request: Request, back: str, notice: str | Callable[[], str | None], work: Work,
                 changed: str | None = None, topic: str = CATALOG_CHANGED) -> Response:
    """A console form: ``pages.write`` for an operator; ``changed`` is then told to every process (``topic``:
    by default cached product pages are dropped)."""
    ctx = ctx_of(request)
    publish = None if changed is None else (lambda: ctx.broadcast.publish(topic, changed))
    return await write(request, back, notice, work, who=lambda r: staff(r, WRITER), after=publish)


# --- form fields ------------------------------------------------------------------------------------


def _text(fields: dict[str, str], name: str, limit: int = 200) -> str:
    return fields.get(name, "").strip()[:limit]


def _whole(fields: dict[str, str], name: str, low: int, high: int) -> int:
    raw = fields.get(name, "").strip()
    if not raw.isdigit() or len(raw) > 12 or not low <= int(raw) <= high:
        raise ValidationFailed(N_("{field} must be a whole number from {low} to {high}"), field=name, low=low,
                               high=high)
    return int(raw)


def _local(ctx: Context, fields: dict[str, str], name: str) -> datetime:
    """A ``datetime-local`` field, in the store's zone."""
    try:
        return datetime.fromisoformat(fields.get(name, "").strip()[:19]).replace(tzinfo=ctx.settings.zone)
    except ValueError:
        raise ValidationFailed(N_("{field} must be a date and time"), field=name) from None


# --- dashboard ---------------------------------------------------------------------------------------


@router.get("/console")
def dashboard(request: Request) -> Response:
    with _read(request) as (ctx, session):
        now = ctx.clock.now()
        day = datetime.combine(now.astimezone(ctx.settings.zone).date(), time(0), tzinfo=ctx.settings.zone)
        summary = orders.day_summary(session, day, ctx.settings.zone)
        sale = next_launch(session, now)
        live = _live_panel(ctx, session, sale) if sale is not None else None
        chart = bar_chart(summary.per_hour, [f"{h:02d}:00" for h in range(24)], _("Orders per hour today"))
        return _page(request, "dashboard.html", _("Console"), "dashboard", summary=summary, chart=chart, live=live)


def _live_panel(ctx: Context, session: Session, sale: FlashSale) -> dict[str, object]:
    now = ctx.clock.now()
    remaining = flashsale.remaining_units(session, ctx.flash_gate, sale)
    sold = sale.units - remaining
    curve = sold_curve(session, sale, now)
    elapsed = max(1, int((min(now, sale.ends_at) - sale.starts_at).total_seconds()))
    return {"sale": sale, "product": catalog.get_variant(session, sale.sku).product, "remaining": remaining,
            "sold": sold, "share": round(100 * sold / sale.units, 1),
            "status": (status := flashsale.status(sale, now, remaining)),
            "status_label": _(SALE_STATUS_LABELS[status]),
            "reservations": flashsale.reservation_count(session, sale.id),
            "last_minute": orders_since(session, sale.id, now - timedelta(minutes=1)),
            "chart": line_chart(curve, sale.units, _("Units sold since the start"),
                                _("{minutes} min", minutes=elapsed // 60)) if curve else None}


# --- products, variants, stock ---------------------------------------------------------------------


@router.get("/console/products")
def products(request: Request, q: Annotated[str | None, Query(max_length=100)] = None,
             cursor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    with _read(request) as (ctx, session):
        page = catalog.list_products(session, page_request(50, cursor), q=q)
        return _page(request, "products.html", _("Products"), "products", products=page.items,
                     next_cursor=page.next_cursor, q=q or "", brands=catalog.list_brands(session),
                     categories=catalog.list_categories(session))


@router.post("/console/products")
async def create_product(request: Request) -> Response:
    def work(session: Session, who: Principal, fields: dict[str, str]) -> str:
        slug = _text(fields, "slug", 64)
        catalog.create_product(
            session, ctx_of(request).clock, slug=slug, name=_text(fields, "name"), brand=_text(fields, "brand", 64),
            category=_text(fields, "category", 64), description=_text(fields, "description", 4000),
            variants=[catalog.NewVariant(sku=_text(fields, "sku", 64), name=_text(fields, "variant_name"),
                                         price_fen=yuan_field(fields, "price"), cost_fen=yuan_field(fields, "cost"))],
            actor_id=who.user_id)
        return f"/console/products/{slug}"

    return await _write(request, "/console/products", _("The product is created"), work, changed="*")


@router.get("/console/products/{slug}")
def product(request: Request, slug: Slug) -> Response:
    with _read(request) as (ctx, session):
        found = catalog.get_product(session, slug)
        stock = {v.sku: inventory.stock_of(session, v.sku) for v in found.variants}
        return _page(request, "product.html", found.name, "products", product=found, stock=stock,
                     locations=inventory.list_locations(session))


@router.post("/console/products/{slug}")
async def update_product(request: Request, slug: Slug) -> Response:
    def work(session: Session, who: Principal, fields: dict[str, str]) -> None:
        catalog.update_product(session, ctx_of(request).clock, slug=slug, name=_text(fields, "name"),
                               description=_text(fields, "description", 4000), actor_id=who.user_id)

    return await _write(request, f"/console/products/{slug}", _("The product is saved"), work, changed=slug)


@router.post("/console/products/{slug}/variants")
async def add_variant(request: Request, slug: Slug) -> Response:
    def work(session: Session, who: Principal, fields: dict[str, str]) -> None:
        catalog.add_variant(session, ctx_of(request).clock, slug=slug, actor_id=who.user_id,
                            variant=catalog.NewVariant(sku=_text(fields, "sku", 64), name=_text(fields, "name"),
                                                       price_fen=yuan_field(fields, "price"),
                                                       cost_fen=yuan_field(fields, "cost")))

    return await _write(request, f"/console/products/{slug}", _("The variant is added"), work, changed=slug)


@router.post("/console/variants/{sku}")
async def update_variant(request: Request, sku: Sku) -> Response:
    def work(session: Session, who: Principal, fields: dict[str, str]) -> str:
        variant = catalog.update_variant(session, ctx_of(request).clock, sku=sku, name=_text(fields, "name"),
                                         price_fen=yuan_field(fields, "price"), cost_fen=yuan_field(fields, "cost"),
                                         actor_id=who.user_id)
        return f"/console/products/{variant.product.slug}"

    return await _write(request, _back(request), _("The variant is saved"), work, changed=sku)


@router.post("/console/stock/{sku}")
async def set_stock(request: Request, sku: Sku) -> Response:
    def work(session: Session, who: Principal, fields: dict[str, str]) -> None:
        inventory.set_on_hand(session, ctx_of(request).clock, sku=sku, location_code=_text(fields, "location", 32),
                              on_hand=_whole(fields, "on_hand", 0, inventory.MAX_ON_HAND), actor_id=who.user_id)

    return await _write(request, _back(request), _("The stock is saved"), work, changed=sku)


def _back(request: Request) -> str:
    """The console page the form was on (same site only)."""
    referer = request.headers.get("referer", "")
    base = str(request.base_url)
    path = "/" + referer[len(base):] if referer.startswith(base) else ""
    return path if path.startswith("/console") and not path.startswith("//") else "/console/products"


# --- orders ------------------------------------------------------------------------------------------


@router.get("/console/orders")
def order_list(request: Request, status: Annotated[str | None, Query(max_length=20)] = None,
               cursor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    with _read(request) as (ctx, session):
        chosen = status if status in STATUS_LABELS else None
        page = orders.list_orders(session, page_request(50, cursor), status=chosen)
        return _page(request, "orders.html", _("Orders"), "orders", orders=page.items, next_cursor=page.next_cursor,
                     chosen=chosen or "", statuses=STATUS_LABELS)


@router.get("/console/orders/{order_id}")
def order_page(request: Request, order_id: OrderId) -> Response:
    with _read(request) as (ctx, session):
        order = orders.get_order(session, order_id)
        actions = [name for name, (needs, _notice) in ORDER_ACTIONS.items() if order.status == needs]
        customer = accounts.get_user(session, order.customer_id)
        return _page(request, "order.html", _("Order {number}", number=order.number), "orders", order=order,
                     customer=customer, actions=actions, statuses=STATUS_LABELS, events=EVENT_LABELS,
                     methods=METHOD_LABELS, delivered=DELIVERED)


@router.post("/console/orders/{order_id}/{action}")
async def order_action(request: Request, order_id: OrderId,
                       action: Annotated[str, Path(pattern="^(ship|deliver|refund)$")]) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, who: Principal, fields: dict[str, str]) -> None:
        if action == "ship":
            orders.ship(session, ctx.clock, order_id=order_id, actor_id=who.user_id)
        elif action == "deliver":
            orders.deliver(session, ctx.clock, order_id=order_id, actor_id=who.user_id)
        else:
            orders.refund(session, ctx.clock, ctx.gateway, order_id=order_id, actor_id=who.user_id)

    return await _write(request, f"/console/orders/{order_id}", _(ORDER_ACTIONS[action][1]), work)


# --- flash sales -------------------------------------------------------------------------------------


@router.get("/console/flash-sales")
def sales(request: Request) -> Response:
    with _read(request) as (ctx, session):
        now = ctx.clock.now()
        zone = ctx.settings.zone
        found = list_sales(session)
        rows = [{"sale": s, "status": flashsale.status(s, now, flashsale.remaining_units(session, ctx.flash_gate, s))}
                for s in found]
        start = (now + timedelta(hours=1)).astimezone(zone).replace(second=0, microsecond=0)
        defaults = {"reservations_open_at": now.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
                    "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
                    "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")}
        upcoming = [f for f in festivals.list_festivals(session) if f.ends_at > now]
        return _page(request, "sales.html", _("Flash sales"), "sales", rows=rows, defaults=defaults,
                     modes=MODE_LABELS, statuses=SALE_STATUS_LABELS, festivals=upcoming)


@router.post("/console/flash-sales")
async def create_sale(request: Request) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, who: Principal, fields: dict[str, str]) -> str:
        mode = fields.get("mode", FIRST_COME)
        if mode not in MODE_LABELS:
            raise ValidationFailed("mode is first_come or lottery")
        spec = flashsale.SaleSpec(
            sku=_text(fields, "sku", 64), units=_whole(fields, "units", 1, flashsale.MAX_UNITS),
            price_fen=yuan_field(fields, "price"), reservations_open_at=_local(ctx, fields, "reservations_open_at"),
            starts_at=_local(ctx, fields, "starts_at"), ends_at=_local(ctx, fields, "ends_at"),
            per_customer_limit=_whole(fields, "per_customer_limit", 1, 1000),
            payment_window_seconds=60 * _whole(fields, "payment_window_minutes", 1, 7 * 24 * 60),
            mode=mode, require_purchase_token=fields.get("require_purchase_token") == "on",
            festival_id=_whole(fields, "festival_id", 1, 2**62) if fields.get("festival_id", "").strip() else None)
        sale = flashsale.create_sale(session, ctx.clock, spec, who.user_id)
        return f"/console/flash-sales/{sale.id}"

    return await _write(request, "/console/flash-sales", _("The flash sale is created"), work)


@router.get("/console/flash-sales/{sale_id}")
def watch_sale(request: Request, sale_id: SaleId) -> Response:
    with _read(request) as (ctx, session):
        sale = flashsale.get_sale(session, sale_id)
        live = _live_panel(ctx, session, sale)
        rounds = flashsale.lottery_rounds(session, sale_id) if sale.mode == LOTTERY else []
        return _page(request, "sale.html", _("Flash sale {id}", id=sale.id), "sales", live=live, rounds=rounds,
                     modes=MODE_LABELS, statuses=SALE_STATUS_LABELS)


@router.post("/console/flash-sales/{sale_id}/end")
async def end_sale(request: Request, sale_id: SaleId) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, who: Principal, fields: dict[str, str]) -> None:
        flashsale.end_sale(session, ctx.clock, ctx.flash_gate, sale_id, who.user_id)

    return await _write(request, f"/console/flash-sales/{sale_id}", _("The flash sale is ended"), work,
                        changed=str(sale_id), topic=FLASH_SALE_CHANGED)  # every process stops selling it


# --- group buys -------------------------------------------------------------------------------------


@router.get("/console/group-offers")
def group_offers(request: Request) -> Response:
    with _read(request) as (ctx, session):
        return _page(request, "group_offers.html", _("Group buys"), "group-offers",
                     offers=groupbuys.list_offers(session))


@router.post("/console/group-offers")
async def create_group_offer(request: Request) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, who: Principal, fields: dict[str, str]) -> None:
        groupbuys.create_offer(
            session, ctx.clock, sku=_text(fields, "sku", 64), group_price_fen=yuan_field(fields, "price"),
            group_size=_whole(fields, "group_size", groupbuys.MIN_SIZE, groupbuys.MAX_SIZE),
            time_limit_seconds=60 * _whole(fields, "time_limit_minutes", groupbuys.MIN_TIME_LIMIT // 60,
                                           groupbuys.MAX_TIME_LIMIT // 60),
            actor_id=who.user_id)

    return await _write(request, "/console/group-offers", _("The group offer is created"), work,
                        changed="group_offer")  # product pages show the offers


# --- the money-market fund --------------------------------------------------------------------------

FUND = "/console/fund"
CALENDAR_DAYS_SHOWN = 366


@router.get("/console/fund")
def fund_page(request: Request) -> Response:
    with _read(request) as (ctx, session):
        today = calendar.local_date(ctx.clock.now(), ctx.settings.zone)
        totals = fund.totals(session)
        incomes = fund.recent_incomes(session)
        names = accounts.names_of(session, {e.entered_by for e in incomes if e.entered_by is not None})
        days = calendar.listed_days(session, today - timedelta(days=30), today + timedelta(days=CALENDAR_DAYS_SHOWN))
        history = fund.yields(session, today, 30)
        return _page(request, "fund.html", _("Money-market fund"), "fund", totals=totals, incomes=incomes,
                     names=names, rate=fund.format_rate, days=days, chart=yield_chart(history),
                     latest_yield=history[-1][1] if history else None, today=today,
                     yesterday=today - timedelta(days=1), tiers=tier_rules())


def _day(fields: dict[str, str], name: str) -> date:
    try:
        return date.fromisoformat(fields.get(name, "").strip()[:10])
    except ValueError:
        raise ValidationFailed(N_("{field} must be a date"), field=name) from None


@router.post("/console/fund/daily-income")
async def enter_daily_income(request: Request) -> Response:
    ctx = ctx_of(request)
    done: list[str] = []

    def work(session: Session, who: Principal, fields: dict[str, str]) -> None:
        entry = income.distribute(session, ctx.clock, ctx.settings.zone, day=_day(fields, "day"),
                                  rate_e4=fund.parse_rate(fields.get("income_per_10k", "").strip()[:12]),
                                  actor_id=who.user_id)
        done.append(_("The income of {day} is entered: {amount} to {holders} holders", day=entry.day.isoformat(),
                      amount=format_fen(entry.distributed_fen), holders=entry.holders))

    return await _write(request, FUND, lambda: done[0] if done else None, work)


@router.post("/console/fund/calendar")
async def set_calendar_day(request: Request) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, who: Principal, fields: dict[str, str]) -> None:
        trading = fields.get("trading", "")
        if trading not in ("open", "closed"):
            raise ValidationFailed(N_("Choose whether the day is open or closed for trading"))
        calendar.set_day(session, ctx.clock, day=_day(fields, "day"), trading=trading == "open",
                         note=_text(fields, "note", 100), actor_id=who.user_id)

    return await _write(request, FUND, _("The trading calendar is saved"), work)


@router.post("/console/fund/wallet-tier")
async def set_wallet_tier(request: Request) -> Response:
    ctx = ctx_of(request)
    done: list[str] = []

    def work(session: Session, who: Principal, fields: dict[str, str]) -> None:
        customer = _text(fields, "customer", 200)
        customer_id = int(customer) if customer.isdigit() and len(customer) < 19 else \
            accounts.user_id_by_email(session, customer)
        if customer_id is None:
            raise NotFound(N_("No such customer"))
        account = wallet.set_tier(session, ctx.clock, customer_id=customer_id,
                                  tier=_whole(fields, "tier", 1, 3), actor_id=who.user_id)
        done.append(_("The wallet of customer {id} is now {tier}", id=account.customer_id,
                      tier=_(TIER_NAMES[account.tier])))

    return await _write(request, FUND, lambda: done[0] if done else None, work)


# --- audit log ---------------------------------------------------------------------------------------


@router.get("/console/audit")
def audit(request: Request, action: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    with _read(request) as (ctx, session):
        entries = accounts.recent_audit(session, limit=200, action=action or None)
        names = accounts.names_of(session, {e.actor_id for e in entries if e.actor_id is not None})
        return _page(request, "audit.html", _("Audit log"), "audit", entries=entries, names=names,
                     action=action or "")
