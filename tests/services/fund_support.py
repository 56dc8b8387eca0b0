"""The wallet and money-market services wired the way requests and jobs call them (each step in its own unit
of work), for the fund's service tests. Times are the store's (Asia/Shanghai)."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete

from fanbase import models
from fanbase.accounts import service as accounts
from fanbase.clock import FixedClock
from fanbase.db import Database
from fanbase.fund import calendar, income
from fanbase.fund import service as fund
from fanbase.fund.models import DailyIncome, Redemption, Subscription
from fanbase.ledger import service as ledger
from fanbase.wallet import service as wallet

ZONE = ZoneInfo("Asia/Shanghai")
_emails = itertools.count(1)


def at(text: str) -> datetime:
    """A store time such as ``"2026-11-27 14:59"`` (Asia/Shanghai)."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


def empty(db: Database) -> None:
    """Every table emptied (for hypothesis examples, which share one database)."""
    with db.uow() as s:
        for table in reversed(models.metadata.sorted_tables):
            s.execute(delete(table))


class Fund:
    def __init__(self, db: Database, clock: FixedClock) -> None:
        self.db, self.clock = db, clock
        with db.uow() as s:
            self.staff_id = accounts.create_staff(s, clock, email=f"fund-ops{next(_emails)}@example.com",
                                                  password="password-1", name="运营", role="admin").id

    def customer(self, *, tier: int = 3, wallet_fen: int = 0) -> int:
        with self.db.uow() as s:
            customer_id = accounts.register_customer(s, self.clock, email=f"holder{next(_emails)}@example.com",
                                                     password="password-1", name="粉丝").id
            wallet.set_tier(s, self.clock, customer_id=customer_id, tier=tier, actor_id=self.staff_id)
        if wallet_fen:
            self.top_up(customer_id, wallet_fen)
        return customer_id

    def top_up(self, customer_id: int, amount_fen: int) -> None:
        """Money into the wallet as a captured top-up would bring it (the gateway itself is tested elsewhere)."""
        account = ledger.customer_wallet(customer_id)
        with self.db.uow() as s:
            ledger.post(s, self.clock, key=f"test-top-up:{next(_emails)}", kind="top_up", memo="top-up",
                        postings=[(ledger.GATEWAY_CLEARING, amount_fen), (account, -amount_fen)],
                        owners={account.code: customer_id})

    def subscribe(self, customer_id: int, amount_fen: int) -> Subscription:
        with self.db.uow() as s:
            return fund.subscribe(s, self.clock, ZONE, customer_id=customer_id, amount_fen=amount_fen)

    def redeem(self, customer_id: int, amount_fen: int, mode: str) -> Redemption:
        with self.db.uow() as s:
            return fund.redeem(s, self.clock, ZONE, customer_id=customer_id, amount_fen=amount_fen, mode=mode)

    def pay_from_fund(self, customer_id: int, amount_fen: int, order_id: int) -> None:
        with self.db.uow() as s:
            fund.pay(s, self.clock, ZONE, customer_id=customer_id, amount_fen=amount_fen,
                     key=f"order:{order_id}:pay:fund", memo="order", reference=f"order:{order_id}",
                     order_id=order_id)

    def pay_from_wallet(self, customer_id: int, amount_fen: int, key: str) -> None:
        with self.db.uow() as s:
            wallet.pay(s, self.clock, ZONE, customer_id=customer_id, amount_fen=amount_fen, key=key, memo="order",
                       reference=key)

    def settle(self) -> int:
        with self.db.uow() as s:
            return fund.settle_due(s, self.clock, ZONE)

    def income(self, day: date, rate_e4: int) -> DailyIncome:
        with self.db.uow() as s:
            return income.distribute(s, self.clock, ZONE, day=day, rate_e4=rate_e4, actor_id=self.staff_id)

    def set_day(self, day: date, trading: bool) -> None:
        with self.db.uow() as s:
            calendar.set_day(s, self.clock, day=day, trading=trading, note="holiday" if not trading else "open",
                             actor_id=self.staff_id)

    def wallet_balance(self, customer_id: int) -> int:
        with self.db.read() as s:
            return wallet.balance(s, customer_id)

    def holding(self, customer_id: int) -> fund.Holding:
        with self.db.read() as s:
            return fund.holding(s, self.clock, ZONE, customer_id)

    def instant_left(self, customer_id: int) -> int:
        with self.db.read() as s:
            return fund.instant_left(s, self.clock, ZONE, customer_id)
