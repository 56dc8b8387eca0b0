"""``fanbase ledger check``: the books recomputed from their postings, and every movement of money the
other domains record matched with its ledger transaction (paid orders, gateway captures and refunds)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fanbase.ledger import service as ledger
from fanbase.orders import service as orders
from fanbase.payments import service as payments


def problems(session: Session) -> list[str]:
    """Everything found wrong, one line each; empty when the books are right."""
    found = ledger.book_problems(session)
    found += [f"paid {reference} has no ledger transaction"
              for reference in ledger.references_without_transactions(session, orders.paid_order_references(session))]
    found += [f"missing ledger transaction {key}"
              for key in ledger.keys_without_transactions(session, payments.expected_ledger_keys(session))]
    return found
