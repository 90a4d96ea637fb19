"""The outbox worker: claims due messages, re-checks the contact policy at send time, hands
them to their channel and records the outcome, with retries and backoff.

Claim, send, acknowledge:

1. **claim** (one transaction for a batch): due ``queued`` messages, and ``sending`` ones
   whose claim expired (a worker died), are taken with ``SELECT ... FOR UPDATE SKIP LOCKED``
   on PostgreSQL (SQLite: the claim runs in a ``BEGIN IMMEDIATE`` transaction, which holds
   the database's write lock, so two workers never take the same row). The policy is
   checked again now; a message it refuses is blocked (or deferred to the next convenient
   hour) with the rule. The others become ``sending`` with a lease and an attempt journalled.
2. **send** each with its idempotency key. A message reclaimed after a crash is in doubt:
   the channel is asked first whether its key arrived (the SMTP relay's or the provider's
   lookup URL, the letter file). It is sent again only when the channel says it did not
   arrive; when the channel cannot tell (no lookup configured, lookup down) it is ``held``
   for a person to check, never sent twice on a guess.
3. **acknowledge** (one transaction for the batch): sent, or back to ``queued`` with a
   doubled delay, or ``failed`` after the last attempt.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from loanrecovery.comms.channels import Channel
from loanrecovery.comms.config import CommsSettings
from loanrecovery.comms.errors import ChannelError
from loanrecovery.comms.policy import Event, Profile, decide
from loanrecovery.comms.records import histories, policy_borrower
from loanrecovery.service.db.models import Borrower, CommAttempt, CommMessage

__all__ = ["Worker", "BatchReport", "backoff"]

logger = logging.getLogger(__name__)

_ADDRESS = {"email": "email", "sms": "phone", "voice": "phone", "letter": "address"}
_MAX_DELAY = 3600.0


def backoff(settings: CommsSettings, attempts: int) -> timedelta:
    """The delay before attempt ``attempts + 1``: doubled each time, at most one hour."""
    return timedelta(seconds=min(_MAX_DELAY, settings.backoff_seconds * 2 ** max(0, attempts - 1)))


@dataclass
class BatchReport:
    """Counts of one batch (ids and statuses only)."""

    claimed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


@dataclass
class _Job:
    message_id: int
    key: str
    channel: str
    address: str
    in_doubt: bool
    attempt_id: int
    message: CommMessage


class Worker:
    """Delivers the outbox; one per process (``loanrecovery comms worker``).

    ``channels`` builds one set of channels; each of the ``settings.senders`` sending threads
    gets its own (an SMTP connection is not shared between threads).
    """

    def __init__(
        self, factory: sessionmaker[Session], profile: Profile, settings: CommsSettings,
        channels: Callable[[], dict[str, Channel]], *, dialect: str,
    ) -> None:  # fmt: skip
        self.factory, self.profile, self.settings = factory, profile, settings
        self.make_channels, self.dialect = channels, dialect
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._local = threading.local()
        self._opened: list[dict[str, Channel]] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=settings.senders)

    @property
    def channels(self) -> dict[str, Channel]:
        """This thread's channels."""
        mine: dict[str, Channel] | None = getattr(self._local, "channels", None)
        if mine is None:
            mine = self.make_channels()
            self._local.channels = mine
            with self._lock:
                self._opened.append(mine)
        return mine

    def close(self) -> None:
        """Stop the sending threads and close every channel."""
        self._pool.shutdown(wait=True)
        for channels in self._opened:
            for ch in {id(c): c for c in channels.values()}.values():
                ch.close()
        self._opened.clear()

    # -- claim ---------------------------------------------------------------------------
    def _due(self, session: Session, now: datetime) -> list[CommMessage]:
        query = (
            select(CommMessage)
            .where(
                or_(
                    and_(CommMessage.status == "queued", CommMessage.next_attempt_at <= now),
                    and_(CommMessage.status == "sending", CommMessage.claimed_until < now),
                )
            )
            .order_by(CommMessage.next_attempt_at, CommMessage.id)
            .limit(self.settings.batch)
        )
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(session.scalars(query))

    def _claim(self, session: Session, report: BatchReport) -> list[_Job]:
        now = datetime.now(UTC)
        rows = self._due(session, now)
        report.claimed = len(rows)
        if not rows:
            return []
        bids = {r.borrower_id for r in rows}
        people = {b.borrower_id: b for b in session.scalars(
            select(Borrower).where(Borrower.borrower_id.in_(bids)))}  # fmt: skip
        history = histories(session, bids)
        lease = now + timedelta(seconds=self.settings.lease_seconds)
        jobs: list[tuple[CommMessage, CommAttempt, bool, str]] = []
        for row in rows:
            in_doubt = row.status == "sending"
            if in_doubt:  # its unfinished attempt will never finish: say so
                session.execute(
                    update(CommAttempt)
                    .where(CommAttempt.message_id == row.id, CommAttempt.outcome.is_(None))
                    .values(outcome="in_doubt", finished_at=now)
                )
            person = people.get(row.borrower_id)
            if not in_doubt:
                events = history.setdefault(row.borrower_id, [])
                decision = decide(self.profile, policy_borrower(person), events, at=now,
                                  medium=row.medium, kind=row.kind)  # fmt: skip
                row.rule, row.why, row.updated_at = decision.rule, decision.why, now
                if not decision.allowed:
                    if decision.retry_at is not None:
                        row.next_attempt_at = decision.retry_at
                        report.outcomes["deferred"] += 1
                    else:
                        row.status = "blocked"
                        report.outcomes["blocked"] += 1
                    continue
                events.append(Event(now, "contact", row.medium, row.kind))
            address = str(
                ((person.personal or {}) if person else {}).get(_ADDRESS[row.channel]) or ""
            )
            row.status, row.claimed_by, row.claimed_until = "sending", self.worker_id, lease
            row.attempts += 1
            row.updated_at = now
            attempt = CommAttempt(message_id=row.id, number=row.attempts, worker=self.worker_id,
                                  started_at=now)  # fmt: skip
            session.add(attempt)
            jobs.append((row, attempt, in_doubt, address))
        session.flush()
        return [_Job(r.id, r.key, r.channel, addr, doubt, a.id, r) for r, a, doubt, addr in jobs]

    # -- send ----------------------------------------------------------------------------
    def _send(self, job: _Job) -> tuple[str, str | None, str | None]:
        """(outcome, provider id, error) of one message."""
        channel = self.channels.get(job.channel)
        if channel is None:
            return "error", None, f"channel {job.channel!r} is not configured"
        if not job.address:
            return "error", None, f"no {_ADDRESS[job.channel]} on record"
        if job.in_doubt:
            arrived = channel.lookup(job.key)
            if arrived is None:  # cannot tell: a person checks, nothing is sent on a guess
                return "held", None, "in doubt after a crash; the channel cannot tell"
            if arrived:
                return "sent", job.key, None  # it did arrive before the crash
        try:
            return "sent", channel.send(job.message, job.address), None
        except ChannelError as exc:
            return "error", None, str(exc)

    # -- acknowledge ---------------------------------------------------------------------
    def _acknowledge(
        self, session: Session, results: list[tuple[_Job, str, str | None, str | None]],
        report: BatchReport,
    ) -> None:  # fmt: skip
        now = datetime.now(UTC)
        ids = [job.message_id for job, *_ in results]
        rows = {
            r.id: r for r in session.scalars(select(CommMessage).where(CommMessage.id.in_(ids)))
        }
        attempts = {
            a.id: a
            for a in session.scalars(
                select(CommAttempt).where(CommAttempt.id.in_([j.attempt_id for j, *_ in results]))
            )
        }
        for job, outcome, provider_id, error in results:
            row, attempt = rows[job.message_id], attempts[job.attempt_id]
            attempt.finished_at, attempt.outcome, attempt.error = now, outcome, error
            row.updated_at, row.claimed_until = now, None
            if outcome == "sent":
                row.sent_at = row.sent_at or now
                row.provider_id = provider_id
                if row.status == "sending":  # a status callback may already have said more
                    row.status = "sent"
            elif outcome == "held":
                row.status, row.last_error = "held", error
            elif row.attempts >= self.settings.max_attempts:
                row.status, row.last_error = "failed", error
            else:
                row.status, row.last_error = "queued", error
                row.next_attempt_at = now + backoff(self.settings, row.attempts)
            report.outcomes[row.status] += 1

    # -- loop ----------------------------------------------------------------------------
    def run_once(self) -> BatchReport:
        """Claim, send and acknowledge one batch."""
        report = BatchReport()
        with self.factory() as session, session.begin():
            jobs = self._claim(session, report)
        if not jobs:
            return report
        results = [
            (job, *outcome)
            for job, outcome in zip(jobs, self._pool.map(self._send, jobs), strict=True)
        ]
        with self.factory() as session, session.begin():
            self._acknowledge(session, results, report)
        logger.info("comms batch: claimed %d, %s", report.claimed, dict(report.outcomes))
        return report

    def run(self, *, max_seconds: float | None = None, idle_exit: float | None = None,
            poll: float = 1.0) -> Counter[str]:  # fmt: skip
        """Work until ``max_seconds`` pass, or nothing was due for ``idle_exit`` seconds."""
        total: Counter[str] = Counter()
        start = idle_since = time.monotonic()
        try:
            while max_seconds is None or time.monotonic() - start < max_seconds:
                report = self.run_once()
                total.update(report.outcomes)
                if report.claimed:
                    idle_since = time.monotonic()
                    continue
                if idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
                    break
                time.sleep(poll)
        finally:
            self.close()
        return total
