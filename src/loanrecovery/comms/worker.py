"""The outbox worker: claims due messages, re-checks the contact policy at send time, hands
them to their channel and records the outcome, with retries and backoff.

Claim, send, acknowledge:

1. **claim** (one transaction for a batch): due ``queued`` messages, and ``sending`` ones
   whose claim expired (a worker died), are taken with ``SELECT ... FOR UPDATE SKIP LOCKED``
   on PostgreSQL (SQLite: the claim runs in a ``BEGIN IMMEDIATE`` transaction, which holds
   the database's write lock, so two workers never take the same row). The policy is
   checked again now; a message it refuses is blocked (or deferred to the next convenient
   hour) with the rule, and an instalment reminder whose instalment was paid since it was
   scheduled is blocked (rule ``instalment paid``). The others become ``sending`` with a
   lease and an attempt journalled.
2. **send** each with its idempotency key. A message reclaimed after a crash is in doubt:
   the channel is asked first whether its key arrived (the SMTP relay's or the provider's
   lookup URL, the letter file). It is sent again only when the channel says it did not
   arrive; when the channel cannot tell (no lookup configured, lookup down) it is ``held``
   for a person to check, never sent twice on a guess.
3. **acknowledge** (one transaction for the batch): sent, or back to ``queued`` with a
   doubled delay, or ``failed`` after the last attempt; ``held`` when in doubt and the
   channel cannot tell.

A batch costs a fixed handful of statements whatever its size (the claimed messages are
updated with one ``UPDATE ... WHERE id IN``, their attempts inserted in one multi-row
``INSERT ... RETURNING``, the sent ones acknowledged with one ``UPDATE ... FROM unnest`` on
PostgreSQL), so a networked database pays a few round trips per batch, not per message.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, and_, bindparam, case, func, insert, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from loanrecovery.comms.channels import Channel
from loanrecovery.comms.config import CommsSettings
from loanrecovery.comms.errors import ChannelError
from loanrecovery.comms.instalments import paid_since_scheduled
from loanrecovery.comms.policy import Event, Profile, decide
from loanrecovery.comms.records import histories, policy_borrower
from loanrecovery.service.db.models import Borrower, CommAttempt, CommMessage

__all__ = ["Worker", "BatchReport", "backoff"]

logger = logging.getLogger(__name__)

_ADDRESS = {"email": "email", "sms": "phone", "voice": "phone", "letter": "address"}
_MAX_DELAY = 3600.0
#: The rule named on an instalment reminder whose instalment was paid before it went out.
PAID_RULE = "instalment paid"


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
    number: int


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
        doubts = [r.id for r in rows if r.status == "sending"]
        if doubts:  # their unfinished attempts will never finish: say so
            session.execute(
                update(CommAttempt)
                .where(CommAttempt.message_id.in_(doubts), CommAttempt.outcome.is_(None))
                .values(outcome="in_doubt", finished_at=now)
                .execution_options(synchronize_session=False)
            )
        paid = paid_since_scheduled(session, [
            r.key for r in rows if r.kind == "instalment_reminder" and r.status == "queued"
        ])  # fmt: skip
        claimed: list[tuple[CommMessage, bool, str]] = []
        verdicts: dict[tuple[str, str], list[int]] = defaultdict(list)
        for row in rows:
            in_doubt = row.status == "sending"
            person = people.get(row.borrower_id)
            if row.key in paid:
                row.status, row.rule, row.updated_at = "blocked", PAID_RULE, now
                row.why = "the instalment was paid after this reminder was scheduled"
                report.outcomes["blocked"] += 1
                continue
            if not in_doubt:
                events = history.setdefault(row.borrower_id, [])
                decision = decide(self.profile, policy_borrower(person), events, at=now,
                                  medium=row.medium, kind=row.kind)  # fmt: skip
                if not decision.allowed:
                    row.rule, row.why, row.updated_at = decision.rule, decision.why, now
                    if decision.retry_at is not None:
                        row.next_attempt_at = decision.retry_at
                        report.outcomes["deferred"] += 1
                    else:
                        row.status = "blocked"
                        report.outcomes["blocked"] += 1
                    continue
                if (row.rule, row.why) != (decision.rule, decision.why):
                    verdicts[(decision.rule, decision.why)].append(row.id)
                events.append(Event(now, "contact", row.medium, row.kind))
            address = str(
                ((person.personal or {}) if person else {}).get(_ADDRESS[row.channel]) or ""
            )
            claimed.append((row, in_doubt, address))
        session.flush()  # the blocked and deferred ones
        if not claimed:
            return []
        # the claimed ones in a few statements, not one per message: a round trip each
        # is what a batch costs on a networked database
        ids = [row.id for row, _, _ in claimed]
        for (rule, why), group in verdicts.items():
            session.execute(
                update(CommMessage).where(CommMessage.id.in_(group)).values(rule=rule, why=why)
                .execution_options(synchronize_session=False)
            )  # fmt: skip
        session.execute(
            update(CommMessage)
            .where(CommMessage.id.in_(ids))
            .values(status="sending", claimed_by=self.worker_id, claimed_until=now + timedelta(
                seconds=self.settings.lease_seconds), attempts=CommMessage.attempts + 1,
                updated_at=now)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        numbers = {row.id: row.attempts + 1 for row, _, _ in claimed}
        attempt_of: dict[int, int] = dict(
            session.execute(
                insert(CommAttempt).returning(
                    CommAttempt.message_id, CommAttempt.id, sort_by_parameter_order=True
                ),
                [{"message_id": i, "number": numbers[i], "worker": self.worker_id,
                  "started_at": now} for i in ids],
            ).all()
        )  # fmt: skip
        return [
            _Job(r.id, r.key, r.channel, addr, doubt, attempt_of[r.id], r, numbers[r.id])
            for r, doubt, addr in claimed
        ]

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
    def _mark_sent(
        self, session: Session, sent: list[tuple[int, str | None]], now: datetime
    ) -> None:
        """Sent messages in one statement (PostgreSQL: ``UPDATE ... FROM unnest``; SQLite,
        where a statement costs no round trip: one executemany)."""
        if self.dialect == "postgresql":
            session.execute(
                text(
                    "UPDATE comm_messages AS m SET status = CASE WHEN m.status = 'sending' "
                    "THEN 'sent' ELSE m.status END, sent_at = COALESCE(m.sent_at, :now), "
                    "provider_id = v.pid, updated_at = :now, claimed_until = NULL "
                    "FROM unnest(CAST(:ids AS BIGINT[]), CAST(:pids AS VARCHAR[])) AS v(id, pid) "
                    "WHERE m.id = v.id"
                ),
                {"now": now, "ids": [i for i, _ in sent], "pids": [p for _, p in sent]},
            )
            return
        table = cast(Table, CommMessage.__table__)
        session.connection().execute(
            table.update()
            .where(table.c.id == bindparam("b_id"))
            .values(
                status=case((table.c.status == "sending", "sent"), else_=table.c.status),
                sent_at=func.coalesce(table.c.sent_at, now), provider_id=bindparam("b_pid"),
                updated_at=now, claimed_until=None,
            ),
            [{"b_id": i, "b_pid": p} for i, p in sent],
        )  # fmt: skip

    def _acknowledge(
        self, session: Session, results: list[tuple[_Job, str, str | None, str | None]],
        report: BatchReport,
    ) -> None:  # fmt: skip
        now = datetime.now(UTC)
        finished: dict[tuple[str, str | None], list[int]] = defaultdict(list)
        for job, outcome, _, error in results:
            finished[(outcome, error)].append(job.attempt_id)
        for (outcome, error), attempt_ids in finished.items():
            session.execute(
                update(CommAttempt).where(CommAttempt.id.in_(attempt_ids))
                .values(finished_at=now, outcome=outcome, error=error)
                .execution_options(synchronize_session=False)
            )  # fmt: skip
        sent = [(job.message_id, pid) for job, outcome, pid, _ in results if outcome == "sent"]
        if sent:
            self._mark_sent(session, sent, now)
            report.outcomes["sent"] += len(sent)
        rest = {job.message_id: (job, outcome, error)
                for job, outcome, _, error in results if outcome != "sent"}  # fmt: skip
        if not rest:
            return
        for row in session.scalars(select(CommMessage).where(CommMessage.id.in_(list(rest)))):
            job, outcome, error = rest[row.id]
            row.updated_at, row.claimed_until, row.last_error = now, None, error
            if outcome == "held":
                row.status = "held"
            elif job.number >= self.settings.max_attempts:
                row.status = "failed"
            else:
                row.status = "queued"
                row.next_attempt_at = now + backoff(self.settings, job.number)
            report.outcomes[row.status] += 1

    # -- loop ----------------------------------------------------------------------------
    def _claim_batch(self) -> tuple[BatchReport, list[_Job]]:
        report = BatchReport()
        with self.factory() as session, session.begin():
            return report, self._claim(session, report)

    def _deliver(self, report: BatchReport, jobs: list[_Job]) -> None:
        results = [
            (job, *outcome)
            for job, outcome in zip(jobs, self._pool.map(self._send, jobs), strict=True)
        ]
        with self.factory() as session, session.begin():
            self._acknowledge(session, results, report)
        logger.info("comms batch: claimed %d, %s", report.claimed, dict(report.outcomes))

    def run_once(self) -> BatchReport:
        """Claim, send and acknowledge one batch."""
        report, jobs = self._claim_batch()
        if jobs:
            self._deliver(report, jobs)
        return report

    def run(self, *, max_seconds: float | None = None, idle_exit: float | None = None,
            poll: float = 1.0) -> Counter[str]:  # fmt: skip
        """Work until ``max_seconds`` pass, or nothing was due for ``idle_exit`` seconds.

        The next batch is claimed while the current one is being sent, so the database's
        round trips overlap the channels' (the claimed messages are ``sending``: the other
        claim skips them, and they count as contacts in its policy history)."""
        total: Counter[str] = Counter()
        start = idle_since = time.monotonic()
        claimer = ThreadPoolExecutor(max_workers=1)
        following = claimer.submit(self._claim_batch)
        try:
            while max_seconds is None or time.monotonic() - start < max_seconds:
                report, jobs = following.result()
                if not report.claimed:
                    total.update(report.outcomes)
                    if idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
                        break
                    time.sleep(poll)
                    following = claimer.submit(self._claim_batch)
                    continue
                idle_since = time.monotonic()
                following = claimer.submit(self._claim_batch)
                if jobs:
                    self._deliver(report, jobs)
                total.update(report.outcomes)
            else:  # out of time: deliver what the last claim took, so nothing waits a lease
                report, jobs = following.result()
                if jobs:
                    self._deliver(report, jobs)
                total.update(report.outcomes)
        finally:
            claimer.shutdown(wait=True)
            self.close()
        return total
