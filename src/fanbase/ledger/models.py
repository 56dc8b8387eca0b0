from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fanbase.db import Base, BigId, UTCDateTime

DEBIT = "debit"
CREDIT = "credit"


class LedgerAccount(Base):
    """``balance`` is signed: debits add, credits subtract, so all balances always sum to zero.
    ``normal`` says which side the account lives on; ``allow_negative`` False forbids the balance
    from crossing to the other side."""

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int | None] = mapped_column(BigId, index=True, default=None)
    normal: Mapped[str] = mapped_column(String(6))
    allow_negative: Mapped[bool] = mapped_column(Boolean, default=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    balance: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    memo: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str | None] = mapped_column(String(80), index=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerPosting(Base):
    """Immutable. ``amount`` > 0 debits the account, < 0 credits it."""

    __tablename__ = "ledger_postings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
