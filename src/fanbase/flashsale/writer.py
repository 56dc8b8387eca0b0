"""Group commit for flash-sale winners: gather wins for a few milliseconds, write them in one
transaction, then answer the whole batch. A fan is told "you won" only after their order is committed;
if the write fails, every unit of the batch goes back to the gate and every fan of the batch gets 503
(unless the COMMIT itself failed: then what was committed all the same is answered as won, see ``_failed``).
Inside the transaction the gate first admits the wins (``Gate.admit``): a shared gate that was rebuilt
from the database after a win was taken no longer counts that take, so such a win is refused (503, the
fan tries again) instead of being written on top of the rebuilt count.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from fanbase.clock import Clock
from fanbase.db import Database
from fanbase.errors import ServiceUnavailable
from fanbase.flashsale import service
from fanbase.flashsale.gate import Gate
from fanbase.orders.service import OrderPolicy, PlacedOrder

log = logging.getLogger("fanbase.flashsale.writer")


class GroupCommitWriter:
    def __init__(self, db: Database, clock: Clock, gate: Gate, policy: Callable[[], OrderPolicy],
                 max_batch: int = 2000, max_wait_seconds: float = 0.002) -> None:
        self.db = db
        self.clock = clock
        self.gate = gate
        self.policy = policy
        self.max_batch = max_batch
        self.max_wait = max_wait_seconds
        # (win, the gate's ticket for its take, the fan's answer); None stops the thread
        self._queue: queue.SimpleQueue[tuple[service.Win, object | None, Future[PlacedOrder]] | None] = \
            queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0

    def submit(self, win: service.Win) -> Future[PlacedOrder]:
        """Queue a win whose units the gate already took; the future resolves once it is committed."""
        self.start()
        future: Future[PlacedOrder] = Future()
        self._queue.put((win, self.gate.ticket(win.sale_id, win.customer_id, win.quantity), future))
        return future

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="flash-sale-writer", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self.max_wait
            stop = False
            while len(batch) < self.max_batch:
                timeout = deadline - time.monotonic()
                try:
                    item = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[tuple[service.Win, object | None, Future[PlacedOrder]]]) -> None:
        admitted = [False] * len(batch)
        created: list[PlacedOrder] = []
        try:
            states = {win.sale_id: self.gate.state(win.sale_id) for win, _, _ in batch}
            with self.db.uow() as session:
                admitted = self.gate.admit(session, [ticket for _, ticket, _ in batch])
                wins = [win for (win, _, _), ok in zip(batch, admitted, strict=True) if ok]
                created = service.write_wins(session, self.clock, self.policy(), wins,
                                             {k: v for k, v in states.items() if v is not None}) if wins else []
            self.batches += 1
        except Exception as error:
            self._failed(batch, admitted, created, error)
            return
        orders = iter(created)
        for (_, _, future), ok in zip(batch, admitted, strict=True):
            if ok:
                future.set_result(next(orders))
            else:  # taken from a gate that has since been rebuilt without it: nothing was written
                future.set_exception(ServiceUnavailable("The order could not be saved; please try again"))

    def _failed(self, batch: list[tuple[service.Win, object | None, Future[PlacedOrder]]], admitted: list[bool],
                created: list[PlacedOrder], error: Exception) -> None:
        """The batch's transaction failed. Before the COMMIT nothing was written: every unit goes back. If the
        rows were written, the COMMIT itself failed -- and may have succeeded all the same (the connection
        dropped before the answer): giving those units back would sell them twice, so look first. What is
        committed is answered as won; if we cannot tell, the units stay taken (the gate under-counts until
        it is rebuilt from the database) and the fans get 503."""
        log.error("writing %d flash-sale wins failed: %r", len(batch), error)
        committed: set[int] | None = set()
        if created:
            try:
                with self.db.read() as session:
                    committed = service.committed_orders(session, [order.id for order in created])
            except Exception:
                log.exception("could not tell whether %d flash-sale orders were committed", len(created))
                committed = None
        unavailable = error if isinstance(error, ServiceUnavailable) else \
            ServiceUnavailable("The order could not be saved; please try again")
        orders = iter(created)
        for (win, ticket, future), ok in zip(batch, admitted, strict=True):
            order = next(orders, None) if ok else None
            if order is not None and committed is not None and order.id in committed:
                future.set_result(order)
                continue
            if committed is not None:  # known not to be written
                self.gate.undo_take(win.sale_id, win.customer_id, win.quantity, ticket, ok)
            future.set_exception(unavailable)
