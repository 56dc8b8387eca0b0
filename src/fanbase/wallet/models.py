from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fanbase.db import Base, BigId, UTCDateTime

# top-up statuses
AWAITING_PAYMENT = "awaiting_payment"
CREDITED = "credited"
FAILED = "failed"


class WalletAccount(Base):
    """A customer's wallet rules: the KYC tier and the outgoing totals its caps are checked against (the
    money itself is the ledger account ``wallet:<customer>``). A row is made on first use, at tier 1."""

    __tablename__ = "wallet_accounts"

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    tier: Mapped[int] = mapped_column(Integer, default=1)
    lifetime_out_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    year: Mapped[int] = mapped_column(Integer, default=0)  # the year ``year_out_fen`` counts
    year_out_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TopUp(Base):
    __tablename__ = "wallet_top_ups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default=AWAITING_PAYMENT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    credited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Withdrawal(Base):
    """Money sent from the wallet to the customer's bank card through the gateway (``payout_id``)."""

    __tablename__ = "wallet_withdrawals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    payout_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
