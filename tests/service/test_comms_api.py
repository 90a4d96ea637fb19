"""The communications API against a real server: requests honoured at once and audited,
collectors limited to their cases' borrowers, the call check naming its rule, the preview
and the summary; on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from loanrecovery.service.db import make_engine, make_sessionmaker
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
