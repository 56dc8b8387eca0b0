"""``fanbase ledger check``: the books recomputed from their postings, and every movement of money the
other domains record matched with its ledger transaction (paid orders, gateway captures and refunds,
withdrawals, fund subscriptions, confirmations, redemptions, payments and daily income)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fanbase.fund import service as fund
from fanbase.ledger import service as ledger
from fanbase.orders import service as orders
from fanbase.payments import service as payments
from fanbase.social.referrals import service as referrals
from fanbase.wallet import service as wallet


def problems(session: Session) -> list[str]:
    """Everything found wrong, one line each; empty when the books are right."""
    found = ledger.book_problems(session)
    found += [f"paid {reference} has no ledger transaction"
              for reference in ledger.references_without_transactions(session, orders.paid_order_references(session))]
    expected = (payments.expected_ledger_keys(session) + wallet.expected_ledger_keys(session)
                + fund.expected_ledger_keys(session) + referrals.expected_ledger_keys(session))
    found += [f"missing ledger transaction {key}" for key in ledger.keys_without_transactions(session, expected)]
    return found
