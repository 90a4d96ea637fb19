"""Group commit: single events sent together share transactions, each still answered with its
own outcome or its own error, never before its transaction ran."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest

from loanrecovery.service.events import ConflictingEvent, PaymentIn, PaymentOutcome
from loanrecovery.service.group_commit import GroupCommit


class _Store:
    """A stand-in for the transaction: applies events in order, refuses a conflicting one."""

    def __init__(self) -> None:
        self.chunks: list[list[str]] = []
        self.committed: set[str] = set()
        self.lock = threading.Lock()

    def run(self, events, actor, user_id) -> list[PaymentOutcome]:
        with self.lock:
            if any(e.event_id.startswith("bad") for e in events):
                raise ConflictingEvent("api", "bad", "L1", 1.0)
            time.sleep(0.02)  # a transaction takes time: others arrive meanwhile
            self.chunks.append([e.event_id for e in events])
            self.committed.update(e.event_id for e in events)
            return [PaymentOutcome("applied", i, e.event_id, e.source, e.loan_id)
                    for i, e in enumerate(events)]  # fmt: skip


def _event(name: str) -> PaymentIn:
    return PaymentIn(name, "L1", 1.0, datetime(2026, 1, 1, tzinfo=UTC))


def _send_together(group: GroupCommit, store: _Store, names: list[str]) -> dict[str, object]:
    answers: dict[str, object] = {}
    start = threading.Barrier(len(names))

    def one(name: str) -> None:
        start.wait()
        try:
            outcome = group.submit(_event(name), actor="a", user_id=1)
            assert outcome.event_id in store.committed  # answered after its commit
            answers[name] = outcome
        except ConflictingEvent as exc:
            answers[name] = exc

    threads = [threading.Thread(target=one, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_events_sent_together_share_transactions_and_each_gets_its_answer():
    store = _Store()
    group = GroupCommit(store.run, max_events=500)
    names = [f"e{i}" for i in range(40)]
    answers = _send_together(group, store, names)
    assert {n: a.event_id for n, a in answers.items()} == {n: n for n in names}
    assert sorted(e for chunk in store.chunks for e in chunk) == sorted(names)
    assert len(store.chunks) < len(names)  # some transactions held several events
    assert group.events == len(names) and group.transactions == len(store.chunks)


def test_a_conflicting_event_fails_alone_and_the_others_are_applied():
    store = _Store()
    group = GroupCommit(store.run, max_events=500)
    names = [*(f"e{i}" for i in range(12)), "bad-1"]
    answers = _send_together(group, store, names)
    assert isinstance(answers["bad-1"], ConflictingEvent)
    assert all(answers[n].status == "applied" for n in names if n != "bad-1")
    assert store.committed == {n for n in names if n != "bad-1"}


def test_a_transaction_holds_at_most_max_events():
    store = _Store()
    group = GroupCommit(store.run, max_events=3)
    _send_together(group, store, [f"e{i}" for i in range(20)])
    assert max(len(c) for c in store.chunks) <= 3
    assert sum(len(c) for c in store.chunks) == 20


def test_max_events_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        GroupCommit(lambda *a: [], max_events=0)


def test_coroutines_share_transactions_and_each_gets_its_answer_or_error():
    store = _Store()
    group = GroupCommit(store.run, max_events=500)
    names = [f"e{i}" for i in range(30)]

    async def one(name: str) -> object:
        try:
            outcome = await group.submit_async(_event(name), actor="a", user_id=1)
        except ConflictingEvent as exc:
            return exc
        assert outcome.event_id in store.committed  # answered after its commit
        return outcome

    async def all_at_once() -> list[object]:
        return await asyncio.gather(*(one(n) for n in names))

    answers = dict(zip(names, asyncio.run(all_at_once()), strict=True))
    assert all(answers[n].event_id == n for n in names)
    assert len(store.chunks) < len(names)  # coroutines waiting together shared transactions
    assert store.committed == set(names)
    # a conflicting event sent among others fails alone; the others are applied
    names = [f"f{i}" for i in range(5)] + ["bad-2"]
    answers = dict(zip(names, asyncio.run(all_at_once()), strict=True))
    assert isinstance(answers["bad-2"], ConflictingEvent)
    assert all(answers[n].event_id == n for n in names[:-1])


def test_an_idle_writer_ends_and_the_next_event_starts_another(monkeypatch):
    monkeypatch.setattr("loanrecovery.service.group_commit.IDLE_SECONDS", 0.05)
    store = _Store()
    group = GroupCommit(store.run)
    assert group.submit(_event("first"), actor="a", user_id=1).event_id == "first"
    deadline = time.monotonic() + 5
    while group._writer is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert group._writer is None
    assert group.submit(_event("second"), actor="a", user_id=1).event_id == "second"
    assert store.committed == {"first", "second"}
