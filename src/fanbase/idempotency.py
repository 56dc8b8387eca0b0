"""``Idempotency-Key``: the same key from the same caller within 24 h returns the first response.

The record is written in the same transaction as the work, so "did the work" and "remembered the
answer" cannot disagree. A concurrent request with the same key waits on the unique index and then
gets the stored answer. Refusals (4xx domain errors) are remembered too, as a payment API would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import JSON, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from fanbase.clock import Clock
from fanbase.db import Base, BigId, Database, UTCDateTime, affected, insert_if_absent
from fanbase.errors import DomainError, ValidationFailed

TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 200


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("caller", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    caller: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[Any] = mapped_column(JSON, nullable=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any
    replayed: bool


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def run_once(db: Database, clock: Clock, *, caller: str, key: str | None, request_fingerprint: str,
             action: Callable[[Session], tuple[int, Any]]) -> StoredResponse:
    """Run ``action`` (returning status and a JSON-able body) at most once per (caller, key)."""
    if key is None:
        with db.uow() as session:
            status, body = action(session)
        return StoredResponse(status, body, replayed=False)
    check_key(key)
    try:
        with db.uow() as session:
            stored = _stored(session, clock, caller, key, request_fingerprint)
            if stored is not None:
                return stored
            record = IdempotencyRecord(caller=caller, key=key, fingerprint=request_fingerprint,
                                       created_at=clock.now())
            session.add(record)
            session.flush()  # takes the unique slot now: a concurrent twin waits here
            status, body = action(session)
            record.status_code, record.body = status, _jsonable(body)
        return StoredResponse(status, body, replayed=False)
    except IntegrityError:
        return _replay_after_race(db, clock, caller, key, request_fingerprint)
    except DomainError as error:
        _remember_refusal(db, clock, caller, key, request_fingerprint, error)
        raise


def _stored(session: Session, clock: Clock, caller: str, key: str, request_fingerprint: str) -> StoredResponse | None:
    record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.caller == caller,
                                                            IdempotencyRecord.key == key))
    if record is None:
        return None
    if record.created_at <= clock.now() - TTL:
        session.delete(record)
        session.flush()
        return None
    if record.fingerprint != request_fingerprint:
        raise DomainError("This Idempotency-Key was used for a different request", code="conflict")
    return StoredResponse(record.status_code, record.body, replayed=True)


def _replay_after_race(db: Database, clock: Clock, caller: str, key: str, request_fingerprint: str) -> StoredResponse:
    with db.uow() as session:
        stored = _stored(session, clock, caller, key, request_fingerprint)
    if stored is None:
        raise DomainError("Please retry the request", code="conflict")
    return stored


def _remember_refusal(db: Database, clock: Clock, caller: str, key: str, request_fingerprint: str,
                      error: DomainError) -> None:
    if error.code == "validation_error" or error.status >= 500 or error.code == "rate_limited":
        return  # the caller may fix the request and retry with the same key
    try:
        with db.uow() as session:
            if _stored(session, clock, caller, key, request_fingerprint) is None:
                session.add(IdempotencyRecord(caller=caller, key=key, fingerprint=request_fingerprint,
                                              status_code=error.status, body={"__problem__": error.code,
                                                                              "detail": error.detail,
                                                                              "params": _jsonable(error.params)},
                                              created_at=clock.now()))
    except (IntegrityError, DomainError):
        pass


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed("Idempotency-Key must be 1 to {max} printable characters", max=MAX_KEY_LENGTH)


def lookup(db: Database, clock: Clock, *, caller: str, key: str, request_fingerprint: str) -> StoredResponse | None:
    """For paths that cannot run inside one transaction with the key (flash-sale purchases, written by
    group commit): the first answer, if there is one."""
    check_key(key)
    with db.read() as session:
        record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.caller == caller,
                                                                IdempotencyRecord.key == key))
        if record is None or record.created_at <= clock.now() - TTL:
            return None
        if record.fingerprint != request_fingerprint:
            raise DomainError("This Idempotency-Key was used for a different request", code="conflict")
        return StoredResponse(record.status_code, record.body, replayed=True)


def remember(db: Database, clock: Clock, *, caller: str, key: str, request_fingerprint: str, status_code: int,
             body: Any) -> None:
    """Store the answer given for a key (the first one wins if two raced)."""
    with db.uow() as session:
        insert_if_absent(session, IdempotencyRecord, caller=caller, key=key, fingerprint=request_fingerprint,
                         status_code=status_code, body=_jsonable(body), created_at=clock.now())


def _jsonable(body: Any) -> Any:
    return orjson.loads(orjson.dumps(body, default=str))


def purge_expired(session: Session, clock: Clock) -> int:
    return affected(session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= clock.now() - TTL)))
