"""``fanbase ledger check`` finds what is off in the books: a balance that does not match its postings, an
unbalanced transaction, a paid order or a gateway payment without its transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update
from typer.testing import CliRunner

from fanbase.cli import app
from fanbase.ledger import check
from fanbase.ledger.models import LedgerAccount, LedgerPosting, LedgerTransaction
from tests.helpers import auth, place_order


def approve(client, order) -> None:  # type: ignore[no-untyped-def]
    client.post(f"/api/v1/sandbox-gateway/payments/{order['payment']['id']}/approve")


def test_books_of_a_working_store_are_right_and_every_kind_of_damage_is_found(client, shop, fan, db) -> None:  # type: ignore[no-untyped-def]
    paid = place_order(client, fan)
    approve(client, paid)
    refunded = place_order(client, fan)
    approve(client, refunded)
    assert client.post(f"/api/v1/orders/{refunded['id']}/cancel", headers=auth(fan)).status_code == 200
    place_order(client, fan)  # never paid: needs no transaction
    with db.read() as session:
        assert check.problems(session) == []

    damage = {  # each in a transaction rolled back afterwards, so the store itself stays right
        "balance": lambda s: s.execute(update(LedgerAccount).where(LedgerAccount.code == "system:sales_revenue")
                                       .values(balance=LedgerAccount.balance - 1)),
        "unbalanced": lambda s: s.execute(insert(LedgerPosting).values(
            transaction_id=s.scalar(select(LedgerTransaction.id).limit(1)),
            account_id=s.scalar(select(LedgerAccount.id).where(LedgerAccount.code == "system:sales_revenue")),
            amount=5, balance_after=0)),
        "missing": lambda s: _drop_transaction(s, f"payment:{paid['payment']['id']}:capture"),
        "missing refund": lambda s: _drop_transaction(s, f"payment:{refunded['payment']['id']}:refund"),
    }
    expected = {
        "balance": ["account system:sales_revenue: balance", "all balances sum to -1"],
        "unbalanced": ["postings sum to 5", "account system:sales_revenue: balance"],
        "missing": [f"paid order:{paid['id']} has no ledger transaction",
                    f"missing ledger transaction payment:{paid['payment']['id']}:capture"],
        "missing refund": [f"missing ledger transaction payment:{refunded['payment']['id']}:refund"],
    }
    for name, harm in damage.items():
        with db.read() as session:  # a read session: rolled back when the block ends
            harm(session)
            found = check.problems(session)
        for fragment in expected[name]:
            assert any(fragment in line for line in found), (name, found)


def _drop_transaction(session, key: str) -> None:  # type: ignore[no-untyped-def]
    """The transaction and its postings gone, the balances taken back: only the link to the payment is lost."""
    txn = session.scalar(select(LedgerTransaction.id).where(LedgerTransaction.idempotency_key == key))
    for account_id, amount in session.execute(select(LedgerPosting.account_id, LedgerPosting.amount)
                                              .where(LedgerPosting.transaction_id == txn)).all():
        session.execute(update(LedgerAccount).where(LedgerAccount.id == account_id)
                        .values(balance=LedgerAccount.balance - amount))
    session.execute(delete(LedgerPosting).where(LedgerPosting.transaction_id == txn))
    session.execute(delete(LedgerTransaction).where(LedgerTransaction.id == txn))


def test_the_command_exits_non_zero_with_a_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    monkeypatch.setenv("FANBASE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FANBASE_DATABASE_URL", raising=False)
    runner = CliRunner()
    fine = runner.invoke(app, ["ledger", "check"])
    assert fine.exit_code == 0 and "balance" in fine.output
    (database,) = tmp_path.glob("*.sqlite3")
    with sqlite3.connect(database) as conn:
        conn.execute("INSERT INTO ledger_accounts (code, name, kind, normal, allow_negative, currency, balance) "
                     "VALUES ('x', 'x', 'system', 'debit', 1, 'CNY', 7)")
    broken = runner.invoke(app, ["ledger", "check"])
    assert broken.exit_code == 1
    assert "account x: balance 7, its postings sum to 0" in broken.output
    assert "all balances sum to 7" in broken.output
