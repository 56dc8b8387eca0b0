"""Membership rules over the services with a frozen clock: growth and points from completed orders, levels
raised at once and reviewed on 1 January (store's zone), points spent first-to-expire-first, returned when
an order closes, expired at the end of the next calendar year with the ledger following every move; and a
review without a purchase refused with nothing written."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from fanbase.accounts import service as accounts
from fanbase.clock import FixedClock
from fanbase.db import Database
from fanbase.errors import Forbidden, InsufficientFunds
from fanbase.ledger import service as ledger
from fanbase.membership import service as membership
from fanbase.membership.models import PointsMove
from fanbase.orders import service as orders
from fanbase.payments.gateway import SandboxGateway
from fanbase.social.reviews import service as reviews
from fanbase.wallet import service as wallet_service
from tests.helpers import ADDRESS, table_counts

SHANGHAI = ZoneInfo("Asia/Shanghai")
_emails = itertools.count(1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class Members:
    def __init__(self, db: Database, clock: FixedClock, gateway: SandboxGateway, policy: orders.OrderPolicy) -> None:
        self.db, self.clock, self.gateway, self.policy = db, clock, gateway, policy
        with db.uow() as s:
            self.staff_id = accounts.create_staff(s, clock, email=f"ops{next(_emails)}@example.com",
                                                  password="password-1", name="运营", role="admin").id

    def customer(self) -> int:
        with self.db.uow() as s:
            customer_id = accounts.register_customer(s, self.clock, email=f"member{next(_emails)}@example.com",
                                                     password="password-1", name="会员").id
            wallet = ledger.customer_wallet(customer_id)
            ledger.post(s, self.clock, key=f"top-up:{customer_id}", kind="top_up", memo="",
                        postings=[(ledger.GATEWAY_CLEARING, 15_000_000), (wallet, -15_000_000)],
                        owners={wallet.code: customer_id})
            wallet_service.set_tier(s, self.clock, customer_id=customer_id, tier=3, actor_id=self.staff_id)
        return customer_id

    def order(self, customer_id: int, fen: int, points: int = 0) -> int:
        """A wallet-paid order of one band at ``fen`` (points spent first)."""
        with self.db.uow() as s:
            return orders.create_order(s, self.clock, self.gateway, self.policy, customer_id=customer_id,
                                       lines=[orders.Line("BAND9", 1, fen, "手环")], payment_method="wallet",
                                       shipping_address=ADDRESS, points=points).id

    def complete(self, order_id: int) -> None:
        """Shipped and delivered now, completed after the return window; the clock ends 8 days later."""
        with self.db.uow() as s:
            orders.ship(s, self.clock, order_id=order_id, actor_id=self.staff_id)
            orders.deliver(s, self.clock, order_id=order_id, actor_id=self.staff_id)
        self.clock.advance(timedelta(days=8).total_seconds())
        with self.db.uow() as s:
            assert orders.complete_delivered(s, self.clock, self.policy) == 1

    def state(self, customer_id: int) -> membership.Membership:
        with self.db.read() as s:
            return membership.membership(s, self.clock, SHANGHAI, customer_id)

    def job(self, name: str) -> int:
        with self.db.uow() as s:
            if name == "review":
                return membership.review_levels(s, self.clock, SHANGHAI)
            return membership.expire_points(s, self.clock, SHANGHAI)

    def liability(self) -> int:
        with self.db.read() as s:
            return ledger.balance_of(s, ledger.POINTS_LIABILITY)


@pytest.fixture
def members(shop, db, clock, gateway, policy) -> Members:  # type: ignore[no-untyped-def]
    membership.configure(SHANGHAI)
    return Members(db, clock, gateway, policy)


def test_completed_orders_earn_points_and_growth_and_raise_the_level_at_once(members: Members,
                                                                            clock: FixedClock) -> None:
    clock.set(at("2026-03-01T10:00:00"))
    fan = members.customer()
    members.complete(members.order(fan, 999))  # 9.99 CNY: 9 points, no growth
    assert members.state(fan) == membership.Membership(
        level="bronze", growth=0, points=9, points_expiring=[membership.Expiring(9, datetime(2027, 12, 31).date())],
        next_level="silver", growth_to_next=2000)
    members.complete(members.order(fan, 250_050))  # 2,500.50 CNY
    state = members.state(fan)
    assert (state.level, state.growth, state.points) == ("silver", 2500, 2509)
    assert (state.next_level, state.growth_to_next) == ("gold", 7500)
    assert members.liability() == 2509
    with members.db.uow() as s:  # each grant counts once per key
        assert membership.add_growth(s, clock, fan, 5000, "campaign", "campaign:spring")
        assert membership.add_growth(s, clock, fan, membership.IDEA_GROWTH, "idea", "idea:1")
        assert not membership.add_growth(s, clock, fan, membership.IDEA_GROWTH, "idea", "idea:1")
    assert members.state(fan).growth == 2500 + 5000 + 100


def test_levels_are_reviewed_on_the_first_of_january_in_the_store_zone(members: Members,
                                                                       clock: FixedClock) -> None:
    clock.set(at("2026-05-01T10:00:00"))
    fan = members.customer()
    members.complete(members.order(fan, 1_200_000))  # 12,000 growth: gold
    assert members.state(fan).level == "gold"
    clock.set(at("2026-12-31T23:59:00"))
    assert members.job("review") == 0 and members.state(fan).level == "gold"
    clock.set(at("2027-01-01T00:00:30"))  # 2026-12-31 16:00:30 UTC: already the new year in Shanghai
    assert members.state(fan).level == "gold" and members.state(fan).growth == 0  # what the review will say
    assert members.job("review") == 1
    assert members.job("review") == 0  # once a year
    assert members.state(fan).level == "gold"
    # 2027: 2,100 growth (silver); the year's level stays gold
    members.complete(members.order(fan, 210_000))
    assert (members.state(fan).level, members.state(fan).growth) == ("gold", 2100)
    clock.set(at("2028-01-01T08:00:00"))
    assert members.state(fan).level == "silver"  # before the job runs, the page already says so
    assert members.job("review") == 1
    assert members.state(fan).level == "silver"
    clock.set(at("2029-01-02T08:00:00"))
    assert members.job("review") == 1 and members.state(fan).level == "bronze"


def test_points_are_spent_first_to_expire_first_and_expire_after_next_year(members: Members,
                                                                           clock: FixedClock) -> None:
    clock.set(at("2026-06-01T10:00:00"))
    fan = members.customer()
    members.complete(members.order(fan, 100_000))  # 1,000 points of 2026
    clock.set(at("2027-02-01T10:00:00"))
    members.complete(members.order(fan, 50_000))  # 500 points of 2027
    assert [(x.points, x.expires_on.isoformat()) for x in members.state(fan).points_expiring] == [
        (1000, "2027-12-31"), (500, "2028-12-31")]
    spent = members.order(fan, 30_000, points=1200)  # 1,000 of 2026, then 200 of 2027
    with members.db.read() as s:
        order = orders.get_order(s, spent)
        assert (order.total_fen, order.points_discount_fen, order.status) == (28_800, 1200, "paid")
        moves = [(m.kind, m.delta) for m in s.scalars(select(PointsMove).where(PointsMove.order_id == spent)
                                                     .order_by(PointsMove.id))]
    assert moves == [("redeem", -1000), ("redeem", -200)]
    assert [(x.points, x.expires_on.isoformat()) for x in members.state(fan).points_expiring] == [
        (300, "2028-12-31")]
    with members.db.uow() as s:  # cancelled while paid: refunded, and the points go back where they came from
        orders.cancel(s, clock, members.gateway, order_id=spent, customer_id=fan)
    assert [(x.points, x.expires_on.isoformat()) for x in members.state(fan).points_expiring] == [
        (1000, "2027-12-31"), (500, "2028-12-31")]
    assert members.liability() == 1500

    clock.set(at("2027-12-31T23:59:59"))
    assert members.job("expire") == 0 and members.state(fan).points == 1500
    clock.set(at("2028-01-01T00:00:01"))
    assert members.state(fan).points == 500  # no longer spendable, swept or not
    with members.db.uow() as s, pytest.raises(InsufficientFunds):
        orders.create_order(s, clock, members.gateway, members.policy, customer_id=fan,
                            lines=[orders.Line("BAND9", 1, 90_000, "手环")], payment_method="wallet",
                            shipping_address=ADDRESS, points=600)
    assert members.job("expire") == 1
    assert members.job("expire") == 0
    assert members.liability() == 500
    with members.db.read() as s:
        assert ledger.balance_of(s, membership.POINTS_BREAKAGE) == 1000
        assert ledger.balance_of(s, membership.POINTS_EXPENSE) == 1500


def test_points_pay_at_most_the_total_and_an_unpaid_order_gives_them_back(members: Members,
                                                                          clock: FixedClock) -> None:
    clock.set(at("2026-06-01T10:00:00"))
    fan = members.customer()
    members.complete(members.order(fan, 100_000))  # 1,000 points
    with members.db.uow() as s:
        order = orders.create_order(s, clock, members.gateway, members.policy, customer_id=fan,
                                    lines=[orders.Line("BAND9", 1, 600, "手环")], payment_method="gateway",
                                    shipping_address=ADDRESS, points=5000)
        assert (order.total_fen, order.points_discount_fen, order.status) == (0, 600, "paid")
        free = order.id
        unpaid = orders.create_order(s, clock, members.gateway, members.policy, customer_id=fan,
                                     lines=[orders.Line("BAND9", 1, 10_000, "手环")], payment_method="gateway",
                                     shipping_address=ADDRESS, points=300).id
    assert members.state(fan).points == 100
    clock.advance(3600)
    with members.db.uow() as s:
        assert orders.expire_unpaid(s, clock, members.gateway) == 1
    assert members.state(fan).points == 400
    with members.db.uow() as s:
        orders.refund(s, clock, members.gateway, order_id=free, actor_id=members.staff_id)
    assert members.state(fan).points == 1000 and members.liability() == 1000
    with members.db.read() as s:
        assert orders.get_order(s, unpaid).status == "cancelled"
        # the refunded order's points count as refunded (contra revenue); the expired one's never were revenue
        assert ledger.balance_of(s, ledger.SALES_REVENUE) == 100_600 and ledger.balance_of(s, ledger.REFUNDS) == 600


def test_a_completed_order_refunded_later_takes_back_its_points_and_growth(members: Members,
                                                                           clock: FixedClock) -> None:
    clock.set(at("2026-06-01T10:00:00"))
    fan = members.customer()
    first = members.order(fan, 300_000)
    members.complete(first)
    spent = members.order(fan, 200_000, points=2500)
    assert members.state(fan).points == 500
    with members.db.uow() as s:  # the lifecycle has no refund after completion yet: the rule, called directly
        membership.on_refunded(s, clock, orders.get_order(s, first))
        membership.on_refunded(s, clock, orders.get_order(s, first))  # once
    state = members.state(fan)
    assert (state.points, state.growth, state.level) == (0, 0, "silver")  # a level reached stays for the year
    assert members.liability() == 0
    with members.db.read() as s:
        assert orders.get_order(s, spent).points_discount_fen == 2500


def test_a_review_without_a_purchase_is_refused_and_writes_nothing(members: Members, clock: FixedClock,
                                                                   db: Database) -> None:
    fan = members.customer()
    buyer = members.customer()
    bought = members.order(buyer, 24_900)
    before = table_counts(db)
    for order_id in (bought, 12345):
        with db.uow() as s, pytest.raises(Forbidden):
            reviews.write_review(s, clock, customer_id=fan, slug="mi-band-9", order_id=order_id, sku="BAND9",
                                 rating=5, text="刷好评")
    with db.uow() as s, pytest.raises(Forbidden):  # bought but not received yet
        reviews.write_review(s, clock, customer_id=buyer, slug="mi-band-9", order_id=bought, sku="BAND9",
                             rating=5, text="还没到")
    assert table_counts(db) == before
    with db.uow() as s:
        orders.ship(s, clock, order_id=bought, actor_id=members.staff_id)
        orders.deliver(s, clock, order_id=bought, actor_id=members.staff_id)
    with db.uow() as s:
        reviews.write_review(s, clock, customer_id=buyer, slug="mi-band-9", order_id=bought, sku="BAND9",
                             rating=5, text="好")
    assert members.state(buyer).growth == membership.REVIEW_GROWTH
