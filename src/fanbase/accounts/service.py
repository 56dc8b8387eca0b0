"""Accounts: registration, sign-in, signed bearer tokens, revocation, staff and the audit log."""

from __future__ import annotations

import base64
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fanbase.accounts.models import CUSTOMER, STAFF, STAFF_ROLES, AuditEntry, RevokedToken, User
from fanbase.clock import Clock
from fanbase.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed

# Replaced by tests with cheaper parameters; production uses argon2's recommended defaults.
password_hasher = PasswordHasher()
_DUMMY_HASH = password_hasher.hash("timing-equaliser")
TOKEN_PREFIX = "fb1"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as proved by a token; no database read needed."""

    user_id: int
    kind: str
    role: str | None
    jti: str
    expires_at: int

    @property
    def is_staff(self) -> bool:
        return self.kind == STAFF


def normalise_email(email: str) -> str:
    return email.strip().lower()


def register_customer(session: Session, clock: Clock, *, email: str, password: str, name: str) -> User:
    return _create_user(session, clock, email=email, password=password, name=name, kind=CUSTOMER, role=None)


def create_staff(session: Session, clock: Clock, *, email: str, password: str, name: str, role: str,
                 actor_id: int | None = None) -> User:
    if role not in STAFF_ROLES:
        raise ValidationFailed("Unknown staff role {role}", role=role)
    user = _create_user(session, clock, email=email, password=password, name=name, kind=STAFF, role=role)
    record_audit(session, clock, actor_id=actor_id, action="staff.create", target=f"user:{user.id}",
                 detail={"email": user.email, "role": role})
    return user


def _create_user(session: Session, clock: Clock, *, email: str, password: str, name: str, kind: str,
                 role: str | None) -> User:
    email = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("This email is already registered")
    user = User(email=email, name=name.strip(), password_hash=password_hasher.hash(password), kind=kind,
                role=role, created_at=clock.now())
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict("This email is already registered") from exc
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    try:
        password_hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None:
        raise Unauthorized("Wrong email or password")
    return user


def user_id_by_email(session: Session, email: str) -> int | None:
    found = session.scalar(select(User.id).where(User.email == normalise_email(email)))
    return None if found is None else int(found)


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account")
    return user


# --- tokens ---------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, payload: str) -> str:
    return _b64(hmac.digest(secret.encode(), f"{TOKEN_PREFIX}.{payload}".encode(), "sha256"))  # one C call


def issue_token(secret: str, user: User, now: datetime, ttl_seconds: int) -> str:
    claims = {"sub": user.id, "k": user.kind, "r": user.role, "jti": secrets.token_hex(16),
              "exp": int(now.timestamp()) + ttl_seconds}
    payload = _b64(orjson.dumps(claims))
    return f"{TOKEN_PREFIX}.{payload}.{_sign(secret, payload)}"


def verify_token(secret: str, token: str, now: datetime, revoked: TokenRevocations) -> Principal:
    """Check signature, expiry and revocation; raises Unauthorized. Pure CPU plus a set lookup."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(token) > 1024 or not token.isascii():
        raise Unauthorized("The token is malformed")
    if not hmac.compare_digest(parts[2], _sign(secret, parts[1])):
        raise Unauthorized("The token is not valid")
    try:
        claims: dict[str, Any] = orjson.loads(_unb64(parts[1]))
        principal = Principal(int(claims["sub"]), str(claims["k"]), claims.get("r"), str(claims["jti"]),
                              int(claims["exp"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise Unauthorized("The token is malformed") from exc
    if principal.expires_at <= now.timestamp():
        raise Unauthorized("The token has expired")
    if principal.jti in revoked:
        raise Unauthorized("The token has been revoked")
    return principal


class TokenRevocations:
    """An in-memory copy of the revoked token ids, refreshed from the database every few seconds so a
    revocation in one process reaches the others quickly, without a read per request."""

    def __init__(self, refresh_seconds: float = 2.0) -> None:
        self._ids: set[str] = set()
        self._since: datetime | None = None
        self._next_refresh = 0.0
        self._refresh_seconds = refresh_seconds
        self._lock = threading.Lock()

    def __contains__(self, jti: object) -> bool:
        return jti in self._ids

    def add(self, jti: str) -> None:
        self._ids.add(jti)

    def due(self) -> bool:
        return time.monotonic() >= self._next_refresh

    def refresh(self, session: Session) -> None:
        with self._lock:
            query = select(RevokedToken.jti, RevokedToken.revoked_at)
            if self._since is not None:
                # a little overlap: rows committed late with an earlier timestamp are still seen
                query = query.where(RevokedToken.revoked_at >= self._since - timedelta(minutes=5))
            rows = session.execute(query).all()
            self._ids.update(row[0] for row in rows)
            latest = session.scalar(select(func.max(RevokedToken.revoked_at)))
            self._since = latest or self._since
            self._next_refresh = time.monotonic() + self._refresh_seconds


def revoke_token(session: Session, clock: Clock, principal: Principal, revoked: TokenRevocations) -> None:
    if session.get(RevokedToken, principal.jti) is None:
        session.add(RevokedToken(jti=principal.jti, user_id=principal.user_id,
                                 expires_at=datetime.fromtimestamp(principal.expires_at, clock.now().tzinfo),
                                 revoked_at=clock.now()))
    revoked.add(principal.jti)


def require_staff(principal: Principal, *roles: str) -> None:
    """Staff only; with roles given, one of them (admin may do everything)."""
    if not principal.is_staff:
        raise Forbidden("Staff only")
    if roles and principal.role != "admin" and principal.role not in roles:
        raise Forbidden("Your role may not do this")


# --- audit ----------------------------------------------------------------------------------------


def record_audit(session: Session, clock: Clock, *, actor_id: int | None, action: str, target: str,
                 detail: dict[str, Any] | None = None) -> None:
    session.add(AuditEntry(actor_id=actor_id, action=action, target=target, detail=detail or {},
                           at=clock.now()))


def recent_audit(session: Session, *, limit: int = 100, action: str | None = None) -> list[AuditEntry]:
    """The newest audit entries first (optionally one action, e.g. ``order.refund``)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))


def names_of(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return {uid: name for uid, name in session.execute(select(User.id, User.name).where(User.id.in_(user_ids)))}


def user_ids_by_handle(session: Session, handle: str, *, limit: int = 2) -> list[int]:
    """Who ``@handle`` names (forum mentions): the people whose e-mail address starts ``handle@``, else
    those whose display name is ``handle`` (both case-insensitive); at most ``limit`` ids."""
    handle = handle.strip().lower()
    if not handle:
        return []
    by_email = list(session.scalars(select(User.id).where(User.email.startswith(handle + "@", autoescape=True))
                                    .order_by(User.id).limit(limit)))
    if by_email:
        return by_email
    return list(session.scalars(select(User.id).where(func.lower(User.name) == handle).order_by(User.id)
                                .limit(limit)))
