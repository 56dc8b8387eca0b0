"""Ledger invariants under random sequences of transactions (hypothesis, stateful).

Transactions move random amounts between system accounts (which may go negative) and customer wallets and
fund balances (which may not). Each ``ledger.post`` runs in its own ``db.uow()``; a model predicts every
answer, and after every step:

- the trial balance and the sum of all postings are 0;
- every account's balance equals the sum of its postings, and its last posting's ``balance_after``;
- no account that may not go negative is negative;
- a refused transaction (InsufficientFunds, ValueError, TypeError) wrote nothing, not even an account;
- replaying an idempotency key returns the first transaction and changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, func, select

from fanbase.clock import FixedClock
from fanbase.db import Database
from fanbase.errors import InsufficientFunds
from fanbase.ledger import service as ledger
from fanbase.ledger.models import CREDIT, LedgerAccount, LedgerPosting, LedgerTransaction

SYSTEM = (ledger.GATEWAY_CLEARING, ledger.SALES_REVENUE, ledger.REFUNDS, ledger.FEE_INCOME)
GUARDED = (ledger.customer_wallet(1), ledger.customer_wallet(2), ledger.customer_wallet(3),
           ledger.customer_fund(1))
ACCOUNTS = SYSTEM + GUARDED
KEYS = tuple(f"txn-{n}" for n in range(12))

amounts = st.integers(min_value=-60_000, max_value=60_000)
not_fen = st.one_of(st.floats(), st.decimals(), st.booleans(), st.integers(-10, 10).map(float))


def balanced(data: st.DataObject, size: int | None = None) -> list[tuple[ledger.SystemAccount, int]]:
    """Distinct accounts with random amounts; the last one takes whatever balances the rest."""
    chosen = data.draw(st.lists(st.sampled_from(ACCOUNTS), min_size=2, max_size=4, unique_by=lambda a: a.code)
                       if size is None else st.permutations(ACCOUNTS).map(lambda a: a[:size]))
    moved = [data.draw(amounts) for _ in chosen[:-1]]
    return [*zip(chosen, moved, strict=False), (chosen[-1], -sum(moved))]


def normal(spec: ledger.SystemAccount, signed: int) -> int:
    return -signed if spec.normal == CREDIT else signed


class LedgerMachine(RuleBasedStateMachine):
    db: Database
    clock: FixedClock

    def __init__(self) -> None:
        super().__init__()
        self.balances: dict[str, int] = {}  # code -> signed balance, for accounts that exist
        self.transactions: dict[str, tuple[int, int]] = {}  # key -> (transaction id, number of postings)

    @initialize()
    def empty_ledger(self) -> None:
        with self.db.uow() as s:
            s.execute(delete(LedgerPosting))
            s.execute(delete(LedgerTransaction))
            s.execute(delete(LedgerAccount))

    # --- operations -------------------------------------------------------------------------------

    @rule(key=st.sampled_from(KEYS), data=st.data())
    def post(self, key: str, data: st.DataObject) -> None:
        self._post(key, balanced(data))

    @precondition(lambda self: any(self.balances.get(g.code, 0) for g in GUARDED))
    @rule(data=st.data(), over=st.integers(0, 1))
    def spend_a_whole_balance(self, data: st.DataObject, over: int) -> None:
        """The boundary: a wallet may pay exactly its balance, and not one fen more."""
        funded = [g for g in GUARDED if self.balances.get(g.code, 0)]
        wallet = data.draw(st.sampled_from(funded))
        amount = normal(wallet, self.balances[wallet.code]) + over
        self._post(f"spend-{len(self.transactions)}", [(wallet, amount), (ledger.SALES_REVENUE, -amount)])

    @rule(key=st.sampled_from(KEYS), data=st.data(), off_by=st.integers(-1000, 1000).filter(bool))
    def unbalanced_is_refused(self, key: str, data: st.DataObject, off_by: int) -> None:
        postings = balanced(data)
        postings[0] = (postings[0][0], postings[0][1] + off_by)
        with pytest.raises(ValueError, match="unbalanced"), self.db.uow() as s:
            ledger.post(s, self.clock, key=key, kind="test", memo="unbalanced", postings=postings)

    @rule(key=st.sampled_from(KEYS), data=st.data(), bad=st.lists(not_fen, min_size=1, max_size=3))
    def amounts_that_are_not_fen_are_refused(self, key: str, data: st.DataObject, bad: list[object]) -> None:
        """Floats, Decimals and bools are refused as such, whether or not they happen to add up to 0."""
        postings: list[tuple[ledger.SystemAccount, object]] = list(balanced(data, size=len(bad) + 1))
        for i, amount in enumerate(bad):
            postings[i] = (postings[i][0], amount)
        with pytest.raises(TypeError, match="int fen"), self.db.uow() as s:
            ledger.post(s, self.clock, key=key, kind="test", memo="not fen",
                        postings=postings)  # type: ignore[arg-type]

    # --- checks after every step ------------------------------------------------------------------

    @invariant()
    def ledger_agrees_with_the_model_and_itself(self) -> None:
        with self.db.read() as s:
            assert ledger.trial_balance(s) == 0
            assert ledger.postings_total(s) == 0
            assert ledger.accounts_match_postings(s)
            found = {acc.code: acc.balance for acc in s.scalars(select(LedgerAccount))}
            assert found == self.balances
            for spec in GUARDED:
                assert ledger.balance_of(s, spec) >= 0
            last = dict(s.execute(select(LedgerAccount.code, LedgerPosting.balance_after).join(LedgerAccount)
                                  .where(LedgerPosting.id.in_(select(func.max(LedgerPosting.id))
                                                              .group_by(LedgerPosting.account_id)))).tuples().all())
            assert last == self.balances
            keys = dict(s.execute(select(LedgerTransaction.idempotency_key, LedgerTransaction.id))
                        .tuples().all())
            assert keys == {key: txn_id for key, (txn_id, _) in self.transactions.items()}
            assert s.scalar(select(func.count()).select_from(LedgerPosting)) == sum(
                n for _, n in self.transactions.values())

    # --- the model --------------------------------------------------------------------------------

    def _post(self, key: str, postings: list[tuple[ledger.SystemAccount, int]]) -> None:
        try:
            with self.db.uow() as s:
                txn_id = ledger.post(s, self.clock, key=key, kind="test", memo="random", postings=postings,
                                     owners={spec.code: 1 for spec, _ in postings if spec in GUARDED}).id
        except InsufficientFunds:
            assert key not in self.transactions, "a replay must return the first transaction, not re-check"
            assert any(normal(spec, self.balances.get(spec.code, 0) + amount) < 0
                       for spec, amount in postings if not spec.allow_negative), "refused a payable one"
            return  # nothing written: the invariant compares every balance, transaction and account
        if key in self.transactions:
            assert txn_id == self.transactions[key][0], "a replay returned another transaction"
            return  # and changed nothing: checked by the invariant
        after = dict(self.balances)
        for spec, amount in postings:
            if amount:
                after[spec.code] = after.get(spec.code, 0) + amount
        assert all(normal(spec, after[spec.code]) >= 0 for spec, amount in postings
                   if amount and not spec.allow_negative), f"an account went negative: {postings}"
        self.balances = after
        self.transactions[key] = (txn_id, sum(1 for _, amount in postings if amount))


def test_ledger_invariants_hold_under_random_transactions(db: Database, clock: FixedClock) -> None:
    machine = type("Machine", (LedgerMachine,), {"db": db, "clock": clock})
    run_state_machine_as_test(machine, settings=settings(
        max_examples=30, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]))


def test_a_refused_payment_writes_nothing(db: Database, clock: FixedClock) -> None:
    """The named case: a wallet of 100.00 cannot pay 100.01; nothing of the attempt remains."""
    wallet = ledger.customer_wallet(7)
    with db.uow() as s:
        first = ledger.post(s, clock, key="top-up", kind="top_up", memo="", owners={wallet.code: 7},
                            postings=[(ledger.GATEWAY_CLEARING, 10_000), (wallet, -10_000)]).id
    with pytest.raises(InsufficientFunds), db.uow() as s:
        ledger.post(s, clock, key="pay", kind="order_payment", memo="",
                    postings=[(wallet, 10_001), (ledger.SALES_REVENUE, -10_001)])
    with db.read() as s:
        assert ledger.balance_of(s, wallet) == 10_000
        assert s.scalar(select(func.count()).select_from(LedgerTransaction)) == 1
        assert s.scalar(select(LedgerAccount).where(LedgerAccount.code == ledger.SALES_REVENUE.code)) is None
    # the refused key was not used up, and replaying the first key still returns the first transaction
    with db.uow() as s:
        ledger.post(s, clock, key="pay", kind="order_payment", memo="",
                    postings=[(wallet, 10_000), (ledger.SALES_REVENUE, -10_000)])
        assert ledger.post(s, clock, key="top-up", kind="top_up", memo="",
                           postings=[(ledger.GATEWAY_CLEARING, 1), (wallet, -1)]).id == first
    with db.read() as s:
        assert ledger.balance_of(s, wallet) == 0
        assert ledger.balance_of(s, ledger.SALES_REVENUE) == 10_000


def test_amounts_that_happen_to_add_up_are_still_not_fen(db: Database, clock: FixedClock) -> None:
    with pytest.raises(TypeError), db.uow() as s:
        ledger.post(s, clock, key="floats", kind="test", memo="", postings=[
            (ledger.GATEWAY_CLEARING, 0.1), (ledger.FEE_INCOME, 0.2), (ledger.SALES_REVENUE, -0.3)])  # type: ignore[list-item]
    with pytest.raises(TypeError), db.uow() as s:
        ledger.post(s, clock, key="decimals", kind="test", memo="", postings=[
            (ledger.GATEWAY_CLEARING, Decimal("1.5")), (ledger.SALES_REVENUE, -1)])  # type: ignore[list-item]
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(LedgerTransaction)) == 0
