"""The wallet and its money-market balance for a signed-in fan: the overview (balance, tier and what it
allows, the fund holding with yesterday's and total income, the seven-day yield and a chart of its last
30 days), top-up at the sandbox bank, withdrawal, subscription and redemption, and the statement with the
running balance. The rules are the services'; these routes only translate forms and answers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from fanbase.accounts.service import Principal
from fanbase.charts import trend_chart
from fanbase.fund import calendar
from fanbase.fund import service as fund
from fanbase.fund.models import INSTANT, STANDARD
from fanbase.i18n import N_
from fanbase.i18n import gettext as _
from fanbase.money import format_fen
from fanbase.pages import ctx_of, render, signed_in, write, yuan_field
from fanbase.pagination import page_request
from fanbase.wallet import service as wallet

router = APIRouter()
HOME = "/wallet"
STATEMENT_PAGE_SIZE = 20
YIELD_DAYS_SHOWN = 30

TIER_NAMES = {1: N_("Tier I"), 2: N_("Tier II"), 3: N_("Tier III")}
TIER_RULES = {1: (N_("Payments and withdrawals up to {cap} in all"), wallet.LIFETIME_CAP_FEN[1]),
              2: (N_("Payments and withdrawals up to {cap} a calendar year"), wallet.YEARLY_CAP_FEN[2]),
              3: (N_("Payments and withdrawals up to {cap} a calendar year, and the money-market fund"),
                  wallet.YEARLY_CAP_FEN[3])}
KIND_LABELS = {"top_up": N_("Top-up"), "wallet_payment": N_("Payment"), "withdrawal": N_("Withdrawal to bank card"),
               "fund_subscription": N_("Into the money-market fund"),
               "fund_redemption_instant": N_("Instant redemption"),
               "fund_redemption_credit": N_("Standard redemption credited"), "refund": N_("Refund"),
               "commission": N_("Share commission"), "commission_reversal": N_("Share commission reversed")}
REDEEM_MODES = {INSTANT: N_("Instant: in your wallet now ({left} left today)"),
                STANDARD: N_("Standard: in your wallet on the next trading day, no limit")}


def tier_rules() -> list[tuple[int, str, str]]:
    """(tier, name, what it allows) in the page's language."""
    return [(tier, _(TIER_NAMES[tier]), _(rule, cap=format_fen(cap))) for tier, (rule, cap) in TIER_RULES.items()]


@router.get("/wallet")
def overview(request: Request) -> Response:
    customer = signed_in(request)
    ctx = ctx_of(request)
    zone = ctx.settings.zone
    with ctx.db.read() as session:
        balance = wallet.balance(session, customer.user_id)
        tier = wallet.tier_of(session, customer.user_id)
        holding = fund.holding(session, ctx.clock, zone, customer.user_id)
        instant_left = fund.instant_left(session, ctx.clock, zone, customer.user_id)
        history = fund.yields(session, calendar.local_date(ctx.clock.now(), zone), YIELD_DAYS_SHOWN)
    return render(request, "wallet/wallet.html", title=_("My wallet"), balance=balance, tier=tier,
                  tier_name=_(TIER_NAMES[tier]), tiers=tier_rules(), fund_tier=wallet.FUND_TIER, holding=holding,
                  instant_left=instant_left, chart=yield_chart(history), modes=REDEEM_MODES)


def yield_chart(history: list[tuple[date, str]]) -> Markup | None:
    """The seven-day yield of each day, as an SVG line (None before seven days of income)."""
    if not history:
        return None
    return trend_chart([(day.strftime("%m-%d"), Decimal(value)) for day, value in history],
                       _("Seven-day annualised yield, last 30 days"), "%")


@router.get("/wallet/transactions")
def statement(request: Request, cursor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    customer = signed_in(request)
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        page = wallet.statement(session, customer.user_id, page_request(STATEMENT_PAGE_SIZE, cursor))
        balance = wallet.balance(session, customer.user_id)
    return render(request, "wallet/transactions.html", title=_("Wallet statement"), lines=page.items,
                  next_cursor=page.next_cursor, first_page=cursor is None, balance=balance, kinds=KIND_LABELS)


# --- forms ------------------------------------------------------------------------------------------


@router.post("/wallet/top-up")
async def top_up(request: Request) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> str:
        _top_up, payment = wallet.start_top_up(session, ctx.clock, ctx.gateway, customer_id=customer.user_id,
                                               amount_fen=yuan_field(fields, "amount", _("the amount")))
        return f"/sandbox-gateway/pay/{payment.id}"  # the bank sends the payer back to the wallet

    return await write(request, HOME, None, work)


@router.post("/wallet/withdraw")
async def withdraw(request: Request) -> Response:
    ctx = ctx_of(request)
    done: list[str] = []

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> None:
        out = wallet.withdraw(session, ctx.clock, ctx.gateway, ctx.settings.zone, customer_id=customer.user_id,
                              amount_fen=yuan_field(fields, "amount", _("the amount")))
        done.append(_("{amount} is on its way to your bank card", amount=format_fen(out.amount_fen)))

    return await write(request, HOME, lambda: done[0] if done else None, work)


@router.post("/wallet/subscribe")
async def subscribe(request: Request) -> Response:
    ctx = ctx_of(request)
    done: list[str] = []

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> None:
        out = fund.subscribe(session, ctx.clock, ctx.settings.zone, customer_id=customer.user_id,
                             amount_fen=yuan_field(fields, "amount", _("the amount")))
        done.append(_("{amount} is in the money-market fund; the units are confirmed and earn from {day}",
                      amount=format_fen(out.amount_fen), day=out.confirms_on.isoformat()))

    return await write(request, HOME, lambda: done[0] if done else None, work)


@router.post("/wallet/redeem")
async def redeem(request: Request) -> Response:
    ctx = ctx_of(request)
    done: list[str] = []

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> None:
        mode = fields.get("mode", INSTANT)
        out = fund.redeem(session, ctx.clock, ctx.settings.zone, customer_id=customer.user_id,
                          amount_fen=yuan_field(fields, "amount", _("the amount")),
                          mode=mode if mode in REDEEM_MODES else "")
        amount = format_fen(out.amount_fen)
        done.append(_("{amount} is in your wallet", amount=amount) if out.mode == INSTANT else
                    _("{amount} reaches your wallet on {day}", amount=amount, day=out.credits_on.isoformat()))

    return await write(request, HOME, lambda: done[0] if done else None, work)
