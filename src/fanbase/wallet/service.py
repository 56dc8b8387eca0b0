"""The wallet: money a customer keeps with the store (the ledger account ``wallet:<customer>``).

Top-ups arrive through the payment gateway, payments and withdrawals go out, refunds of orders paid from
a balance come back. Every movement out counts toward the tier's cap (KYC levels, like a payment
account's): tier 1 1,000 CNY over the account's life, tier 2 100,000 CNY a calendar year, tier 3 200,000
CNY a year, checked in the same UPDATE that adds to the total, so concurrent payments cannot pass it.
Only tier 3 may hold the money-market fund.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import cast

from sqlalchemy import BigInteger, Integer, Table, bindparam, case, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from fanbase.accounts.models import User
from fanbase.accounts.service import record_audit
from fanbase.clock import Clock
from fanbase.db import affected, insert_if_absent, set_loaded
from fanbase.errors import Conflict, NotFound, ValidationFailed
from fanbase.ledger import service as ledger
from fanbase.ledger.models import LedgerAccount, LedgerPosting, LedgerTransaction
from fanbase.pagination import Page, PageRequest, make_page
from fanbase.payments import service as payments
from fanbase.payments.gateway import PaymentGateway
from fanbase.payments.models import Payment
from fanbase.wallet.models import AWAITING_PAYMENT, CREDITED, FAILED, TopUp, WalletAccount, Withdrawal

TOP_UP = "top_up"  # the payments purpose of a top-up
TIERS = (1, 2, 3)
LIFETIME_CAP_FEN = {1: 100_000}  # tier -> cap on everything that ever went out
YEARLY_CAP_FEN = {2: 10_000_000, 3: 20_000_000}  # tier -> cap on what went out this calendar year
FUND_TIER = 3
MAX_TOP_UP_FEN = 5_000_000  # one top-up: 50,000 CNY


def account(session: Session, clock: Clock, customer_id: int) -> WalletAccount:
    """The customer's wallet rules, made at tier 1 on first use."""
    found = session.get(WalletAccount, customer_id)
    if found is None:
        insert_if_absent(session, WalletAccount, customer_id=customer_id, tier=1, lifetime_out_fen=0, year=0,
                         year_out_fen=0, updated_at=clock.now())
        found = session.get_one(WalletAccount, customer_id)
    return found


def tier_of(session: Session, customer_id: int) -> int:
    found = session.scalar(select(WalletAccount.tier).where(WalletAccount.customer_id == customer_id))
    return 1 if found is None else int(found)


def set_tier(session: Session, clock: Clock, *, customer_id: int, tier: int, actor_id: int) -> WalletAccount:
    """An operator records that the customer proved the tier's identity checks."""
    if tier not in TIERS:
        raise ValidationFailed("The tier must be 1, 2 or 3")
    customer = session.get(User, customer_id)
    if customer is None or customer.role is not None:
        raise NotFound("No such customer")
    wallet = account(session, clock, customer_id)
    before = wallet.tier
    session.execute(update(WalletAccount).where(WalletAccount.customer_id == customer_id)
                    .values(tier=tier, updated_at=clock.now()))
    session.refresh(wallet)
    record_audit(session, clock, actor_id=actor_id, action="wallet.tier", target=f"customer:{customer_id}",
                 detail={"from": before, "to": tier})
    return wallet


# Built once: the hot path of every payment (see ledger's statements).
_wallets = cast(Table, WalletAccount.__table__)
_out = bindparam("amount", type_=BigInteger)
_this_year = case((_wallets.c.year == bindparam("this_year", type_=Integer), _wallets.c.year_out_fen), else_=0)
_COUNT_OUTGOING = update(_wallets).where(
    _wallets.c.customer_id == bindparam("customer"),
    case((_wallets.c.tier == 1, _wallets.c.lifetime_out_fen + _out <= LIFETIME_CAP_FEN[1]),
         (_wallets.c.tier == 2, _this_year + _out <= YEARLY_CAP_FEN[2]),
         else_=_this_year + _out <= YEARLY_CAP_FEN[3])) \
    .values(lifetime_out_fen=_wallets.c.lifetime_out_fen + _out, year=bindparam("this_year", type_=Integer),
            year_out_fen=_this_year + _out, updated_at=bindparam("now", type_=_wallets.c.updated_at.type)) \
    .returning(_wallets.c.lifetime_out_fen, _wallets.c.year, _wallets.c.year_out_fen, _wallets.c.updated_at)


def count_outgoing(session: Session, clock: Clock, zone: tzinfo, customer_id: int, amount_fen: int) -> None:
    """Add ``amount_fen`` to the customer's outgoing totals, or raise Conflict ``limit_exceeded`` when that
    would pass the tier's cap (nothing is added then). A wallet never used before is made at tier 1 first."""
    now = clock.now()
    params = {"customer": customer_id, "amount": amount_fen, "this_year": now.astimezone(zone).year, "now": now}
    connection = session.connection()
    counted = connection.execute(_COUNT_OUTGOING, params).first()
    if counted is None and insert_if_absent(session, WalletAccount, customer_id=customer_id, tier=1,
                                            lifetime_out_fen=0, year=0, year_out_fen=0, updated_at=now):
        counted = connection.execute(_COUNT_OUTGOING, params).first()  # the wallet was new
    if counted is None:
        raise Conflict("This would take the wallet past its tier's limit on payments and withdrawals",
                       code="limit_exceeded")
    loaded = session.identity_map.get(identity_key(WalletAccount, customer_id))
    if loaded is not None:  # an ORM copy loaded in this session is told what the UPDATE wrote
        set_loaded(loaded, lifetime_out_fen=counted.lifetime_out_fen, year=counted.year,
                   year_out_fen=counted.year_out_fen, updated_at=counted.updated_at)


def balance(session: Session, customer_id: int) -> int:
    return ledger.balance_of(session, ledger.customer_wallet(customer_id))


def pay(session: Session, clock: Clock, zone: tzinfo, *, customer_id: int, amount_fen: int, key: str, memo: str,
        reference: str, credit: ledger.SystemAccount = ledger.SALES_REVENUE) -> None:
    """Pay ``amount_fen`` from the wallet to ``credit``, once per ``key``. InsufficientFunds when the balance
    is short, Conflict ``limit_exceeded`` past the tier's cap; the caller's transaction then rolls back."""
    if ledger.transaction_id(session, key) is not None:
        return
    _positive(amount_fen)
    wallet = ledger.customer_wallet(customer_id)
    ledger.post_new(session, clock, key=key, kind="wallet_payment", memo=memo, reference=reference,
                    postings=[(wallet, amount_fen), (credit, -amount_fen)], owners={wallet.code: customer_id})
    count_outgoing(session, clock, zone, customer_id, amount_fen)  # after the balance: short money is said first


def _positive(amount_fen: int) -> None:
    if amount_fen <= 0:
        raise ValidationFailed("The amount must be more than zero")


# --- top-ups through the gateway --------------------------------------------------------------------


def start_top_up(session: Session, clock: Clock, gateway: PaymentGateway, *, customer_id: int,
                 amount_fen: int) -> tuple[TopUp, Payment]:
    """A gateway payment the customer completes at the bank; the wallet is credited when the bank confirms."""
    if not 0 < amount_fen <= MAX_TOP_UP_FEN:
        raise ValidationFailed("A top-up is between 0.01 and 50,000.00 CNY")
    account(session, clock, customer_id)
    top_up = TopUp(customer_id=customer_id, amount_fen=amount_fen, status=AWAITING_PAYMENT, created_at=clock.now())
    session.add(top_up)
    session.flush()
    payment = payments.start_gateway_payment(session, clock, gateway, purpose=TOP_UP, reference_id=top_up.id,
                                             customer_id=customer_id, amount_fen=amount_fen,
                                             replaces_pending=False)
    return top_up, payment


def _on_top_up_captured(session: Session, clock: Clock, payment: Payment) -> bool:
    moved = affected(session.execute(update(TopUp).where(TopUp.id == payment.reference_id,
                                                         TopUp.status == AWAITING_PAYMENT,
                                                         TopUp.amount_fen == payment.amount_fen)
                                     .values(status=CREDITED, credited_at=clock.now())))
    if not moved:
        return False
    wallet = ledger.customer_wallet(payment.customer_id)
    ledger.post(session, clock, key=f"payment:{payment.id}:capture", kind="top_up", memo="top-up",
                reference=payment.id, postings=payments.capture_postings(payment, wallet),
                owners={wallet.code: payment.customer_id})
    return True


def _on_top_up_declined(session: Session, clock: Clock, payment: Payment) -> None:
    session.execute(update(TopUp).where(TopUp.id == payment.reference_id, TopUp.status == AWAITING_PAYMENT)
                    .values(status=FAILED))


def _lock_top_up(session: Session, payment: Payment) -> None:
    session.execute(select(TopUp.id).where(TopUp.id == payment.reference_id).with_for_update(key_share=True))


payments.register_purpose(TOP_UP, payments.PurposeHandler(on_captured=_on_top_up_captured,
                                                          on_declined=_on_top_up_declined, lock=_lock_top_up))


# --- withdrawals ------------------------------------------------------------------------------------


def withdraw(session: Session, clock: Clock, gateway: PaymentGateway, zone: tzinfo, *, customer_id: int,
             amount_fen: int) -> Withdrawal:
    """Send money from the wallet to the customer's bank card through the gateway."""
    _positive(amount_fen)
    withdrawal = Withdrawal(customer_id=customer_id, amount_fen=amount_fen, payout_id="", created_at=clock.now())
    session.add(withdrawal)
    session.flush()
    wallet = ledger.customer_wallet(customer_id)
    # the ledger first: a short balance refuses the withdrawal before the bank is asked
    ledger.post(session, clock, key=f"withdrawal:{withdrawal.id}", kind="withdrawal", memo="withdrawal to bank card",
                reference=f"withdrawal:{withdrawal.id}",
                postings=[(wallet, amount_fen), (ledger.GATEWAY_CLEARING, -amount_fen)],
                owners={wallet.code: customer_id})
    count_outgoing(session, clock, zone, customer_id, amount_fen)
    withdrawal.payout_id = gateway.payout(session, clock, amount_fen=amount_fen,
                                          reference=f"withdrawal:{withdrawal.id}")
    return withdrawal


# --- the statement ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    id: int  # the posting's id
    kind: str
    amount_fen: int  # > 0 into the wallet, < 0 out of it
    balance_after_fen: int
    created_at: datetime
    memo: str


def statement(session: Session, customer_id: int, page: PageRequest) -> Page[StatementLine]:
    """The wallet's movements, newest first, with the balance after each (the cursor walks back in time)."""
    query = (select(LedgerPosting.id, LedgerTransaction.kind, LedgerPosting.amount, LedgerPosting.balance_after,
                    LedgerTransaction.created_at, LedgerTransaction.memo)
             .join(LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id)
             .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
             .where(LedgerAccount.code == ledger.customer_wallet(customer_id).code)
             .order_by(LedgerPosting.id.desc()).limit(page.limit + 1))
    if page.after_id is not None:
        query = query.where(LedgerPosting.id < page.after_id)
    # a wallet is a liability: money in is a credit (a negative amount in the ledger's signs)
    lines = [StatementLine(id=row.id, kind=row.kind, amount_fen=-row.amount, balance_after_fen=-row.balance_after,
                           created_at=row.created_at, memo=row.memo) for row in session.execute(query)]
    return make_page(lines, page)


def expected_ledger_keys(session: Session) -> list[str]:
    """Every withdrawal must have its transaction (top-ups are gateway payments: payments checks those)."""
    return [f"withdrawal:{withdrawal_id}" for withdrawal_id in session.scalars(select(Withdrawal.id)
                                                                              .order_by(Withdrawal.id))]
