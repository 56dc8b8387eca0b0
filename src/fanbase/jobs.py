"""Scheduled work: each job is an idempotent function of (session, now) and runs in its own transaction.

``serve`` runs them in a background thread when it is the only process; ``fanbase worker`` runs them
otherwise; the sandbox clock runs them right after moving time; tests call ``run_due_jobs`` directly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import httpx
from sqlalchemy.orm import Session

from fanbase import idempotency
from fanbase.community.ideas import service as ideas
from fanbase.context import Context
from fanbase.flashsale import service as flashsale
from fanbase.flashsale.redis_gate import reconcile_gates
from fanbase.fund import service as fund
from fanbase.membership import service as membership
from fanbase.orders import service as orders
from fanbase.payments import service as payments
from fanbase.sandbox import service as sandbox
from fanbase.social.groupbuys import service as groupbuys
from fanbase.social.referrals import service as referrals  # noqa: F401  (pays commissions on "completed")

log = logging.getLogger("fanbase.jobs")

Job = Callable[[Session, Context], int]

JOBS: dict[str, Job] = {
    "expire_unpaid_orders": lambda s, ctx: orders.expire_unpaid(s, ctx.clock, ctx.gateway),
    # after expiry (unpaid places freed): overdue forming groups fail, then each member's order is called off
    "fail_expired_group_buys": lambda s, ctx: groupbuys.fail_expired(s, ctx.clock, ctx.gateway),
    "complete_delivered_orders": lambda s, ctx: orders.complete_delivered(s, ctx.clock, ctx.order_policy),
    "purge_idempotency_keys": lambda s, ctx: idempotency.purge_expired(s, ctx.clock),
    # after expiry, so that units of orders that just closed go back to their sale in the same round
    "return_flash_sale_units": lambda s, ctx: flashsale.take_back_released(s, ctx.flash_gate),
    # after the units came back: lowers a shared gate that counts too many, rebuilds one a dead process left
    "reconcile_flash_sale_gates": lambda s, ctx: reconcile_gates(s, ctx.flash_gate, ctx.clock),
    # after both: a lottery round opens with the units that are free by then
    "open_lottery_rounds": lambda s, ctx: flashsale.open_due_rounds(s, ctx.clock, ctx.flash_gate),
    "close_ended_flash_sales": lambda s, ctx: flashsale.close_ended_sales(s, ctx.clock),
    # fund subscriptions confirmed and standard redemptions credited on their day
    "settle_fund": lambda s, ctx: fund.settle_due(s, ctx.clock, ctx.settings.zone),
    # Mondays (store's zone): the previous week's releases, their ideas and the fans who asked for them
    "record_ideas_digest": lambda s, ctx: ideas.record_weekly_digest(s, ctx.clock, ctx.settings.zone),
    # 1 January (store's zone): levels from last year's growth; points of the year before last expire
    "review_member_levels": lambda s, ctx: membership.review_levels(s, ctx.clock, ctx.settings.zone),
    "expire_points": lambda s, ctx: membership.expire_points(s, ctx.clock, ctx.settings.zone),
}


def run_due_jobs(ctx: Context) -> dict[str, int]:
    """Run every job once (each keeps going until nothing is due); returns how much each did."""
    done: dict[str, int] = {}
    for name, job in JOBS.items():
        total = 0
        for _round in range(1000):
            with ctx.db.uow() as session:
                count = job(session, ctx)
            total += count
            if count == 0:
                break
        done[name] = total
    done["sandbox_webhooks"] = deliver_sandbox_webhooks(ctx)
    return done


def deliver_sandbox_webhooks(ctx: Context, client: httpx.Client | None = None) -> int:
    """The sandbox bank retries webhooks the store has not acknowledged (delivered in-process here)."""
    delivered = 0
    with ctx.db.read() as session:
        events = ctx.gateway.undelivered(session)
    for event in events:
        body, headers = ctx.gateway.signed_delivery(event)
        try:
            with ctx.db.uow() as session:
                payments.handle_webhook(session, ctx.clock, ctx.gateway, body,
                                        {k.lower(): v for k, v in headers.items()})
            ok = True
        except Exception:  # the store failed: count the attempt and retry next round
            log.exception("sandbox webhook %s failed", event.id)
            ok = False
        with ctx.db.uow() as session:
            ctx.gateway.mark_delivered(session, event.id, ctx.clock.now(), ok)
        delivered += ok
    return delivered


def refresh_shared_state(ctx: Context) -> None:
    """Things other processes may have changed: the sandbox clock offset, revoked tokens."""
    with ctx.db.read() as session:
        if ctx.sandbox_clock is not None:
            sandbox.load_offset(session, ctx.sandbox_clock)
        ctx.revocations.refresh(session)


class Scheduler(threading.Thread):
    def __init__(self, ctx: Context, interval: float) -> None:
        super().__init__(name="fanbase-scheduler", daemon=True)
        self.ctx = ctx
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                refresh_shared_state(self.ctx)
                run_due_jobs(self.ctx)
            except Exception:
                log.exception("scheduled jobs failed; retrying next round")

    def stop(self) -> None:
        self.stopping.set()
