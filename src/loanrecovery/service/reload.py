"""Picking up the bundle of the newest refresh: ``loanrecovery refresh`` writes the bundle's
id and file into ``meta`` (``bundle_id``, ``bundle_path``); a running server checks them every
few seconds and, when the id moved, loads the file in the background and swaps it in (the
ledger's scorer and the one ``/healthz`` reports). Requests never wait for the load."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from loanrecovery.bundle import load_bundle
from loanrecovery.service.db.models import Meta
from loanrecovery.service.deps import Services
from loanrecovery.service.heap import freeze_long_lived
from loanrecovery.service.scoring import Scorer

__all__ = ["stored_bundle", "BundleWatcher"]

logger = logging.getLogger(__name__)


def stored_bundle(factory: sessionmaker[Session]) -> tuple[str | None, str | None]:
    """The newest refresh's bundle id and file (None, None before any refresh)."""
    with factory() as session:
        rows = dict(
            session.execute(
                select(Meta.key, Meta.value).where(Meta.key.in_(("bundle_id", "bundle_path")))
            ).all()
        )
    return rows.get("bundle_id"), rows.get("bundle_path")


def _load(path: str, expected: str) -> Scorer | None:
    if not Path(path).is_file():
        logger.warning("refreshed bundle file %s does not exist here; keeping the current", path)
        return None
    bundle = load_bundle(path).prepare()
    if bundle.bundle_id != expected:
        logger.warning("bundle file %s is not bundle %s; keeping the current", path, expected)
        return None
    return Scorer(bundle)


class BundleWatcher(threading.Thread):
    """Every ``seconds``, loads the refreshed bundle when ``meta.bundle_id`` moved from the
    last id seen (at start-up: the one stored then) and swaps it into ``services``."""

    def __init__(self, services: Services, seconds: float, seen: str | None) -> None:
        super().__init__(name="loanrecovery-bundle-watch", daemon=True)
        self.services = services
        self.seconds = seconds
        self.seen = seen
        self._stop_event = threading.Event()

    def check(self) -> bool:
        """Load and swap in the refreshed bundle if it moved; returns whether it swapped."""
        bundle_id, path = stored_bundle(self.services.reader)
        if bundle_id is None or bundle_id == self.seen or path is None:
            return False
        scorer = _load(path, bundle_id)
        self.seen = bundle_id
        if scorer is None:
            return False
        self.services.scorer = scorer
        self.services.ledger.scorer = scorer
        freeze_long_lived()  # the new bundle's objects; the old one's may now be collected
        logger.info("loaded bundle %s of the newest refresh", bundle_id)
        return True

    def run(self) -> None:
        while not self._stop_event.wait(self.seconds):
            try:
                self.check()
            except Exception:  # retried at the next tick
                logger.exception("checking for a refreshed bundle failed")

    def stop(self) -> None:
        """Stop after the current check."""
        self._stop_event.set()
