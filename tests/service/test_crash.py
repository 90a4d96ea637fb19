"""No lost or doubled events: SIGKILL in the middle of a stream of payments, then restart;
two server processes on one PostgreSQL database fed the same events."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from loanrecovery.service.db import make_engine, make_sessionmaker
from loanrecovery.service.db.models import AuditRow, Loan, PaymentEvent

from .conftest import Server, prepare_database  # type: ignore[import-not-found]

N_EVENTS = 150


def _events(loan_ids: list[str], prefix: str) -> list[dict]:
    rng = random.Random(11)
    return [
        {"event_id": f"{prefix}-{i}", "loan_id": rng.choice(loan_ids),
         "amount": round(rng.uniform(0.01, 3.0), 2), "paid_at": datetime.now(UTC).isoformat()}
        for i in range(N_EVENTS)
    ]  # fmt: skip


def _check_ledger(db: str, events: list[dict], balances: dict[str, float]) -> None:
    """Every event stored once, applied once (one audit row), and balances add up."""
    engine = make_engine(db)
    with make_sessionmaker(engine)() as session:
        stored = session.scalars(select(PaymentEvent)).all()
        applied_rows = session.scalars(
            select(AuditRow).where(AuditRow.action == "payment.applied")
        ).all()
        outstanding = dict(session.execute(select(Loan.loan_id, Loan.outstanding)).all())
    engine.dispose()
    ids = [e["event_id"] for e in events]
    assert Counter(p.event_id for p in stored if p.event_id in set(ids)) == Counter(ids)
    assert all(p.state == "applied" for p in stored if p.event_id in set(ids))
    applied = Counter(r.after["event_id"] for r in applied_rows if r.after)
    assert all(applied[i] == 1 for i in ids), {i: applied[i] for i in ids if applied[i] != 1}
    paid: Counter[str] = Counter()
    for e in events:
        paid[e["loan_id"]] += e["amount"]
    for loan_id, total in paid.items():
        assert outstanding[loan_id] == pytest.approx(balances[loan_id] - total, abs=0.011)


def _balances(db: str, loan_ids: list[str]) -> dict[str, float]:
    engine = make_engine(db)
    with make_sessionmaker(engine)() as session:
        rows = session.execute(
            select(Loan.loan_id, Loan.outstanding).where(Loan.loan_id.in_(loan_ids))
        ).all()
    engine.dispose()
    return dict(rows)


def _loan_ids(small_book) -> list[str]:
    loans = small_book.loans
    return list(loans.loc[loans["Outstanding_Loan_Amount"] > 1000, "Loan_ID"].head(30))


def test_sigkill_mid_stream_loses_no_acknowledged_event_and_doubles_none(
    fresh_db, small_book, tmp_path
):
    tokens, _ = prepare_database(fresh_db, small_book)
    loan_ids = _loan_ids(small_book)
    balances = _balances(fresh_db, loan_ids)
    events = _events(loan_ids, "kill")
    server = Server(db=fresh_db, log=tmp_path / "kill.log").start()
    acked: dict[str, int] = {}
    lock = threading.Lock()
    queue = list(events)

    def sender() -> None:
        with server.client(tokens["manager"]) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    event = queue.pop(0)
                try:
                    answer = client.post("/payments", json=event)
                except httpx.HTTPError:
                    return
                if answer.status_code in (200, 201, 202):
                    with lock:
                        acked[event["event_id"]] = answer.status_code

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    while len(acked) < N_EVENTS // 3:
        time.sleep(0.01)
    server.kill()
    for t in threads:
        t.join()
    assert 0 < len(acked) < N_EVENTS
    server.start()
    try:
        with server.client(tokens["manager"]) as client:
            again = {e["event_id"]: client.post("/payments", json=e) for e in events}
    finally:
        server.stop()
    for event_id in acked:
        assert again[event_id].status_code == 200, again[event_id].text
        assert again[event_id].json()["status"] == "duplicate"
    assert all(r.status_code in (200, 201) for r in again.values())
    _check_ledger(fresh_db, events, balances)


def test_two_server_processes_never_apply_the_same_event_twice(databases, small_book, tmp_path):
    db = databases.new("postgresql")
    tokens, _ = prepare_database(db, small_book)
    loan_ids = _loan_ids(small_book)
    balances = _balances(db, loan_ids)
    events = _events(loan_ids, "twin")
    servers = [Server(db=db, log=tmp_path / f"twin{i}.log").start() for i in range(2)]
    results: list[dict[str, int]] = [{}, {}]

    def feed(index: int) -> None:
        order = list(events)
        random.Random(index).shuffle(order)
        with servers[index].client(tokens["manager"]) as client:
            for event in order:
                results[index][event["event_id"]] = client.post("/payments", json=event).status_code

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
        codes = sorted(results[i][event["event_id"]] for i in range(2))
        assert codes == [200, 201], (event["event_id"], codes)
    _check_ledger(db, events, balances)
