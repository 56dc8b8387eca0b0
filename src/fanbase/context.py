"""Everything a request or a job needs, built once per process by ``build_context``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from fanbase.accounts.service import TokenRevocations
from fanbase.broadcast import (
    CATALOG_CHANGED,
    FLASH_SALE_CHANGED,
    TOKEN_REVOKED,
    Broadcast,
    LocalBroadcast,
    make_broadcast,
)
from fanbase.cache import TTLCache
from fanbase.clock import Clock, SandboxClock, SystemClock
from fanbase.config import Settings
from fanbase.db import Database
from fanbase.flashsale import service as flashsale
from fanbase.flashsale.gate import Gate, InProcessGate
from fanbase.flashsale.redis_gate import RedisGate
from fanbase.flashsale.writer import GroupCommitWriter
from fanbase.membership import service as membership
from fanbase.orders.service import OrderPolicy
from fanbase.payments.gateway import SandboxGateway
from fanbase.ratelimit import InProcessRateLimiter, RateLimiter, make_rate_limiter


@dataclass
class Context:
    settings: Settings
    db: Database
    clock: Clock
    gateway: SandboxGateway
    secret_key: str
    revocations: TokenRevocations = field(default_factory=TokenRevocations)
    product_pages: TTLCache[tuple[str, str], bytes] = field(default_factory=lambda: TTLCache(0))
    visitor_pages: TTLCache[tuple[str, str], str] = field(default_factory=lambda: TTLCache(0))
    broadcast: Broadcast = field(default_factory=LocalBroadcast)
    flash_gate: Gate = field(default_factory=InProcessGate)
    rate_limiter: RateLimiter = field(default_factory=InProcessRateLimiter)

    def __post_init__(self) -> None:
        self.broadcast.subscribe(self._on_news)
        self.flash_writer = GroupCommitWriter(self.db, self.clock, self.flash_gate, lambda: self.order_policy)

    def _on_news(self, topic: str, payload: str) -> None:
        if topic == TOKEN_REVOKED:
            self.revocations.add(payload)
        elif topic == CATALOG_CHANGED:
            self.product_pages.clear()
            self.visitor_pages.clear()
        elif topic == FLASH_SALE_CHANGED and payload.isdigit():
            self.visitor_pages.clear()  # the home page shows the next launch
            with self.db.read() as session:
                flashsale.refresh_window(session, self.flash_gate, int(payload))

    @property
    def order_policy(self) -> OrderPolicy:
        return OrderPolicy(payment_window=timedelta(seconds=self.settings.payment_window_seconds),
                           return_window=timedelta(days=self.settings.return_window_days),
                           zone=self.settings.zone)

    @property
    def sandbox_clock(self) -> SandboxClock | None:
        return self.clock if isinstance(self.clock, SandboxClock) else None


def build_context(settings: Settings, *, db: Database | None = None, clock: Clock | None = None) -> Context:
    database = db or Database.from_settings(settings)
    base_clock = clock or SystemClock()
    the_clock: Clock = SandboxClock(base_clock) if settings.sandbox else base_clock
    membership.configure(settings.zone)  # order listeners date points and growth in the store's zone
    return Context(settings=settings, db=database, clock=the_clock,
                   gateway=SandboxGateway(settings.sandbox_webhook_secret, settings.public_url),
                   secret_key=settings.resolved_secret_key(),
                   product_pages=TTLCache(settings.product_cache_seconds),
                   visitor_pages=TTLCache(settings.product_cache_seconds),
                   broadcast=make_broadcast(settings.redis_url),
                   rate_limiter=make_rate_limiter(settings.redis_url),
                   flash_gate=_flash_gate(settings, database))


def _flash_gate(settings: Settings, database: Database) -> Gate:
    if not settings.redis_url:
        return InProcessGate()
    return RedisGate(settings.redis_url, database, prefix=settings.flash_gate_key_prefix,
                     stale_after_seconds=settings.flash_gate_stale_after_seconds)
