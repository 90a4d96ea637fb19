"""The scheduled sweep: promises whose date passed unpaid become Broken (with alerts), and
open cases still unassigned go to collectors with room, by priority."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from loanrecovery.service.cases import assign_open_cases
from loanrecovery.service.promises import sweep_broken_promises

__all__ = ["sweep", "SweepThread"]

logger = logging.getLogger(__name__)


def sweep(factory: sessionmaker[Session], *, actor: str = "system", capacity: int = 200) -> int:
    """Run one sweep in its own transaction; returns the promises marked Broken."""
    with factory() as session, session.begin():
        broken = sweep_broken_promises(session, actor=actor)
        assign_open_cases(session, capacity=capacity, actor=actor)
    return broken


class SweepThread(threading.Thread):
    """Runs :func:`sweep` every ``seconds`` until :meth:`stop`."""

    def __init__(self, factory: sessionmaker[Session], seconds: float, capacity: int) -> None:
        super().__init__(name="loanrecovery-sweep", daemon=True)
        self.capacity = capacity
        self.factory = factory
        self.seconds = seconds
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.seconds):
            try:
                sweep(self.factory, capacity=self.capacity)
            except Exception:  # a failed sweep is retried at the next tick
                logger.exception("promise sweep failed")

    def stop(self) -> None:
        """Stop after the current sweep."""
        self._stop_event.set()
