"""Group commit for flash-sale winners: gather wins for a few milliseconds, write them in one
transaction, then answer the whole batch. A fan is told "you won" only after their order is committed;
if the write fails, every unit of the batch goes back to the gate and every fan of the batch gets 503.
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
from fanbase.flashsale.gate import InProcessGate
from fanbase.orders.models import Order
from fanbase.orders.service import OrderPolicy

log = logging.getLogger("fanbase.flashsale.writer")


class GroupCommitWriter:
    def __init__(self, db: Database, clock: Clock, gate: InProcessGate, policy: Callable[[], OrderPolicy],
                 max_batch: int = 500, max_wait_seconds: float = 0.002) -> None:
        self.db = db
        self.clock = clock
        self.gate = gate
        self.policy = policy
        self.max_batch = max_batch
        self.max_wait = max_wait_seconds
        self._queue: queue.SimpleQueue[tuple[service.Win, Future[Order]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0

    def submit(self, win: service.Win) -> Future[Order]:
        """Queue a win whose units the gate already took; the future resolves once it is committed."""
        self.start()
        future: Future[Order] = Future()
        self._queue.put((win, future))
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

    def _write(self, batch: list[tuple[service.Win, Future[Order]]]) -> None:
        wins = [win for win, _ in batch]
        try:
            states = {w.sale_id: self.gate.state(w.sale_id) for w in wins}
            with self.db.uow() as session:
                created = service.write_wins(session, self.clock, self.policy(),
                                             wins, {k: v for k, v in states.items() if v is not None})
            self.batches += 1
        except Exception as error:
            log.exception("writing %d flash-sale wins failed; their units go back", len(batch))
            for win, future in batch:
                self.gate.give_back(win.sale_id, win.customer_id, win.quantity)
                future.set_exception(ServiceUnavailable("The order could not be saved; please try again")
                                     if not isinstance(error, ServiceUnavailable) else error)
            return
        for (_, future), order in zip(batch, created, strict=True):
            future.set_result(order)
