"""``fanbase ledger check`` over the wallet and the fund (issue 6): after top-ups, subscriptions, confirmations,
daily income, instant and standard redemptions and their credit, payments from the wallet and the fund and a
withdrawal it finds nothing; with any one transaction of those kinds taken away (the whole transaction, or
only its postings) it names what is missing."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import delete, select

from fanbase.cart import service as cart_service
from fanbase.clock import FixedClock
from fanbase.db import Database
from fanbase.fund.models import INSTANT, STANDARD
from fanbase.ledger.check import problems
from fanbase.ledger.models import LedgerAccount, LedgerPosting, LedgerTransaction
from fanbase.orders import service as orders
from fanbase.orders.models import PAID
from fanbase.payments import service as payments
from fanbase.payments.gateway import SandboxGateway
from fanbase.wallet import service as wallet
from tests.helpers import ADDRESS
from tests.services.fund_support import ZONE, Fund, at

POLICY = orders.OrderPolicy(zone=ZONE)

# transaction kind -> what the report says when that transaction is missing
MISSING = {
    "top_up": r"missing ledger transaction payment:\w+:capture",
    "fund_subscription": r"missing ledger transaction fund:subscription:\d+",
    "fund_confirmation": r"missing ledger transaction fund:subscription:\d+:confirm",
    "fund_income": r"missing ledger transaction fund:income:2026-11-26",
    "fund_redemption_instant": r"missing ledger transaction fund:redemption:\d+",
    "fund_redemption_standard": r"missing ledger transaction fund:redemption:\d+",
    "fund_redemption_credit": r"missing ledger transaction fund:redemption:\d+:credit",
    "fund_payment": r"missing ledger transaction order:\d+:pay:fund",
    "wallet_payment": r"paid order:\d+ has no ledger transaction",
    "withdrawal": r"missing ledger transaction withdrawal:\d+",
}


def checkout(db: Database, clock: FixedClock, gateway: SandboxGateway, customer_id: int, method: str) -> int:
    with db.uow() as s:
        cart_service.set_quantity(s, clock, customer_id, "BAND9", 2)
        order = orders.checkout(s, clock, gateway, POLICY, customer_id=customer_id, payment_method=method,
                                shipping_address=ADDRESS)
        assert order.status == PAID
        return order.id


def scenario(db: Database, clock: FixedClock, gateway: SandboxGateway) -> None:
    """Every kind of money movement the wallet and the fund make, each at least once."""
    fund = Fund(db, clock)
    clock.set(at("2026-11-25 10:00"))  # Wednesday
    customer_id = fund.customer(tier=3)
    with db.uow() as s:  # a top-up through the sandbox bank
        _, payment = wallet.start_top_up(s, clock, gateway, customer_id=customer_id, amount_fen=5_000_000)
        body, headers = gateway.signed_delivery(gateway.decide(s, clock, payment.id, approve=True))
    with db.uow() as s:
        payments.handle_webhook(s, clock, gateway, body, {k.lower(): v for k, v in headers.items()})
    assert fund.wallet_balance(customer_id) == 5_000_000
    fund.subscribe(customer_id, 3_000_000)  # confirmed Thursday
    clock.set(at("2026-11-26 00:30"))
    assert fund.settle() == 1
    clock.set(at("2026-11-27 09:00"))  # Friday
    assert fund.income(date(2026, 11, 26), 6_012).distributed_fen == 180  # 30,000 CNY x 0.6012 / 10,000
    fund.subscribe(customer_id, 100_000)  # still pending at the end: its confirmation is not expected yet
    fund.redeem(customer_id, 200_000, INSTANT)
    fund.redeem(customer_id, 300_000, STANDARD)  # credited Monday
    checkout(db, clock, gateway, customer_id, "fund")
    checkout(db, clock, gateway, customer_id, "wallet")
    with db.uow() as s:
        wallet.withdraw(s, clock, gateway, ZONE, customer_id=customer_id, amount_fen=50_000)
    clock.set(at("2026-11-30 00:00"))
    assert fund.settle() == 2  # the standard redemption and Friday's subscription
    fund.subscribe(customer_id, 100_000)  # pending: confirmed Tuesday


class RolledBack(Exception):
    """Raised to undo a tampering once it has been looked at."""


def report_without(db: Database, kind: str, whole: bool) -> tuple[list[str], list[str]]:
    """The check's report with the first transaction of ``kind`` gone (or only its postings), and the codes
    of the accounts it moved; the database is left as it was."""
    try:
        with db.uow() as s:
            txn = s.scalars(select(LedgerTransaction).where(LedgerTransaction.kind == kind)
                            .order_by(LedgerTransaction.id)).first()
            assert txn is not None, f"the scenario made no {kind} transaction"
            codes = list(s.scalars(select(LedgerAccount.code).join(LedgerPosting)
                                   .where(LedgerPosting.transaction_id == txn.id)))
            s.execute(delete(LedgerPosting).where(LedgerPosting.transaction_id == txn.id))
            if whole:
                s.execute(delete(LedgerTransaction).where(LedgerTransaction.id == txn.id))
            found = problems(s)
            raise RolledBack
    except RolledBack:
        return found, codes


def test_ledger_check_passes_after_fund_operations_and_names_what_is_missing(
        db: Database, clock: FixedClock, gateway: SandboxGateway, shop: None) -> None:
    scenario(db, clock, gateway)
    with db.read() as s:
        assert problems(s) == []
        kinds = set(s.scalars(select(LedgerTransaction.kind)))
    assert set(MISSING) <= kinds

    for kind, missing in MISSING.items():
        found, codes = report_without(db, kind, whole=True)
        assert any(re.fullmatch(missing, line) for line in found), (kind, found)
        # the accounts it moved no longer agree with their postings, and the report says which
        for code in codes:
            assert any(line.startswith(f"account {code}: balance ") for line in found), (kind, code, found)

        found, codes = report_without(db, kind, whole=False)  # the transaction is there, its postings not
        assert codes and not any(re.fullmatch(missing, line) for line in found), (kind, found)
        for code in codes:
            assert any(line.startswith(f"account {code}: balance ") for line in found), (kind, code, found)

    with db.read() as s:  # every tampering was undone
        assert problems(s) == []


@pytest.mark.parametrize("kind", ["fund_subscription", "fund_redemption_credit", "fund_income"])
def test_a_deleted_fund_transaction_is_found_by_its_key(db: Database, clock: FixedClock,
                                                        gateway: SandboxGateway, shop: None, kind: str) -> None:
    """The exact line, for the fund's own keys."""
    scenario(db, clock, gateway)
    with db.read() as s:
        key = s.scalars(select(LedgerTransaction.idempotency_key).where(LedgerTransaction.kind == kind)
                        .order_by(LedgerTransaction.id)).first()
    assert key == {"fund_subscription": "fund:subscription:1", "fund_redemption_credit": "fund:redemption:2:credit",
                   "fund_income": "fund:income:2026-11-26"}[kind]
    found, _ = report_without(db, kind, whole=True)
    assert f"missing ledger transaction {key}" in found
