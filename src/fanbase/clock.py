"""The only source of "now". Services take a Clock; tests use a FixedClock they can move."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; for tests and simulations."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def set(self, when: datetime) -> None:
        self._now = when


class SandboxClock:
    """Wall-clock time plus an offset that staff may only increase (sandbox mode).

    The offset is persisted (see ``fanbase.sandbox``) so that every process agrees after it reloads.
    """

    def __init__(self, base: Clock | None = None, offset_seconds: float = 0.0) -> None:
        self.base: Clock = base or SystemClock()
        self.offset = timedelta(seconds=offset_seconds)

    def now(self) -> datetime:
        return self.base.now() + self.offset

    def set_offset(self, seconds: float) -> None:
        # never move backwards: time-based rules assume time only increases
        self.offset = max(self.offset, timedelta(seconds=seconds))
