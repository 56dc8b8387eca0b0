"""The flash-sale gate in Redis, so that any number of ``fanbase serve`` processes share one sale.

Same decisions, in the same order, as ``InProcessGate`` (window, sold-out flag, reservation, per-customer
limit, take), each made by one Lua script (EVALSHA) per attempt. All keys of a sale carry the sale's hash
tag, ``fanbase:fs:{<sale_id>}:...``, so every script touches one slot and runs on Redis Cluster:

    loaded     the generation: a random token written last by the (atomic, once) load; no token, no sale
    remaining  units left                      soldout   set while remaining <= 0: answers everyone at once
    reserved   SET of customers                bought    HASH customer -> units taken (committed or in flight)
    meta       HASH units, limit, starts, ends (epoch seconds), expires, reservations (how many at the load)
    pending    HASH process -> units taken by that process and not yet admitted by its writer
    progress   HASH process -> when its pending units last moved (Redis time, ms)

The window is checked in this process from the sale's settings, which never change and are cached here
(``state``); the counters live only in Redis. A sale is loaded by the first attempt that finds it missing
(after the start, when reservations have closed), from committed rows, once: the load writes its marker
last, in one script, and only if there is none (or, for a rebuild, only over the generation it replaces).

The database is the truth and the gate a cache of it that may only under-count. The hard case is a
rebuild -- Redis restarted or flushed, a key lost, a process that died holding takes -- while wins taken
from the old state are still on their way to the database in some process's group-commit writer. A
rebuild reads committed rows; a win committed after that read is not in the new count, so if nothing
stopped it the new state would sell its unit a second time. Counting the wins in flight is not enough:
a flush wipes any counter kept in Redis (a "pending" counter included), no process knows the others'
queues, and waiting for a quiet period only makes the race unlikely (a writer can stall longer than any
period). So the choice here is a fence in the database, tied to the generation:

* every load writes a fresh generation token, and every take answers with the token it was taken under;
  the writer keeps it with the win (``ticket``: ``service.attempt`` takes and submits in one thread, and
  the writer's ``submit`` picks up what that thread's take left);
* the writer's transaction takes ``FOR SHARE`` on the sale's row, then asks Redis whether the win's
  generation is still the current one (``admit``), and writes only the wins that pass; the others are
  answered 503 (nothing written; the fan tries again) and their units were never in the new count;
* a rebuild takes ``FOR UPDATE`` on the sale's row, so it waits for every writer transaction that has
  admitted wins to commit, then reads committed rows and installs the new generation before letting go.
  (On SQLite, where ``FOR UPDATE`` is a no-op, both run as ``BEGIN IMMEDIATE`` write transactions, which
  the database runs one at a time.)

So a win is committed only if it was admitted under the generation that counted its take, and no
generation can be installed between that admission and the commit; every later rebuild reads the row.
No waiting for quiet periods and no clocks: correctness does not depend on timing. The price: wins in
flight at the moment of a rebuild get 503 instead of 201 (a few milliseconds' worth), and their units
are counted again by the rebuild, so none is lost.

Released purchases (unpaid orders that closed) return through ``service.take_back_released`` ->
``give_back``, exactly once: a rebuild counts a released purchase as still taken until that job has
returned it (``returned`` false), and does not mark anything itself, so it never races the job into
counting a unit twice.

The timer (``reconcile``, a scheduled job): under the same ``FOR UPDATE`` it lowers ``remaining`` to
``units - live purchases - pending`` if it is above that (it never raises it), and if some process has had
takes pending for longer than ``stale_after_seconds`` -- it died between "take" and "commit", or its
writer is stuck -- it rebuilds the sale from committed rows under a new generation, which returns those
units and fences that process's late wins out. A process can also die after its writer admitted a batch
(the units left ``pending``) and before the commit: those units are then in none of ``remaining``,
``pending``, the live purchases or the released ones still to be returned; a shortfall like that which
lasts longer than ``stale_after_seconds`` under one generation also rebuilds the sale. That is how a crash
never loses a unit for long. (Time decides only how soon such units come back; a process wrongly taken
for dead loses its wins in flight to 503s, never sells a unit twice.)

Redis must run with ``maxmemory-policy noeviction``. A key lost on its own all the same (``remaining``,
``meta``, ``bought``, which always holds a placeholder, or a ``reserved`` set that had members) is noticed
by the next attempt, which drops the generation and rebuilds as after a flush.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fanbase.clock import Clock
from fanbase.db import Database
from fanbase.errors import ServiceUnavailable
from fanbase.flashsale import service
from fanbase.flashsale.gate import Decision, Gate, SaleState
from fanbase.flashsale.models import FlashSale, Purchase, Reservation
from fanbase.i18n import N_

if TYPE_CHECKING:
    import redis

log = logging.getLogger("fanbase.flashsale.redis_gate")

CHUNK = 10_000  # members per SADD/HSET when loading a sale
KEEP_AFTER_END = 7 * 24 * 3600  # seconds the keys of a sale stay after it ends
BUSY = N_("The store is busy; please try again shortly")
WINDOW_RECHECK_SECONDS = 5.0  # how stale a process's copy of a sale's times may be if a message is lost

# KEYS: loaded remaining soldout reserved bought meta pending progress; ARGV: customer quantity process
TAKE = """
local gen = redis.call('GET', KEYS[1])
if not gen then return {'not_loaded'} end
local remaining = tonumber(redis.call('GET', KEYS[2]))
local limit = tonumber(redis.call('HGET', KEYS[6], 'limit'))
if not remaining or not limit or redis.call('EXISTS', KEYS[5]) == 0 then
  redis.call('DEL', KEYS[1])
  return {'not_loaded'}
end
if remaining <= 0 or redis.call('EXISTS', KEYS[3]) == 1 then return {'sold_out', gen, remaining} end
if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 0 then
  if redis.call('EXISTS', KEYS[4]) == 0 and tonumber(redis.call('HGET', KEYS[6], 'reservations') or '0') > 0 then
    redis.call('DEL', KEYS[1])
    return {'not_loaded'}
  end
  return {'not_reserved', gen, remaining}
end
local quantity = tonumber(ARGV[2])
if tonumber(redis.call('HGET', KEYS[5], ARGV[1]) or '0') + quantity > limit then
  return {'limit_exceeded', gen, remaining}
end
if remaining < quantity then return {'sold_out', gen, remaining} end
remaining = redis.call('DECRBY', KEYS[2], quantity)
redis.call('HINCRBY', KEYS[5], ARGV[1], quantity)
redis.call('HINCRBY', KEYS[7], ARGV[3], quantity)
local t = redis.call('TIME')
redis.call('HSETNX', KEYS[8], ARGV[3], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
if remaining <= 0 then
  redis.call('SET', KEYS[3], '1')
  local expires = redis.call('HGET', KEYS[6], 'expires')
  if expires then redis.call('EXPIREAT', KEYS[3], expires) end
end
return {'taken', gen, remaining}
"""

# KEYS: loaded pending progress; ARGV: generation process units
ADMIT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('HINCRBY', KEYS[2], ARGV[2], -tonumber(ARGV[3])) <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('HDEL', KEYS[3], ARGV[2])
else
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[3], ARGV[2], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
return 1
"""

# KEYS: loaded remaining soldout bought meta pending progress
# ARGV: generation ('' = whichever is current) customer quantity process ('' = the units were not pending)
GIVE_BACK = """
local gen = redis.call('GET', KEYS[1])
if not gen or (ARGV[1] ~= '' and gen ~= ARGV[1]) then return -1 end
local units = tonumber(redis.call('HGET', KEYS[5], 'units'))
if not units or not redis.call('GET', KEYS[2]) then
  redis.call('DEL', KEYS[1])
  return -1
end
local quantity = tonumber(ARGV[3])
local remaining = redis.call('INCRBY', KEYS[2], quantity)
if remaining > units then
  remaining = units
  redis.call('SET', KEYS[2], units, 'KEEPTTL')
end
if remaining > 0 then redis.call('DEL', KEYS[3]) end
if redis.call('HINCRBY', KEYS[4], ARGV[2], -quantity) <= 0 then redis.call('HDEL', KEYS[4], ARGV[2]) end
if ARGV[4] ~= '' and redis.call('HINCRBY', KEYS[6], ARGV[4], -quantity) <= 0 then
  redis.call('HDEL', KEYS[6], ARGV[4])
  redis.call('HDEL', KEYS[7], ARGV[4])
end
return remaining
"""

# KEYS: loaded remaining soldout reserved bought meta pending progress stage
# ARGV: expected generation ('' = none) new-generation remaining units limit starts ends expires
#       customers-in-stage reservations-loaded
INSTALL = """
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then
  redis.call('DEL', KEYS[9])
  return {'loaded', current or ''}
end
if redis.call('HLEN', KEYS[9]) ~= tonumber(ARGV[9]) or redis.call('SCARD', KEYS[4]) < tonumber(ARGV[10]) then
  redis.call('DEL', KEYS[9])
  return {'incomplete', ''}
end
redis.call('DEL', KEYS[3], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
if tonumber(ARGV[9]) > 0 then redis.call('RENAME', KEYS[9], KEYS[5]) else redis.call('HSET', KEYS[5], '_', 0) end
redis.call('HSET', KEYS[7], '_', 0)
redis.call('HSET', KEYS[8], '_', 0)
redis.call('SET', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[6], 'units', ARGV[4], 'limit', ARGV[5], 'starts', ARGV[6], 'ends', ARGV[7],
           'expires', ARGV[8], 'reservations', redis.call('SCARD', KEYS[4]))
if tonumber(ARGV[3]) <= 0 then redis.call('SET', KEYS[3], '1') end
redis.call('SET', KEYS[1], ARGV[2])
for i = 1, 8 do redis.call('EXPIREAT', KEYS[i], ARGV[8]) end
return {'installed', ARGV[2]}
"""

# KEYS: loaded remaining soldout meta; ARGV: generation units-too-many
LOWER = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] or not redis.call('GET', KEYS[2]) then return 0 end
if redis.call('DECRBY', KEYS[2], ARGV[2]) <= 0 then
  redis.call('SET', KEYS[3], '1')
  local expires = redis.call('HGET', KEYS[4], 'expires')
  if expires then redis.call('EXPIREAT', KEYS[3], expires) end
end
return 1
"""


@dataclass(frozen=True)
class Ticket:
    """A take, as the writer carries it to ``admit``: under which generation and by which process."""

    sale_id: int
    customer_id: int
    quantity: int
    generation: str
    process: str


@dataclass
class _Keys:
    loaded: str
    remaining: str
    soldout: str
    reserved: str
    bought: str
    meta: str
    pending: str
    progress: str
    prefix: str = field(repr=False)

    def stage(self, generation: str) -> str:
        return f"{self.prefix}stage:{generation}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class RedisGate:
    """The gate of every process of a deployment, in Redis (see the module docstring).

    ``db`` is needed to (re)build a sale from committed rows and to read a sale's settings the first time
    this process sees it; without it (unit tests of the decisions) sales are installed with ``load_once``.
    """

    def __init__(self, redis_url_or_client: str | redis.Redis, db: Database | None = None, *,
                 prefix: str = "fanbase:fs", stale_after_seconds: float = 15.0,
                 sold_out_memo_seconds: float = 0.05) -> None:
        import redis as redis_module

        if isinstance(redis_url_or_client, str):
            self.redis: redis.Redis = redis_module.Redis.from_url(
                redis_url_or_client, socket_timeout=2, socket_connect_timeout=2, decode_responses=True)
        else:
            self.redis = redis_url_or_client
        self.db = db
        self.prefix = prefix
        self.process = uuid.uuid4().hex  # this gate's name in ``pending``
        self.stale_after_ms = int(stale_after_seconds * 1000)
        # After the sell-out this process answers "sold out" from a copy of the flag for this long, so the
        # crowd that keeps trying costs Redis nothing; a unit given back elsewhere is seen that much later.
        self.sold_out_memo = sold_out_memo_seconds
        self._sold_out: dict[int, float] = {}  # sale -> until when (monotonic)
        self._short_since: dict[int, tuple[str, int]] = {}  # sale -> (generation, Redis ms) of a shortfall seen
        self._window_checked: dict[int, float] = {}  # sale -> when to re-read its times (monotonic)
        self._errors: tuple[type[Exception], ...] = (redis_module.RedisError,)
        self._sales: dict[int, SaleState] = {}
        self._lock = threading.Lock()
        self._loading: dict[int, threading.Lock] = {}
        self._local = threading.local()
        self._take = self.redis.register_script(TAKE)
        self._admit = self.redis.register_script(ADMIT)
        self._give = self.redis.register_script(GIVE_BACK)
        self._install = self.redis.register_script(INSTALL)
        self._lower = self.redis.register_script(LOWER)

    def keys(self, sale_id: int) -> _Keys:
        base = f"{self.prefix}:{{{sale_id}}}:"
        return _Keys(loaded=base + "loaded", remaining=base + "remaining", soldout=base + "soldout",
                     reserved=base + "reserved", bought=base + "bought", meta=base + "meta", pending=base + "pending",
                     progress=base + "progress", prefix=base)

    # --- the Gate interface ---------------------------------------------------------------------------

    def state(self, sale_id: int) -> SaleState | None:
        """The sale's settings, cached in this process (read from the database the first time, so that
        ``service.ensure_loaded`` never rebuilds counters for this gate). ``remaining`` is the last figure
        this process saw, ``reserved`` and ``bought`` are empty: they live in Redis."""
        cached = self._sales.get(sale_id)
        if cached is not None and self.db is not None and time.monotonic() >= self._window_checked.get(sale_id, 0.0):
            self._recheck_window(cached)
        if cached is not None or self.db is None:
            return cached
        self._window_checked[sale_id] = time.monotonic() + WINDOW_RECHECK_SECONDS
        with self.db.read() as session:
            sale = session.get(FlashSale, sale_id)
            if sale is None:
                return None
            settings = service.sale_state(sale, sale.units - service.live_units(session, sale_id))
        return self._remember(settings)

    def load_once(self, state: SaleState) -> SaleState:
        """Install a sale built from committed data unless Redis already holds it (atomic, once). Not
        fenced against writers: the rebuilds of a running sale go through ``rebuild``."""
        cached = self._remember(replace(state, reserved=set(), bought={}))
        try:
            loaded = self._add_reservations(state.sale_id, state.reserved)
            self._install_state(state, expected="", reservations=loaded)
            self.remaining(state.sale_id)  # the figure in Redis, whoever loaded it
        except self._errors as error:
            raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"}) from error
        return cached

    def add_reservation(self, sale_id: int, customer_id: int) -> None:
        try:
            self._add_reservations(sale_id, [customer_id])
        except self._errors:  # committed in the database: the next rebuild of the sale will have it
            log.exception("could not add customer %s to the reservations of sale %s in Redis", customer_id, sale_id)

    def remaining(self, sale_id: int) -> int | None:
        keys = self.keys(sale_id)
        try:
            loaded, remaining = self.redis.mget([keys.loaded, keys.remaining])
        except self._errors as error:
            raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"}) from error
        if loaded is None or remaining is None:
            return None
        value = int(remaining)
        cached = self._sales.get(sale_id)
        if cached is not None:
            cached.remaining = value
        return value

    def _recheck_window(self, cached: SaleState) -> None:
        """In case this process missed a ``FLASH_SALE_CHANGED``: the sale's times from the database, at most
        every few seconds (one primary-key read)."""
        assert self.db is not None
        self._window_checked[cached.sale_id] = time.monotonic() + WINDOW_RECHECK_SECONDS
        try:
            with self.db.read() as session:
                service.refresh_window(session, self, cached.sale_id)
        except Exception:  # the database is away: keep deciding with what we have
            log.warning("could not re-read the times of sale %s", cached.sale_id, exc_info=True)

    def set_window(self, sale_id: int, starts_at: datetime, ends_at: datetime) -> None:
        """The window is decided in each process from its copy of the sale's settings: every process is
        told (``FLASH_SALE_CHANGED``); ``state`` also re-reads them now and then in case a message is lost."""
        state = self._sales.get(sale_id)
        if state is not None:
            state.starts_at, state.ends_at = starts_at, ends_at

    def is_reserved(self, sale_id: int, customer_id: int) -> bool:
        keys = self.keys(sale_id)
        for _attempt in range(3):
            try:
                pipe = self.redis.pipeline(transaction=False)
                pipe.get(keys.loaded)
                pipe.sismember(keys.reserved, str(customer_id))
                loaded, member = pipe.execute()
            except self._errors as error:
                raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"}) from error
            if loaded is not None:
                return bool(member)
            self._rebuild_missing(sale_id)  # flushed or never loaded: the reservations come back with it
        raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"})

    def try_take(self, sale_id: int, customer_id: int, quantity: int, now: datetime) -> Decision:
        state = self.state(sale_id)
        if state is None:
            raise KeyError(sale_id)
        if now < state.starts_at:
            return Decision.SALE_NOT_STARTED
        if now >= state.ends_at:
            return Decision.SALE_ENDED
        if self._sold_out.get(sale_id, 0.0) > time.monotonic():
            return Decision.SOLD_OUT
        keys = self.keys(sale_id)
        for _attempt in range(3):
            try:
                reply = self._take(keys=[keys.loaded, keys.remaining, keys.soldout, keys.reserved, keys.bought,
                                         keys.meta, keys.pending, keys.progress],
                                   args=[customer_id, quantity, self.process])
            except self._errors as error:
                raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"}) from error
            outcome = _text(reply[0])
            if outcome == "not_loaded":
                self._rebuild_missing(sale_id)
                continue
            state.remaining = int(reply[2])
            if outcome == "sold_out" and state.remaining <= 0 and self.sold_out_memo > 0:
                self._sold_out[sale_id] = time.monotonic() + self.sold_out_memo
            if outcome == "taken":
                self._local.ticket = Ticket(sale_id, customer_id, quantity, _text(reply[1]), self.process)
            return Decision(outcome)
        raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"})

    def give_back(self, sale_id: int, customer_id: int, quantity: int) -> None:
        """Units of a released purchase (``service.take_back_released``), to whichever generation is
        current; nothing if the sale is not loaded (its next rebuild counts the purchase as returned)."""
        try:
            self._give_back(sale_id, customer_id, quantity, generation="", process="")
        except self._errors as error:  # the job's transaction rolls back and tries again next round
            raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"}) from error

    # --- the writer's side --------------------------------------------------------------------------

    def ticket(self, sale_id: int, customer_id: int, quantity: int) -> Ticket | None:
        """The take this thread's ``try_take`` just made (``service.attempt`` submits in the same thread
        right after it); None if there is none for this win, and the writer will not commit it."""
        ticket: Ticket | None = getattr(self._local, "ticket", None)
        self._local.ticket = None
        if ticket is None or (ticket.sale_id, ticket.customer_id, ticket.quantity) != (sale_id, customer_id,
                                                                                        quantity):
            log.error("no take of this thread matches a win of sale %s; it will not be written", sale_id)
            return None
        return ticket

    def admit(self, session: Session, tickets: Sequence[object | None]) -> list[bool]:
        """In the writer's transaction: hold the sales' rows ``FOR SHARE`` (no rebuild until the commit),
        then admit the wins whose generation is still current and move their units out of ``pending``."""
        admitted = [False] * len(tickets)
        groups: dict[tuple[int, str, str], list[int]] = {}
        for index, ticket in enumerate(tickets):
            if isinstance(ticket, Ticket):
                groups.setdefault((ticket.sale_id, ticket.generation, ticket.process), []).append(index)
        if not groups:
            return admitted
        sale_ids = sorted({sale_id for sale_id, _, _ in groups})
        session.execute(select(FlashSale.id).where(FlashSale.id.in_(sale_ids)).order_by(FlashSale.id)
                        .with_for_update(read=True)).all()
        for (sale_id, generation, process), indexes in groups.items():
            keys = self.keys(sale_id)
            units = sum(t.quantity for t in (tickets[i] for i in indexes) if isinstance(t, Ticket))
            if int(self._admit(keys=[keys.loaded, keys.pending, keys.progress], args=[generation, process, units])):
                for index in indexes:
                    admitted[index] = True
        return admitted

    def undo_take(self, sale_id: int, customer_id: int, quantity: int, ticket: object | None,
                  admitted: bool) -> None:
        """A win that was not committed: its units go back if its generation is still current."""
        if not isinstance(ticket, Ticket):
            return
        try:
            self._give_back(sale_id, customer_id, quantity, generation=ticket.generation,
                            process="" if admitted else ticket.process)
        except self._errors:  # still pending for this process: the timer's rebuild returns them
            log.exception("could not give %d unit(s) of sale %s back to Redis", quantity, sale_id)

    # --- loading, rebuilding, reconciling -----------------------------------------------------------

    def rebuild(self, sale_id: int, *, replacing: str | None = None) -> str | None:
        """Build the sale from committed rows, fenced against writers (see the module docstring): when
        Redis holds no state for it (``replacing`` None), or to replace the generation ``replacing``.
        Returns the generation in place afterwards (None if there is no such sale)."""
        db = self._database()
        reservations = 0
        if replacing is None:  # reservations only ever grow: added before taking the lock, in chunks
            with db.read() as session:
                reservations = self._add_reservations(sale_id, session.scalars(
                    select(Reservation.customer_id).where(Reservation.sale_id == sale_id)
                    .execution_options(yield_per=CHUNK)))
        with db.uow() as session:
            return self._rebuild_locked(session, sale_id, replacing, reservations)

    def reconcile(self, session: Session, sale_id: int) -> int:
        """The timer, in the caller's transaction: 1 if it changed the sale's gate, else 0.

        Under ``FOR UPDATE`` no batch is between admission and commit, so every unit is in exactly one of
        ``remaining``, ``pending``, the live purchases, or nowhere (under-counted): ``remaining + pending +
        live <= units``. Redis is read first, in one MULTI, and the database after it, when ``live`` can
        only be lower (orders close, none are written); so an excess seen here is real, and taking it off
        ``remaining`` can never take a unit that the gate rightly holds."""
        sale = session.scalar(select(FlashSale).where(FlashSale.id == sale_id).with_for_update())
        if sale is None:
            return 0
        keys = self.keys(sale_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.get(keys.loaded)
        pipe.get(keys.remaining)
        pipe.hgetall(keys.pending)
        pipe.hgetall(keys.progress)
        pipe.time()
        generation, remaining, pending, progress, (seconds, micros) = pipe.execute()
        if generation is None or remaining is None:
            return 0  # not loaded: the next attempt rebuilds it
        generation = _text(generation)
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        held = {_text(process): int(units) for process, units in pending.items() if int(units) > 0}
        since = {_text(process): int(moment) for process, moment in progress.items()}
        stale = {process: units for process, units in held.items()
                 if now_ms - since.get(process, 0) > self.stale_after_ms}
        if stale:
            log.warning("sale %s: %d unit(s) taken by a process that has not written them for %.0f s or more; "
                        "rebuilding from committed orders", sale_id, sum(stale.values()), self.stale_after_ms / 1000)
            self._rebuild_locked(session, sale_id, generation, 0)
            return 1
        excess = int(remaining) + sum(held.values()) + service.live_units(session, sale_id) - sale.units
        if excess > 0:
            self._short_since.pop(sale_id, None)
            log.warning("sale %s: the gate counted %d unit(s) more than the database allows; lowered", sale_id,
                        excess)
            return int(self._lower(keys=[keys.loaded, keys.remaining, keys.soldout, keys.meta],
                                   args=[generation, excess]))
        # Units in none of remaining, pending, live or released-to-be-returned: a process died after its
        # writer admitted them and before its commit (its transaction rolled back). A failed write holds
        # units like this only until it gives them back, so only a shortfall that lasts is acted on.
        shortfall = -excess - service.released_units_to_return(session, sale_id)
        if shortfall <= 0:
            self._short_since.pop(sale_id, None)
            return 0
        seen_generation, since_ms = self._short_since.setdefault(sale_id, (generation, now_ms))
        if seen_generation != generation:
            self._short_since[sale_id] = (generation, now_ms)
            return 0
        if now_ms - since_ms <= self.stale_after_ms:
            return 0
        log.warning("sale %s: %d unit(s) missing from the gate for %.0f s or more (a process died while writing "
                    "them); rebuilding from committed orders", sale_id, shortfall, self.stale_after_ms / 1000)
        self._short_since.pop(sale_id, None)
        self._rebuild_locked(session, sale_id, generation, 0)
        return 1

    def _rebuild_missing(self, sale_id: int) -> None:
        """An attempt found no state: rebuild it, once per process at a time (the database lock and the
        expected generation make it once across processes)."""
        if self.db is None:
            raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"})
        with self._lock:
            lock = self._loading.setdefault(sale_id, threading.Lock())
        with lock:
            try:
                if self.redis.exists(self.keys(sale_id).loaded):
                    return
                self.rebuild(sale_id)
            except self._errors as error:
                raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"}) from error
            except ServiceUnavailable:
                raise
            except Exception as error:  # the database is unavailable: no decision without the truth
                log.exception("could not rebuild the gate of sale %s", sale_id)
                raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"}) from error

    def _rebuild_locked(self, session: Session, sale_id: int, replacing: str | None,
                        reservations: int) -> str | None:
        sale = session.scalar(select(FlashSale).where(FlashSale.id == sale_id).with_for_update())
        if sale is None:
            return None
        current = self.redis.get(self.keys(sale_id).loaded)
        if (current or None) != replacing:  # someone else loaded or rebuilt it meanwhile
            return None if current is None else _text(current)
        # Purchases still taken: live, or released but not yet returned to a gate by take_back_released
        # (which will return them, exactly once). Nothing is marked here, so nothing races that job.
        bought = {int(customer): int(units) for customer, units in session.execute(
            select(Purchase.customer_id, func.sum(Purchase.quantity))
            .where(Purchase.sale_id == sale_id, or_(Purchase.released_at.is_(None), Purchase.returned.is_(False)))
            .group_by(Purchase.customer_id))}
        state = service.sale_state(sale, sale.units - sum(bought.values()))
        state.bought = bought
        self._remember(replace(state, bought={}))
        return self._install_state(state, expected=replacing or "", reservations=reservations)

    def _install_state(self, state: SaleState, *, expected: str, reservations: int) -> str:
        keys = self.keys(state.sale_id)
        generation = uuid.uuid4().hex
        stage = keys.stage(generation)
        if state.bought:
            pipe = self.redis.pipeline(transaction=False)
            items = list(state.bought.items())
            for start in range(0, len(items), CHUNK):
                pipe.hset(stage, mapping=dict(items[start:start + CHUNK]))
            pipe.expire(stage, 600)
            pipe.execute()
        expires = max(_epoch(state.ends_at), int(time.time())) + KEEP_AFTER_END
        outcome, current = self._install(
            keys=[keys.loaded, keys.remaining, keys.soldout, keys.reserved, keys.bought, keys.meta, keys.pending,
                  keys.progress, stage],
            args=[expected, generation, state.remaining, state.units, state.per_customer_limit,
                  _epoch(state.starts_at), _epoch(state.ends_at), expires, len(state.bought), reservations])
        outcome, current = _text(outcome), _text(current)
        if outcome == "incomplete":  # Redis lost keys while we were loading: the next attempt starts again
            raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"})
        if outcome == "installed":
            log.info("sale %s loaded into Redis: %s unit(s) left, generation %s", state.sale_id, state.remaining,
                     current)
            cached = self._sales.get(state.sale_id)
            if cached is not None:
                cached.remaining = state.remaining
            self._sold_out.pop(state.sale_id, None)
        return current

    def _add_reservations(self, sale_id: int, customers: Iterable[int]) -> int:
        """SADD in chunks; returns how many were given. The set only ever grows, so this is safe at any
        time, loaded or not."""
        key = self.keys(sale_id).reserved
        count = 0
        batch: list[int] = []

        def send() -> None:
            pipe = self.redis.pipeline(transaction=False)
            pipe.sadd(key, *batch)
            pipe.expire(key, KEEP_AFTER_END * 5, nx=True)  # until a load sets the sale's own expiry
            pipe.execute()

        for customer in customers:
            batch.append(customer)
            if len(batch) == CHUNK:
                send()
                count, batch = count + len(batch), []
        if batch:
            send()
            count += len(batch)
        return count

    def _give_back(self, sale_id: int, customer_id: int, quantity: int, *, generation: str, process: str) -> None:
        keys = self.keys(sale_id)
        remaining = int(self._give(keys=[keys.loaded, keys.remaining, keys.soldout, keys.bought, keys.meta,
                                         keys.pending, keys.progress],
                                   args=[generation, customer_id, quantity, process]))
        cached = self._sales.get(sale_id)
        if cached is not None and remaining >= 0:
            cached.remaining = remaining
        self._sold_out.pop(sale_id, None)

    def _remember(self, state: SaleState) -> SaleState:
        with self._lock:
            return self._sales.setdefault(state.sale_id, state)

    def _database(self) -> Database:
        if self.db is None:
            raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"})
        return self.db


def reconcile_gates(session: Session, gate: Gate, clock: Clock) -> int:
    """Scheduled: reconcile every live sale's Redis gate with the database (0 for an in-process gate,
    which is rebuilt when its process starts)."""
    if not isinstance(gate, RedisGate):
        return 0
    now = clock.now()
    return sum(gate.reconcile(session, sale_id) for sale_id in session.scalars(
        select(FlashSale.id).where(FlashSale.starts_at <= now, FlashSale.ends_at > now).order_by(FlashSale.id)))
