"""Sandbox clock: staff move the store's time forward to rehearse time-based rules."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from fanbase.accounts.service import record_audit
from fanbase.clock import SandboxClock
from fanbase.errors import ValidationFailed
from fanbase.sandbox.models import ClockState

MAX_ADVANCE_SECONDS = 400 * 24 * 3600


def load_offset(session: Session, clock: SandboxClock) -> None:
    state = session.get(ClockState, 1)
    if state is not None:
        clock.set_offset(state.offset_seconds)


def advance(session: Session, clock: SandboxClock, seconds: int, actor_id: int) -> None:
    if not 1 <= seconds <= MAX_ADVANCE_SECONDS:
        raise ValidationFailed("seconds must be between 1 and {max}", max=MAX_ADVANCE_SECONDS)
    if session.get(ClockState, 1) is None:
        session.add(ClockState(id=1, offset_seconds=0))
        session.flush()
    session.execute(update(ClockState).where(ClockState.id == 1)
                    .values(offset_seconds=ClockState.offset_seconds + seconds))
    state = session.get(ClockState, 1)
    assert state is not None
    session.refresh(state)
    clock.set_offset(state.offset_seconds)
    record_audit(session, clock, actor_id=actor_id, action="clock.advance", target="sandbox_clock",
                 detail={"seconds": seconds, "offset_seconds": state.offset_seconds})
