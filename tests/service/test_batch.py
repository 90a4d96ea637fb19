"""Batches of payment events against a real server on SQLite and PostgreSQL: applied in
chunks of 500 events per transaction, one result per event in order, repeats inside a batch
and across batches answered as duplicates, a conflict stopping at its own chunk, and two
server processes fed the same batches applying each event once."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from loanrecovery.service.db import make_engine, make_sessionmaker
from loanrecovery.service.db.models import AuditRow, PaymentEvent
from loanrecovery.service.ledger import CHUNK

from .conftest import Server, prepare_database  # type: ignore[import-not-found]
from .test_crash import _balances, _check_ledger, _loan_ids  # type: ignore[import-not-found]


def _events(loan_ids: list[str], prefix: str, n: int, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    return [
        {"event_id": f"{prefix}-{i}", "loan_id": rng.choice(loan_ids),
         "amount": round(rng.uniform(0.01, 3.0), 2), "paid_at": datetime.now(UTC).isoformat()}
        for i in range(n)
    ]  # fmt: skip


def _stored(db: str, prefix: str) -> dict[str, PaymentEvent]:
    engine = make_engine(db)
    with make_sessionmaker(engine)() as session:
        rows = session.scalars(
            select(PaymentEvent).where(PaymentEvent.event_id.like(prefix + "-%"))
        ).all()
    engine.dispose()
    return {p.event_id: p for p in rows}


def test_a_batch_over_several_chunks_applies_each_event_once_in_order(
    fresh_db, small_book, tmp_path
):
    tokens, _ = prepare_database(fresh_db, small_book)
    loan_ids = _loan_ids(small_book)
    balances = _balances(fresh_db, loan_ids)
    unique = _events(loan_ids, "chunks", CHUNK + 300)
    unknown = {"event_id": "chunks-unknown", "loan_id": "LN_NOT_YET", "amount": 4.0,
               "paid_at": datetime.now(UTC).isoformat()}  # fmt: skip
    # repeats inside one chunk, across the chunk boundary, and of the held event
    batch = [*unique[:10], unique[3], *unique[10:], unique[7], unique[CHUNK + 5], unknown,
             unknown]  # fmt: skip
    server = Server(db=fresh_db, log=tmp_path / "batch.log").start()
    try:
        with server.client(tokens["manager"]) as m:
            first = m.post("/payments/batch", json=batch)
            again = m.post("/payments/batch", json=batch)
    finally:
        server.stop()
    assert first.status_code == 200, first.text[:500]
    results = first.json()
    assert [r["event_id"] for r in results] == [e["event_id"] for e in batch]
    expected = ["applied"] * 10 + ["duplicate"] + ["applied"] * (len(unique) - 10)
    expected += ["duplicate", "duplicate", "suspense", "duplicate"]
    assert [r["status"] for r in results] == expected
    by_event = {r["event_id"]: r for r in results if r["status"] != "duplicate"}
    for r in results:
        if r["status"] == "duplicate":
            assert r["payment_id"] == by_event[r["event_id"]]["payment_id"]
            assert r["original_status"] == by_event[r["event_id"]]["status"]
    assert again.status_code == 200
    assert all(r["status"] == "duplicate" for r in again.json())
    assert [r["payment_id"] for r in again.json()] == [r["payment_id"] for r in results]
    originals = [by_event[e["event_id"]]["status"] for e in batch]
    assert [r["original_status"] for r in again.json()] == originals
    _check_ledger(fresh_db, unique, balances)  # stored once, applied once, balances add up
    stored = _stored(fresh_db, "chunks")
    assert len(stored) == len(unique) + 1 and stored["chunks-unknown"].state == "suspense"


def test_a_conflict_stops_at_its_chunk_and_keeps_the_earlier_chunks(fresh_db, small_book, tmp_path):
    tokens, _ = prepare_database(fresh_db, small_book)
    loan_ids = _loan_ids(small_book)
    events = _events(loan_ids, "conflict", CHUNK + 100)
    clash = dict(events[5], amount=events[5]["amount"] + 10.0)  # same key, another amount
    batch = [*events[: CHUNK + 50], clash, *events[CHUNK + 50 :]]
    server = Server(db=fresh_db, log=tmp_path / "conflict.log").start()
    try:
        with server.client(tokens["manager"]) as m:
            answer = m.post("/payments/batch", json=batch)
            audit = m.get("/audit", params={"action": "payment.applied", "limit": 10_000}).json()
    finally:
        server.stop()
    assert answer.status_code == 409 and "conflict-5" in answer.text
    stored = _stored(fresh_db, "conflict")
    assert set(stored) == {e["event_id"] for e in events[:CHUNK]}  # the first chunk only
    applied = [r for r in audit if r["after"]["event_id"].startswith("conflict-")]
    assert len(applied) == CHUNK


def test_two_servers_fed_the_same_batches_apply_each_event_once(databases, small_book, tmp_path):
    db = databases.new("postgresql")
    tokens, _ = prepare_database(db, small_book)
    loan_ids = _loan_ids(small_book)
    balances = _balances(db, loan_ids)
    events = _events(loan_ids, "twinbatch", 900, seed=8)
    servers = [Server(db=db, log=tmp_path / f"twinbatch{i}.log").start() for i in range(2)]
    statuses: list[dict[str, str]] = [{}, {}]

    def feed(index: int) -> None:
        order = list(events)
        random.Random(index).shuffle(order)
        with servers[index].client(tokens["manager"]) as client:
            for start in range(0, len(order), 300):
                answer = client.post("/payments/batch", json=order[start : start + 300])
                assert answer.status_code == 200, answer.text[:300]
                statuses[index].update({r["event_id"]: r["status"] for r in answer.json()})

    threads = [threading.Thread(target=feed, args=(i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for s in servers:
            s.stop()
    for event in events:
        pair = sorted(statuses[i][event["event_id"]] for i in range(2))
        assert pair == ["applied", "duplicate"], (event["event_id"], pair)
    _check_ledger(db, events, balances)
    engine = make_engine(db)
    with make_sessionmaker(engine)() as session:
        n_applied = session.scalar(
            select(func.count()).select_from(AuditRow).where(AuditRow.action == "payment.applied")
        )
    engine.dispose()
    assert n_applied == len(events)
