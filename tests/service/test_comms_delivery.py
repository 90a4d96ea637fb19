"""Borrower communications end to end, on SQLite and PostgreSQL: the scheduler queues
reminders, a real ``loanrecovery comms worker`` process delivers them to a real SMTP server
(aiosmtpd) and a real webhook receiver, signed status callbacks reach a real server, a STOP
reply opts the borrower out; and a worker SIGKILLed mid-batch loses nothing and delivers
nothing twice.

Slow (> 60 s each on a loaded 2-core machine): each test starts several real processes
(workers, a server), and every start imports the whole package.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from loanrecovery.comms.config import CommsSettings
from loanrecovery.comms.policy import load_profile
from loanrecovery.comms.replies import sign
from loanrecovery.comms.scheduler import schedule
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction
from loanrecovery.service.db.models import CommAttempt, CommMessage

from .conftest import Server, prepare_database  # type: ignore[import-not-found]
from .receivers import SmtpReceiver, WebhookReceiver, prepare_comms  # type: ignore[import-not-found]

SECRET = "test-callback-secret"
BATCH = 20


def _schedule(db: str) -> dict:
    engine = make_engine(db)
    # plan reminders only: which instalments fall due depends on today's date
    # (tests/service/test_comms_instalments.py fixes the date)
    settings = CommsSettings(instalment_reminders=False)
    with transaction(make_sessionmaker(engine)) as session:
        report = schedule(session, load_profile("us_reg_f"), settings)
    engine.dispose()
    return report.as_dict()


def _messages(db: str) -> list[CommMessage]:
    engine = make_engine(db)
    with make_sessionmaker(engine)() as session:
        rows = list(session.scalars(select(CommMessage).order_by(CommMessage.id)))
    engine.dispose()
    return rows


def _worker(db, smtp, hook, tmp_path, *extra) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "loanrecovery", "comms", "worker", "--db", db,
               "--smtp-port", str(smtp.port), "--webhook-url", hook.url + "/send",
               "--webhook-lookup-url", hook.url + "/messages/{key}",
               "--smtp-lookup-url", smtp.lookup_url,
               "--letters-dir", str(tmp_path / "letters"),
               "--batch", str(BATCH), *extra]  # fmt: skip
    log = (tmp_path / "worker.log").open("ab")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def _receivers(delay: float = 0.0):
    return SmtpReceiver(delay).start(), WebhookReceiver(delay).start()


def test_reminders_are_delivered_and_callbacks_and_stop_work(fresh_db, small_book, tmp_path,
                                                            monkeypatch):  # fmt: skip
    tokens, _ = prepare_database(fresh_db, small_book)
    planned = prepare_comms(fresh_db, cases=12)
    first = _schedule(fresh_db)
    assert sum(first["queued"].values()) == 24  # a validation notice and a reminder each
    assert _schedule(fresh_db)["already_scheduled"] == 24  # idempotent keys
    smtp, hook = _receivers()
    try:
        worker = _worker(fresh_db, smtp, hook, tmp_path, "--idle-exit", "1")
        assert worker.wait(120) == 0, (tmp_path / "worker.log").read_text()[-2000:]
    finally:
        smtp.stop()
        hook.stop()
    rows = _messages(fresh_db)
    assert {r.status for r in rows} == {"sent"}
    assert smtp.delivered == {r.key for r in rows if r.channel == "email"}
    assert hook.delivered == {r.key for r in rows if r.channel == "sms"}
    assert len(hook.delivered) == len(planned["sms"]) and smtp.repeats == hook.repeats == 0
    assert all("Reply STOP" in body for body in hook.bodies.values())  # 1006.6(e)
    assert all("reply STOP" in body for body in smtp.bodies.values())
    sms = next(r for r in rows if r.channel == "sms")
    monkeypatch.setenv("LOANRECOVERY_COMMS_CALLBACK_SECRET", SECRET)
    server = Server(db=fresh_db, log=tmp_path / "server.log").start()
    try:
        with server.client(None) as anon, server.client(tokens["manager"]) as manager:

            def callback(event_id: str, **fields: str) -> object:
                body = json.dumps({"provider": "test", "event_id": event_id,
                                   "message_key": sms.key, **fields}).encode()  # fmt: skip
                return anon.post("/messages/status", content=body,
                                 headers={"X-Signature": sign(SECRET, body),
                                          "Content-Type": "application/json"})  # fmt: skip

            bad = anon.post("/messages/status", content=b"{}", headers={"X-Signature": "sha256=0"})
            assert bad.status_code == 401
            done = callback("ev-1", status="delivered")
            assert done.json() == {"result": "applied", "message_status": "delivered"}
            assert callback("ev-1", status="delivered").json()["result"] == "duplicate"
            assert callback("ev-2", status="sent").json()["message_status"] == "delivered"
            assert callback("ev-3", reply=" stop ").json()["result"] == "applied"
            requests = manager.get(f"/borrowers/{sms.borrower_id}/consents").json()["requests"]
            assert [r["kind"] for r in requests if r["medium"] == "sms"][-1] == "opt_out"
            summary = manager.get("/comms/summary").json()
            assert summary["by_status"]["delivered"] == 1 and summary["by_status"]["queued"] == 1
            check = manager.post(f"/borrowers/{sms.borrower_id}/call-check").json()
            assert check["allowed"] is True, check
    finally:
        server.stop()
    smtp, hook = _receivers()
    try:
        worker = _worker(fresh_db, smtp, hook, tmp_path, "--idle-exit", "1")
        assert worker.wait(120) == 0
    finally:
        smtp.stop()
        hook.stop()
    confirmations = [r for r in _messages(fresh_db) if r.kind == "opt_out_confirmation"]
    assert len(confirmations) == 1 and confirmations[0].status == "sent"
    assert hook.delivered == {confirmations[0].key}


def test_worker_sigkilled_mid_batch_loses_nothing_and_sends_nothing_twice(
    fresh_db, small_book, tmp_path
):
    prepare_database(fresh_db, small_book)
    prepare_comms(fresh_db, cases=40)
    _schedule(fresh_db)
    total = len(_messages(fresh_db))
    assert total >= 50
    smtp, hook = _receivers(delay=0.01)  # slow receivers: the kill lands mid-batch
    try:
        worker = _worker(fresh_db, smtp, hook, tmp_path, "--lease-seconds", "2")
        deadline = time.monotonic() + 120
        while len(smtp.delivered) + len(hook.delivered) < total // 3:
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.005)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        in_flight = [r for r in _messages(fresh_db) if r.status == "sending"]
        assert in_flight, "the kill should land while a batch is being sent"
        again = _worker(fresh_db, smtp, hook, tmp_path, "--lease-seconds", "2", "--idle-exit", "4")
        assert again.wait(180) == 0, (tmp_path / "worker.log").read_text()[-2000:]
    finally:
        smtp.stop()
        hook.stop()
    rows = _messages(fresh_db)
    assert {r.status for r in rows} == {"sent"}, {r.status for r in rows}
    assert smtp.delivered | hook.delivered == {r.key for r in rows}  # nothing lost
    # in-doubt messages were looked up (the relay's Message-ID log, the provider's lookup)
    # and sent again only when they had not arrived: no key arrived twice
    assert smtp.repeats == 0 and hook.repeats == 0, (smtp.repeats, hook.repeats)
    engine = make_engine(fresh_db)
    with make_sessionmaker(engine)() as session:
        doubts = session.scalar(
            select(func.count()).select_from(CommAttempt).where(CommAttempt.outcome == "in_doubt")
        )
    engine.dispose()
    assert doubts == len(in_flight)
