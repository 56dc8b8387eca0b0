"""Double-entry ledger: every movement of money is a balanced, idempotent transaction.

Postings never change; a mistake is undone by a correcting transaction. Balances are updated with
conditional UPDATEs in the caller's database transaction, so an account that may not go negative
is checked atomically with the movement (no check-then-act).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Connection,
    Subquery,
    Table,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from fanbase.clock import Clock
from fanbase.db import insert_if_absent, set_loaded
from fanbase.errors import InsufficientFunds
from fanbase.ledger.models import CREDIT, DEBIT, LedgerAccount, LedgerPosting, LedgerTransaction


@dataclass(frozen=True)
class SystemAccount:
    code: str
    name: str
    kind: str
    normal: str
    allow_negative: bool = True


# The platform's own accounts (DESIGN.md "Finance"); created on first use.
GATEWAY_CLEARING = SystemAccount("system:gateway_clearing", "Gateway clearing", "asset", DEBIT)
SALES_REVENUE = SystemAccount("system:sales_revenue", "Sales revenue", "revenue", CREDIT)
REFUNDS = SystemAccount("system:refunds", "Refunds (contra revenue)", "contra_revenue", DEBIT)
FUND_POOL = SystemAccount("system:fund_pool", "Money-market fund pool", "asset", DEBIT)
FUND_INCOME = SystemAccount("system:fund_income", "Fund income", "revenue", CREDIT)
CREDIT_RECEIVABLE = SystemAccount("system:credit_receivable", "Credit receivable", "asset", DEBIT)
FEE_INCOME = SystemAccount("system:fee_income", "Fee income", "revenue", CREDIT)
POINTS_LIABILITY = SystemAccount("system:points_liability", "Points liability", "liability", CREDIT)
# money the gateway captured for something that could no longer be sold (e.g. an expired order)
UNAPPLIED_PAYMENTS = SystemAccount("system:unapplied_payments", "Unapplied payments", "liability", CREDIT)


def customer_wallet(customer_id: int) -> SystemAccount:
    """A customer's wallet is money the platform owes them: a liability that may not go negative."""
    return SystemAccount(f"wallet:{customer_id}", f"Wallet of customer {customer_id}", "customer_wallet",
                         CREDIT, allow_negative=False)


def customer_fund(customer_id: int) -> SystemAccount:
    """Confirmed money-market units (1 fen a unit-cent at NAV 1.00), owed to the customer."""
    return SystemAccount(f"fund:{customer_id}", f"Fund balance of customer {customer_id}", "customer_fund",
                         CREDIT, allow_negative=False)


def customer_fund_pending(customer_id: int) -> SystemAccount:
    """Subscriptions paid from the wallet and not yet confirmed (T+1)."""
    return SystemAccount(f"fund_pending:{customer_id}", f"Fund subscriptions of customer {customer_id}",
                         "customer_fund_pending", CREDIT, allow_negative=False)


def customer_fund_redeeming(customer_id: int) -> SystemAccount:
    """Standard redemptions on their way to the wallet (credited on the next trading day)."""
    return SystemAccount(f"fund_redeeming:{customer_id}", f"Fund redemptions of customer {customer_id}",
                         "customer_fund_redeeming", CREDIT, allow_negative=False)


# The hot path's statements (every wallet payment), built once: building and cache-keying an ORM expression
# costs several times more than SQLite takes to run it. Core statements on the tables, run in the caller's
# session's transaction.
_accounts_table = cast(Table, LedgerAccount.__table__)
_transactions_table = cast(Table, LedgerTransaction.__table__)
_postings_table = cast(Table, LedgerPosting.__table__)
_IDS_OF = select(_accounts_table.c.code, _accounts_table.c.id) \
    .where(_accounts_table.c.code.in_(bindparam("codes", expanding=True)))
_TRANSACTION_OF = select(_transactions_table.c.id).where(_transactions_table.c.idempotency_key == bindparam("key"))
_NEW_TRANSACTION = insert(_transactions_table).returning(_transactions_table.c.id)
_NEW_POSTINGS = insert(_postings_table)
_ID_OF = select(_accounts_table.c.id).where(_accounts_table.c.code == bindparam("account_code"))
_amount = bindparam("amount", type_=BigInteger)
# One conditional UPDATE moves an account's balance: an account that may not go negative keeps its
# normal-side balance >= 0 after the movement, or no row is updated.
_MOVE = update(_accounts_table).where(
    _accounts_table.c.code == bindparam("account_code"),
    or_(_accounts_table.c.allow_negative,
        case((_accounts_table.c.normal == DEBIT, _accounts_table.c.balance + _amount >= 0),
             else_=_accounts_table.c.balance + _amount <= 0))) \
    .values(balance=_accounts_table.c.balance + _amount) \
    .returning(_accounts_table.c.id, _accounts_table.c.balance)


def _create(session: Session, spec: SystemAccount, owner_id: int | None) -> None:
    """Create an account never used before; a no-op if a concurrent transaction just did."""
    insert_if_absent(session, LedgerAccount, code=spec.code, name=spec.name, kind=spec.kind, owner_id=owner_id,
                     normal=spec.normal, allow_negative=spec.allow_negative, currency="CNY", balance=0)


def ensure_accounts(session: Session, specs: Sequence[SystemAccount], owner_id: int | None = None) -> dict[str, int]:
    """The ids of these accounts in one query, creating those never used before (e.g. a holder's fund
    account, which the day's income is posted to in bulk)."""
    found = dict(session.execute(_IDS_OF, {"codes": [spec.code for spec in specs]}).tuples().all())
    missing = [spec for spec in specs if spec.code not in found]
    for spec in missing:
        _create(session, spec, owner_id)  # created now, or a moment ago by a concurrent transaction
    if missing:
        found.update(session.execute(_IDS_OF, {"codes": [spec.code for spec in missing]}).tuples().all())
    return {code: int(id_) for code, id_ in found.items()}


def transaction_id(session: Session, key: str) -> int | None:
    """The id of the transaction recorded under ``key``, if any (without loading it)."""
    session.flush()  # rows pending in the session first, as the ORM query this replaces would
    found = session.connection().execute(_TRANSACTION_OF, {"key": key}).scalar()
    return None if found is None else int(found)


def _lock_order(move: tuple[SystemAccount, int]) -> tuple[bool, str]:
    """The platform's accounts first, then the customers' by code. Every fund movement takes the fund pool
    before any holder's account, as the day's income does (it credits every holder in one statement)."""
    return (not move[0].code.startswith("system:"), move[0].code)


def normal_balance(acc: LedgerAccount) -> int:
    """The balance as its owner reads it (positive on the account's normal side)."""
    return acc.balance if acc.normal == DEBIT else -acc.balance


def _check(postings: Sequence[tuple[SystemAccount, int]]) -> None:
    # types first: floats that happen not to add up to 0 (0.1 + 0.2 - 0.3) are still floats
    if any(not isinstance(amount, int) or isinstance(amount, bool) for _, amount in postings):
        raise TypeError("amounts are int fen")
    if sum(amount for _, amount in postings) != 0:
        raise ValueError("unbalanced transaction")


def post(session: Session, clock: Clock, *, key: str, kind: str, memo: str,
         postings: Sequence[tuple[SystemAccount, int]], reference: str | None = None,
         owners: dict[str, int] | None = None) -> LedgerTransaction:
    """Record one balanced transaction. Replaying ``key`` returns the first transaction unchanged.

    ``postings`` are (account, amount) with amount > 0 a debit and < 0 a credit; they must sum to 0.
    Raises InsufficientFunds when an account that may not go negative would.
    """
    _check(postings)
    existing = transaction_id(session, key)
    if existing is not None:
        return session.get_one(LedgerTransaction, existing)
    created_at = clock.now()
    txn_id = _record(session, key=key, kind=kind, memo=memo, reference=reference, created_at=created_at,
                     postings=postings, owners=owners)
    # the new row as an ORM object, without reading it back
    txn = LedgerTransaction(id=txn_id, idempotency_key=key, kind=kind, memo=memo[:200], reference=reference,
                            created_at=created_at)
    make_transient_to_detached(txn)
    session.add(txn)
    return txn


def post_new(session: Session, clock: Clock, *, key: str, kind: str, memo: str,
             postings: Sequence[tuple[SystemAccount, int]], reference: str | None = None,
             owners: dict[str, int] | None = None) -> int:
    """:func:`post` for a ``key`` the caller has just seen unused in this transaction (a hot path that checks
    it first anyway): one query fewer, and the new transaction's id instead of an ORM object. A key used
    meanwhile fails on the unique index instead of replaying."""
    _check(postings)
    return _record(session, key=key, kind=kind, memo=memo, reference=reference, created_at=clock.now(),
                   postings=postings, owners=owners)


def _record(session: Session, *, key: str, kind: str, memo: str, reference: str | None, created_at: datetime,
            postings: Sequence[tuple[SystemAccount, int]], owners: dict[str, int] | None) -> int:
    session.flush()
    connection = session.connection()  # the session's own transaction, without its per-statement dispatch
    txn_id = int(connection.execute(_NEW_TRANSACTION, {"idempotency_key": key, "kind": kind, "memo": memo[:200],
                                                       "reference": reference, "created_at": created_at}).scalar_one())
    moves = sorted(((spec, amount) for spec, amount in postings if amount != 0), key=_lock_order)
    rows = []
    # lock accounts in a fixed order so that concurrent transactions cannot deadlock
    for spec, amount in moves:
        account_id, balance_after = _apply(session, spec, amount, (owners or {}).get(spec.code), connection)
        rows.append({"transaction_id": txn_id, "account_id": account_id, "amount": amount,
                     "balance_after": balance_after})
    if rows:
        connection.execute(_NEW_POSTINGS, rows)
    return txn_id


def post_many(session: Session, clock: Clock, *, key: str, kind: str, memo: str, reference: str,
              lines: Subquery, counter: SystemAccount) -> int:
    """One transaction with a posting for every row of ``lines`` (columns ``account_id``, ``amount``: e.g. a
    day's income to a million fund holders) and one on ``counter`` that balances them, in a few set-based
    statements instead of a loop. The lines' accounts must exist. Replaying ``key`` changes nothing. Returns
    the lines' total; InsufficientFunds if an account that may not go negative would."""
    if transaction_id(session, key) is not None:
        return 0
    total = int(session.scalar(select(func.coalesce(func.sum(lines.c.amount), 0))) or 0)
    txn = LedgerTransaction(idempotency_key=key, kind=kind, memo=memo[:200], reference=reference,
                            created_at=clock.now())
    session.add(txn)
    session.flush()
    counter_id, counter_after = _apply(session, counter, -total, None)
    session.execute(insert(LedgerPosting).values(transaction_id=txn.id, account_id=counter_id, amount=-total,
                                                 balance_after=counter_after))
    session.execute(insert(LedgerPosting).from_select(
        ["transaction_id", "account_id", "amount", "balance_after"],
        select(literal(txn.id, BigInteger), lines.c.account_id, lines.c.amount, LedgerAccount.balance + lines.c.amount)
        .join(LedgerAccount, LedgerAccount.id == lines.c.account_id)))
    session.execute(update(LedgerAccount).where(LedgerAccount.id == lines.c.account_id)
                    .values(balance=LedgerAccount.balance + lines.c.amount))
    crossed = session.scalar(select(func.count()).select_from(LedgerAccount)
                             .join(lines, lines.c.account_id == LedgerAccount.id)
                             .where(LedgerAccount.allow_negative.is_(False),
                                    ((LedgerAccount.normal == DEBIT) & (LedgerAccount.balance < 0))
                                    | ((LedgerAccount.normal == CREDIT) & (LedgerAccount.balance > 0))))
    if crossed:
        raise InsufficientFunds("The balance is not enough for this payment")
    return total


def _apply(session: Session, spec: SystemAccount, amount: int, owner_id: int | None,
           connection: Connection | None = None) -> tuple[int, int]:
    """Move the account's balance in one conditional UPDATE, creating the account if it was never used;
    (its id, the balance after). InsufficientFunds when it may not go negative and would. An ORM copy of the
    account loaded in this session is told the new balance."""
    connection = connection or session.connection()
    params = {"account_code": spec.code, "amount": amount}
    moved = connection.execute(_MOVE, params).first()
    if moved is None and connection.execute(_ID_OF, {"account_code": spec.code}).first() is None:
        # created now, or a moment ago by a concurrent transaction: move it either way
        _create(session, spec, owner_id)
        moved = connection.execute(_MOVE, params).first()
    if moved is None:
        raise InsufficientFunds("The balance is not enough for this payment")
    account_id, balance = int(moved[0]), int(moved[1])
    loaded = session.identity_map.get(identity_key(LedgerAccount, account_id))
    if loaded is not None:
        set_loaded(loaded, balance=balance)
    return account_id, balance


def balance_of(session: Session, spec: SystemAccount) -> int:
    """Normal-side balance of an account (0 if it was never used)."""
    acc = session.scalar(select(LedgerAccount).where(LedgerAccount.code == spec.code))
    return 0 if acc is None else normal_balance(acc)


def trial_balance(session: Session) -> int:
    """Sum of all signed balances: always 0 in a correct ledger."""
    return int(session.scalar(select(func.coalesce(func.sum(LedgerAccount.balance), 0))) or 0)


def postings_total(session: Session) -> int:
    """Sum of all postings: always 0; and each account's balance equals the sum of its postings."""
    return int(session.scalar(select(func.coalesce(func.sum(LedgerPosting.amount), 0))) or 0)


def accounts_match_postings(session: Session) -> bool:
    sums = dict(session.execute(select(LedgerPosting.account_id, func.sum(LedgerPosting.amount))
                                .group_by(LedgerPosting.account_id)).tuples().all())
    return all(int(sums.get(acc.id, 0)) == acc.balance for acc in session.scalars(select(LedgerAccount)))


# --- checking the books (``fanbase ledger check``) --------------------------------------------------


def book_problems(session: Session) -> list[str]:
    """What is wrong inside the ledger itself, recomputed from the postings: every transaction balanced,
    every account's balance equal to the sum of its postings and on its allowed side, all balances
    summing to zero. Empty when the books are right."""
    problems: list[str] = []
    for txn_id, total in session.execute(select(LedgerPosting.transaction_id, func.sum(LedgerPosting.amount))
                                         .group_by(LedgerPosting.transaction_id)
                                         .having(func.sum(LedgerPosting.amount) != 0)):
        problems.append(f"transaction {txn_id}: postings sum to {int(total)}, not 0")
    sums = dict(session.execute(select(LedgerPosting.account_id, func.sum(LedgerPosting.amount))
                                .group_by(LedgerPosting.account_id)).tuples().all())
    for acc in session.scalars(select(LedgerAccount).order_by(LedgerAccount.code)):
        recomputed = int(sums.get(acc.id, 0))
        if recomputed != acc.balance:
            problems.append(f"account {acc.code}: balance {acc.balance}, its postings sum to {recomputed}")
        if not acc.allow_negative and normal_balance(acc) < 0:
            problems.append(f"account {acc.code}: {normal_balance(acc)} on its normal side, which may not go negative")
    total = trial_balance(session)
    if total != 0:
        problems.append(f"all balances sum to {total}, not 0")
    return problems


def keys_without_transactions(session: Session, keys: Sequence[str]) -> list[str]:
    """Those of these idempotency keys that no transaction carries."""
    return _absent(session, LedgerTransaction.idempotency_key, keys)


def references_without_transactions(session: Session, references: Sequence[str]) -> list[str]:
    """Those of these references (``order:<id>``, a payment id) that no transaction carries."""
    return _absent(session, LedgerTransaction.reference, references)


def _absent(session: Session, column: Any, values: Sequence[str]) -> list[str]:
    found: set[str] = set()
    for start in range(0, len(values), 5000):
        chunk = values[start:start + 5000]
        found.update(session.scalars(select(column).where(column.in_(chunk)).distinct()))
    return [value for value in values if value not in found]
