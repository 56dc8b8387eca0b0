"""Telling every server process about a change, after it is committed.

Two kinds of news today: a token was revoked (every process must refuse it at once) and the catalogue or
stock changed (every process drops its cached product pages). With one process the news is handled in
place (``LocalBroadcast``); with ``FANBASE_REDIS_URL`` it goes through Redis pub/sub (``RedisBroadcast``)
to all processes. Losing a message is harmless by design: revocations are also re-read from the
database every two seconds and product pages expire on their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import orjson

log = logging.getLogger("fanbase.broadcast")

TOKEN_REVOKED = "token_revoked"
CATALOG_CHANGED = "catalog_changed"
FLASH_SALE_CHANGED = "flash_sale_changed"  # payload: the sale id; its times changed (ended early)
Handler = Callable[[str, str], None]  # (topic, payload)


class Broadcast(Protocol):
    def publish(self, topic: str, payload: str = "") -> None: ...

    def subscribe(self, handler: Handler) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class LocalBroadcast:
    """One process: news is handled right away, in the publishing thread."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def publish(self, topic: str, payload: str = "") -> None:
        for handler in self._handlers:
            handler(topic, payload)

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class RedisBroadcast:
    """Many processes: Redis pub/sub on one channel; each process listens in a background thread and
    also handles its own news at once (so a single process does not depend on the round trip)."""

    def __init__(self, url: str, channel: str = "fanbase:events") -> None:
        import redis

        self.channel = channel
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._local = LocalBroadcast()
        self._thread: Any = None
        self._pubsub: Any = None
        self._lock = threading.Lock()

    def publish(self, topic: str, payload: str = "") -> None:
        self._local.publish(topic, payload)
        try:
            self._redis.publish(self.channel, orjson.dumps({"topic": topic, "payload": payload}))
        except Exception:  # the news still arrives by the slower paths (see module docstring)
            log.warning("could not publish %s to Redis", topic, exc_info=True)

    def subscribe(self, handler: Handler) -> None:
        self._local.subscribe(handler)

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            self._pubsub.subscribe(**{self.channel: self._on_message})
            self._thread = self._pubsub.run_in_thread(sleep_time=0.5, daemon=True,
                                                      exception_handler=self._on_listener_error)

    def _on_message(self, message: dict[str, Any]) -> None:
        try:
            news = orjson.loads(message["data"])
            self._local.publish(str(news["topic"]), str(news.get("payload", "")))
        except Exception:
            log.warning("ignoring a malformed broadcast message", exc_info=True)

    @staticmethod
    def _on_listener_error(error: BaseException, pubsub: Any, thread: Any) -> None:
        log.warning("Redis listener error (will reconnect): %s", error)

    def stop(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._thread.stop()
                self._thread.join(timeout=2)
                self._thread = None
            if self._pubsub is not None:
                self._pubsub.close()
                self._pubsub = None
        self._redis.close()


def make_broadcast(redis_url: str | None) -> Broadcast:
    return RedisBroadcast(redis_url) if redis_url else LocalBroadcast()
