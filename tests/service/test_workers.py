"""``serve --workers 2``: two server processes on one port and one database, against a real
server on SQLite and PostgreSQL; each event is applied once, repeats answered with the
original."""

from __future__ import annotations

import psutil
from sqlalchemy import select

from loanrecovery.service.db import make_engine, make_sessionmaker
from loanrecovery.service.db.models import PaymentEvent

from .conftest import (  # type: ignore[import-not-found]
    Server,
    payment_events,
    post_payments_at_once,
    prepare_database,
)


def test_two_worker_processes_apply_each_event_once(fresh_db, small_book, tmp_path):
    tokens, _ = prepare_database(fresh_db, small_book)
    loans = list(small_book.loans["Loan_ID"].astype(str)[:20])
    events = payment_events(loans, "workers", 80, 0.5)
    sent = events + events[:16]  # each repeat sent by the thread that sent its original
    server = Server(db=fresh_db, log=tmp_path / "workers.log", extra=["--workers", "2"]).start()
    try:
        assert server.proc is not None
        workers = psutil.Process(server.proc.pid).children(recursive=True)
        assert len([p for p in workers if "python" in p.name().lower()]) >= 2
        answers = post_payments_at_once(server, tokens["manager"], sent, clients=4)
    finally:
        server.stop()
    codes: dict[str, list[int]] = {}
    for event_id, code, _ in answers:
        codes.setdefault(event_id, []).append(code)
    assert all(codes[e["event_id"]][0] == 201 for e in events)
    assert all(codes[e["event_id"]][1:] == [200] for e in events[:16])
    engine = make_engine(fresh_db)
    with make_sessionmaker(engine)() as session:
        stored = session.scalars(
            select(PaymentEvent.event_id).where(PaymentEvent.event_id.like("workers-%"))
        ).all()
    engine.dispose()
    assert sorted(stored) == sorted(e["event_id"] for e in events)
