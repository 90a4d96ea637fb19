"""The communications API against a real server: requests honoured at once and audited,
collectors limited to their cases' borrowers, the call check naming its rule, the preview
and the summary; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from loanrecovery.comms.policy import Decision, load_profile
from loanrecovery.comms.records import record_decision
from loanrecovery.comms.templates import render, sync_templates
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction
from loanrecovery.service.db.models import Case, Loan

from .receivers import borrower_of  # type: ignore[import-not-found]


def _foreign_borrower(db: str, collector_id: int) -> str:
    """A borrower with no open case of ``collector_id``."""
    engine = make_engine(db)
    with make_sessionmaker(engine)() as session:
        mine = select(Loan.borrower_id).join(Case, Case.loan_id == Loan.loan_id).where(
            Case.is_open, Case.assigned_to == collector_id)  # fmt: skip
        bid = session.scalar(select(Loan.borrower_id).where(Loan.borrower_id.not_in(mine)).limit(1))
    engine.dispose()
    return str(bid)


def test_requests_call_check_and_collector_limits(world):
    with world.client("collector") as collector:
        case = collector.get("/queue").json()[0]
        bid = borrower_of(world.db, case["loan_id"])
        check = collector.post(f"/borrowers/{bid}/call-check")
        assert check.status_code == 200, check.text
        assert check.json()["rule"]  # allowed or not, the rule is named
        made = collector.post(f"/borrowers/{bid}/requests", json={"kind": "opt_out",
                                                                  "medium": "phone"})  # fmt: skip
        assert made.status_code == 201 and made.json()["kind"] == "opt_out"
        after = collector.post(f"/borrowers/{bid}/call-check").json()
        assert after["allowed"] is False and "1006.14(h)" in after["rule"], after
        other = _foreign_borrower(world.db, world.user_ids["collector"])
        assert collector.get(f"/borrowers/{other}/messages").status_code == 403
        missing = collector.post(f"/borrowers/{bid}/requests", json={"kind": "opt_out"})
        assert missing.status_code == 422 and "medium" in missing.text
        back = collector.post(f"/borrowers/{bid}/requests", json={"kind": "opt_in",
                                                                  "medium": "phone"})  # fmt: skip
        assert back.status_code == 201
    with world.client("manager") as manager:
        consents = manager.get(f"/borrowers/{bid}/consents").json()["requests"]
        assert [r["kind"] for r in consents][-2:] == ["opt_out", "opt_in"]
        assert manager.get("/borrowers/NOPE/messages").status_code == 404
        audit = manager.get(f"/audit?entity=borrower&entity_id={bid}").json()
        actions = [row["action"] for row in (audit["items"] if "items" in audit else audit)]
        assert {"comms.opt_out", "comms.opt_in", "comms.call_checked"} <= set(actions)
        summary = manager.get("/comms/summary")
        assert summary.status_code == 200 and "by_status" in summary.json()
        assert manager.get("/comms/preview").status_code == 200
    with world.client(None) as anon:
        assert anon.post("/messages/status", content=b"{}").status_code == 401


def _held_message(db: str, borrower_id: str) -> int:
    """A message that a crashed worker left held (written as the worker would)."""
    profile = load_profile("us_reg_f")
    engine = make_engine(db)
    with transaction(make_sessionmaker(engine)) as session:
        sync_templates(session)
        rendered = render(session, profile, name="reminder", channel="letter", language="en",
                          context={"loan_id": "L", "amount": "1.00", "due_date": ""})  # fmt: skip
        row = record_decision(session, profile, Decision(True, profile.name, "test"),
                              key=f"held-{borrower_id}-{datetime.now(UTC).timestamp()}",
                              borrower_id=borrower_id, loan_id=None, case_id=None,
                              kind="reminder", channel="letter", rendered=rendered,
                              at=datetime.now(UTC))  # fmt: skip
        session.flush()
        row.status, row.attempts = "held", 1
        message_id = row.id
    engine.dispose()
    return message_id


def test_a_manager_decides_a_held_message_once(world):
    with world.client("collector") as collector:
        case = collector.get("/queue").json()[0]
    message_id = _held_message(world.db, borrower_of(world.db, case["loan_id"]))
    with world.client("manager") as manager:
        held = manager.get("/messages/held").json()
        assert message_id in [m["id"] for m in held]
        assert all("body" not in m and "address" not in m for m in held)
        decided = manager.post(f"/messages/{message_id}/decision", json={"decision": "resend"})
        assert decided.status_code == 200 and decided.json()["status"] == "queued", decided.text
        again = manager.post(f"/messages/{message_id}/decision", json={"decision": "arrived"})
        assert again.status_code == 409 and "not held" in again.text
        wrong = manager.post(f"/messages/{message_id}/decision", json={"decision": "maybe"})
        assert wrong.status_code == 422
        assert manager.post("/messages/999999999/decision",
                            json={"decision": "cancel"}).status_code == 404  # fmt: skip
        audit = manager.get(f"/audit?entity=message&entity_id={message_id}").json()
        actions = [row["action"] for row in (audit["items"] if "items" in audit else audit)]
        assert actions == ["message.held_resend"]
