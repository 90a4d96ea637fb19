"""Group commit: single payment events that arrive together share one transaction.

Each single ``POST /payments`` used to be a transaction of its own: a dozen statements, a
commit (an fsync) and a re-score, for one event. Under a steady stream most of a request's
time went to that fixed cost. :class:`GroupCommit` lets the requests that arrive while a
transaction is running wait for the next one and go in it together, as one chunk of
:func:`~loanrecovery.service.intake.apply_chunk`: every event with all its effects, in one
transaction, answered only once it is committed. Nothing is deferred and no answer is given
before the commit, so an acknowledged event is never lost; a lone request is applied at
once (there is no timer to wait for).

One chunk at a time per process (one writer thread); events of different users go in separate
transactions (each audit row names its user). When a shared chunk fails (an event whose
key was used for another loan or amount, or any error), its events are applied again one
by one, so each request gets its own answer or its own error.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from loanrecovery.service.events import PaymentIn, PaymentOutcome

__all__ = ["GroupCommit"]

RunChunk = Callable[[Sequence[PaymentIn], str, "int | None"], list[PaymentOutcome]]
#: A writer thread with nothing to do for this long ends (the next event starts another).
IDLE_SECONDS = 30.0


@dataclass
class _Waiting:
    event: PaymentIn
    actor: str
    user_id: int | None
    settled: Callable[[], object] = field(repr=False, default=lambda: None)
    outcome: PaymentOutcome | None = None
    error: BaseException | None = None
    done: bool = False

    def result(self) -> PaymentOutcome:
        if self.error is not None:
            raise self.error
        assert self.outcome is not None
        return self.outcome


class GroupCommit:
    """Applies single events in shared transactions (see the module docstring).

    One writer thread per instance takes the waiting events, applies them and wakes their
    requests: a blocked thread (:meth:`submit`) or an awaiting coroutine
    (:meth:`submit_async`, which holds no thread of the server's pool while it waits).

    Parameters
    ----------
    run_chunk : callable
        ``run_chunk(events, actor, user_id)`` applies ``events`` in one transaction and
        returns one outcome per event, in order.
    max_events : int
        The most events one shared transaction takes.
    on_commit : callable, optional
        Called with the number of events of each committed transaction.
    """

    def __init__(
        self,
        run_chunk: RunChunk,
        *,
        max_events: int = 500,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        if max_events < 1:
            raise ValueError(f"max_events must be at least 1, got {max_events}")
        self._run_chunk = run_chunk
        self.max_events = max_events
        self._on_commit = on_commit
        self._queue: list[_Waiting] = []
        self._wake = threading.Condition()
        self._writer: threading.Thread | None = None
        #: How many transactions ran and how many events they held (``on_commit`` reports each).
        self.transactions = 0
        self.events = 0

    def submit(self, event: PaymentIn, *, actor: str, user_id: int | None) -> PaymentOutcome:
        """Apply ``event``, with the events waiting beside it, and return its outcome once
        its transaction committed.

        Raises
        ------
        ConflictingEvent, sqlalchemy.exc.SQLAlchemyError
            What applying this event alone raises.
        """
        settled = threading.Event()
        mine = _Waiting(event, actor, user_id, settled.set)
        self._enqueue(mine)
        settled.wait()
        return mine.result()

    async def submit_async(
        self, event: PaymentIn, *, actor: str, user_id: int | None
    ) -> PaymentOutcome:
        """:meth:`submit` for a coroutine: it waits on the event loop, not in a thread."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def settle() -> None:
            if not future.done():  # the request may have been cancelled meanwhile
                future.set_result(None)

        mine = _Waiting(event, actor, user_id, lambda: loop.call_soon_threadsafe(settle))
        self._enqueue(mine)
        await future
        return mine.result()

    def _enqueue(self, item: _Waiting) -> None:
        with self._wake:
            self._queue.append(item)
            if self._writer is None:
                self._start_writer()
            self._wake.notify()

    def _start_writer(self) -> None:  # called holding self._wake
        self._writer = threading.Thread(
            target=self._write, name="loanrecovery-group-commit", daemon=True
        )
        self._writer.start()

    def _write(self) -> None:
        try:
            while True:
                with self._wake:
                    if not self._queue:
                        self._wake.wait(IDLE_SECONDS)
                    if not self._queue:
                        return  # idle: the next event starts a new writer
                    taken = self._queue[: self.max_events]
                    del self._queue[: self.max_events]
                self._apply(taken)
        finally:
            with self._wake:
                self._writer = None
                if self._queue:  # ended abnormally with events waiting: hand them on
                    self._start_writer()

    def _apply(self, taken: list[_Waiting]) -> None:
        groups: dict[tuple[str, int | None], list[_Waiting]] = {}
        for item in taken:
            groups.setdefault((item.actor, item.user_id), []).append(item)
        try:
            for (actor, user_id), items in groups.items():
                self._apply_group(items, actor, user_id)
        finally:  # never leave a request waiting for a transaction that will not come
            for item in taken:
                if not item.done:
                    item.error = RuntimeError("the transaction holding this event was interrupted")
                    item.done = True
                item.settled()

    def _apply_group(self, items: list[_Waiting], actor: str, user_id: int | None) -> None:
        try:
            outcomes = self._run_chunk([i.event for i in items], actor, user_id)
        except Exception as exc:
            if len(items) == 1:
                items[0].error, items[0].done = exc, True
                return
            for item in items:  # each alone: its own answer or its own error
                self._alone(item)
            return
        self._committed(len(items))
        for item, outcome in zip(items, outcomes, strict=True):
            item.outcome, item.done = outcome, True

    def _committed(self, count: int) -> None:
        self.transactions += 1
        self.events += count
        if self._on_commit is not None:
            self._on_commit(count)

    def _alone(self, item: _Waiting) -> None:
        try:
            item.outcome = self._run_chunk([item.event], item.actor, item.user_id)[0]
            self._committed(1)
        except Exception as exc:  # handed to the request that sent it
            item.error = exc
        finally:
            item.done = True
