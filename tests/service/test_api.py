"""The API against a real server process on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from loanrecovery.cli import app
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction
from loanrecovery.service.db.migrate import HEAD
from loanrecovery.service.db.models import Meta, PanelMonth
from loanrecovery.service.promises import sweep_broken_promises

NOW = "2026-01-01T00:00:00Z"


def _eid() -> str:
    return "ev-" + uuid.uuid4().hex


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _pay(client, loan_id: str, amount: float, event_id: str | None = None, **extra):
    body = {"event_id": event_id or _eid(), "loan_id": loan_id, "amount": amount,
            "paid_at": _now(), **extra}  # fmt: skip
    return client.post("/payments", json=body)


def _my_case(world, role: str = "collector", index: int = 0) -> dict:
    with world.client(role) as c:
        queue = c.get("/queue", params={"limit": 1000}).json()
    assert len(queue) > index, f"{role} has only {len(queue)} cases"
    return queue[index]


def test_payment_applied_then_duplicate_and_state_updated(world):
    case = _my_case(world)
    with world.client("manager") as m:
        before = m.get(f"/loans/{case['loan_id']}").json()
        event = _eid()
        first = _pay(m, case["loan_id"], 12.34, event)
        again = _pay(m, case["loan_id"], 12.34, event)
        after = m.get(f"/loans/{case['loan_id']}").json()
        listed = m.get("/payments", params={"loan_id": case["loan_id"]}).json()
        audit = m.get("/audit", params={"action": "payment.applied", "entity_id": case["loan_id"]})
    assert first.status_code == 201 and first.json()["status"] == "applied"
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert again.json()["payment_id"] == first.json()["payment_id"]
    assert again.json()["original_status"] == "applied"
    assert after["outstanding"] == pytest.approx(before["outstanding"] - 12.34, abs=0.01)
    assert [p["event_id"] for p in listed].count(event) == 1
    rows = [r for r in audit.json() if r["after"]["event_id"] == event]
    assert len(rows) == 1 and rows[0]["actor"] == "manager"
    assert rows[0]["before"]["outstanding"] == pytest.approx(before["outstanding"])


def test_same_event_id_from_another_source_is_another_event(world):
    case = _my_case(world)
    event = _eid()
    with world.client("manager") as m:
        a = _pay(m, case["loan_id"], 1.0, event, source="bank-a")
        b = _pay(m, case["loan_id"], 1.0, event, source="bank-b")
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["payment_id"] != b.json()["payment_id"]


def test_reusing_an_event_id_for_another_payment_is_a_conflict(world):
    case = _my_case(world)
    event = _eid()
    with world.client("manager") as m:
        assert _pay(m, case["loan_id"], 5.0, event).status_code == 201
        clash = _pay(m, case["loan_id"], 6.0, event)
    assert clash.status_code == 409
    assert event in clash.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": -1}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"paid_at": "yesterday"}, "paid_at"),
        ({"loan_id": ""}, "loan_id"),
        ({"event_id": None}, "event_id"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_body_is_422_naming_the_field(world, change, field):
    body = {"event_id": _eid(), "loan_id": "LN_1", "amount": 1.0, "paid_at": _now()} | change
    with world.client("manager") as m:
        answer = m.post("/payments", json=body)
    assert answer.status_code == 422
    assert any(field in err["loc"] for err in answer.json()["detail"])


def _write_new_loan(folder, small_book, loan_id: str) -> None:
    folder.mkdir()
    loan = small_book.loans.iloc[[0]].copy()
    loan["Loan_ID"] = loan_id
    loan["Borrower_ID"] = "BRW_" + loan_id
    loan.to_csv(folder / "loans.csv", index=False)
    panel = small_book.payments[
        small_book.payments["Loan_ID"] == small_book.loans.iloc[0]["Loan_ID"]
    ]
    panel = panel.assign(Loan_ID=loan_id)
    panel.to_csv(folder / "payments.csv", index=False)


def test_unknown_loan_is_held_then_applied_when_the_loan_arrives(world, small_book, tmp_path):
    loan_id = "LN_NEW_" + uuid.uuid4().hex[:8]
    event = _eid()
    with world.client("manager") as m:
        held = _pay(m, loan_id, 25.0, event)
        suspense = m.get("/payments/suspense").json()
    assert held.status_code == 202 and held.json()["status"] == "suspense"
    assert event in [s["event_id"] for s in suspense]
    _write_new_loan(tmp_path / "book", small_book, loan_id)
    result = CliRunner().invoke(
        app,
        [
            "import",
            "--data",
            str(tmp_path / "book"),
            "--db",
            world.db,
            "--rejects",
            str(tmp_path / "rej"),
        ],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    assert "suspense payments applied 1" in " ".join(result.output.split())
    with world.client("manager") as m:
        suspense = m.get("/payments/suspense").json()
        applied = m.get("/payments", params={"loan_id": loan_id}).json()
        again = _pay(m, loan_id, 25.0, event)
        loan = m.get(f"/loans/{loan_id}").json()
    assert event not in [s["event_id"] for s in suspense]
    assert [p["event_id"] for p in applied] == [event]
    assert again.status_code == 200 and again.json()["original_status"] == "applied"
    imported = float(small_book.loans.iloc[0]["Outstanding_Loan_Amount"])
    assert loan["outstanding"] == pytest.approx(imported - 25.0, abs=0.01)


def test_batch_returns_one_result_per_event_in_order(world):
    case = _my_case(world)
    first = {"event_id": _eid(), "loan_id": case["loan_id"], "amount": 1.5, "paid_at": _now()}
    unknown = {"event_id": _eid(), "loan_id": "LN_NOPE_" + uuid.uuid4().hex[:6], "amount": 2.0,
               "paid_at": _now()}  # fmt: skip
    with world.client("manager") as m:
        answer = m.post("/payments/batch", json=[first, first, unknown])
    assert answer.status_code == 200
    assert [r["status"] for r in answer.json()] == ["applied", "duplicate", "suspense"]
    assert [r["event_id"] for r in answer.json()] == [first["event_id"]] * 2 + [unknown["event_id"]]


def test_batch_over_the_limit_is_refused(world):
    event = {"event_id": "x", "loan_id": "LN_1", "amount": 1.0, "paid_at": NOW}
    with world.client("manager") as m:
        answer = m.post("/payments/batch", json=[event] * 10_001)
    assert answer.status_code == 422


def test_promise_partial_then_kept_then_a_late_one_broken(world):
    case = _my_case(world, index=1)
    today = datetime.now(UTC).date().isoformat()
    with world.client("collector") as c:
        made = c.post(f"/cases/{case['case_id']}/promises", json={"promised_date": today,
                                                                    "amount": 50})  # fmt: skip
        past = c.post(f"/cases/{case['case_id']}/promises",
                      json={"promised_date": "2020-01-01", "amount": 5})  # fmt: skip
    assert made.status_code == 201, made.text
    assert past.status_code == 422 and "promised_date" in past.text
    with world.client("manager") as m:
        _pay(m, case["loan_id"], 20.0)
        partial = m.get(f"/loans/{case['loan_id']}").json()["promises"]
        _pay(m, case["loan_id"], 30.0)
        kept = m.get(f"/loans/{case['loan_id']}").json()["promises"]
    mine = made.json()["promise_id"]
    assert {p["promise_id"]: p["status"] for p in partial}[mine] == "Partial"
    assert {p["promise_id"]: p["status"] for p in kept}[mine] == "Kept"
    with world.client("collector") as c:
        late = c.post(f"/cases/{case['case_id']}/promises",
                      json={"promised_date": today, "amount": 500})  # fmt: skip
    engine = make_engine(world.db)
    with transaction(make_sessionmaker(engine)) as session:
        broken = sweep_broken_promises(
            session, now=datetime.now(UTC) + timedelta(days=2), actor="test"
        )
    engine.dispose()
    assert broken >= 1
    with world.client("manager") as m:
        promises = m.get(f"/loans/{case['loan_id']}").json()["promises"]
        alerts = m.get("/alerts", params={"since": "2000-01-01T00:00:00Z"}).json()
    assert {p["promise_id"]: p["status"] for p in promises}[late.json()["promise_id"]] == "Broken"
    assert any(a["kind"] == "broken_promise" and a["loan_id"] == case["loan_id"] for a in alerts)


def test_collectors_work_only_their_cases_and_managers_reassign(world):
    case = _my_case(world, index=2)
    path = f"/cases/{case['case_id']}/activities"
    call = {"channel": "phone", "outcome": "no answer", "note": "left no message"}
    with world.client("collector") as c, world.client("collector2") as c2:
        assert c.post(path, json=call).status_code == 201
        assert c2.post(path, json=call).status_code == 403
        assert c2.get(f"/loans/{case['loan_id']}").status_code == 403
    with world.client("manager") as m:
        moved = m.post(f"/cases/{case['case_id']}/assign",
                       json={"user_id": world.user_ids["collector2"]})  # fmt: skip
        wrong = m.post(f"/cases/{case['case_id']}/assign",
                       json={"user_id": world.user_ids["auditor"]})  # fmt: skip
    assert moved.status_code == 200 and moved.json()["assigned_to"] == world.user_ids["collector2"]
    assert wrong.status_code == 422
    with world.client("collector") as c, world.client("collector2") as c2:
        assert c.post(path, json=call).status_code == 403
        assert c2.post(path, json=call).status_code == 201
        loan = c2.get(f"/loans/{case['loan_id']}").json()
    assert [a["outcome"] for a in loan["activities"]] == ["no answer", "no answer"]
    assert loan["case"]["status"] == "In Progress"


def test_paying_the_arrears_resolves_the_case(world):
    case = _my_case(world, index=5)
    engine = make_engine(world.db)
    with make_sessionmaker(engine)() as session:
        as_of = int(session.get(Meta, "as_of").value)  # type: ignore[union-attr]
        anchor = int(session.get(Meta, "anchor").value)  # type: ignore[union-attr]
        row = session.scalar(
            select(PanelMonth).where(
                PanelMonth.loan_id == case["loan_id"], PanelMonth.month == as_of
            )
        )
    engine.dispose()
    assert row is not None
    owed = round(row.amount_due - row.amount_paid + 0.01, 2)
    # paid in the calendar month the book was imported in, so that it counts in the as-of
    # month even when the suite runs across midnight at a month's end
    paid_at = datetime(anchor // 12, anchor % 12 + 1, 1, tzinfo=UTC).isoformat()
    with world.client("manager") as m:
        assert _pay(m, case["loan_id"], owed, paid_at=paid_at).status_code == 201
        loan = m.get(f"/loans/{case['loan_id']}").json()
        audit = m.get("/audit", params={"action": "case.resolved",
                                        "entity_id": str(case["case_id"])}).json()  # fmt: skip
    assert loan["days_past_due"] == 0 and loan["case"] is None
    assert len(audit) == 1 and audit[0]["after"]["status"] == "Resolved"
    with world.client("collector") as c:
        assert case["case_id"] not in [q["case_id"] for q in c.get("/queue").json()]


def test_loan_view_has_the_documented_fields(world):
    case = _my_case(world)
    with world.client("manager") as m:
        loan = m.get(f"/loans/{case['loan_id']}").json()
        missing = m.get("/loans/LN_DOES_NOT_EXIST")
    for key in ("loan_id", "status", "outstanding", "days_past_due", "segment", "pd_3m", "pd_6m",
                "pd_12m", "reasons", "recommended_action", "action_why", "scored_at", "case",
                "promises", "activities"):  # fmt: skip
        assert key in loan
    assert loan["case"]["case_id"] == case["case_id"]
    assert missing.status_code == 404


def test_queue_is_ordered_by_priority(world):
    with world.client("collector") as c:
        queue = c.get("/queue", params={"limit": 1000}).json()
    priorities = [q["priority"] for q in queue]
    assert priorities == sorted(priorities, reverse=True)
    assert all(q["status"] != "Resolved" for q in queue)


def test_health_and_metrics(world):
    with world.client(None) as anon, world.client("manager") as m:
        health = anon.get("/healthz").json()
        text = m.get("/metrics").text
    assert health == {"status": "ok", "database": world.backend, "revision": HEAD,
                      "bundle_id": None}  # fmt: skip
    assert "loanrecovery_http_requests_total" in text
    assert "loanrecovery_http_request_seconds_bucket" in text
    assert 'loanrecovery_queue_depth{queue="open_cases"}' in text
    assert "loanrecovery_payment_events_total" in text


def test_tokens_are_required_and_can_be_revoked(world):
    name = "temp-" + uuid.uuid4().hex[:6]
    with world.client("admin") as a:
        made = a.post("/users", json={"name": name, "role": "auditor"})
        assert made.status_code == 201
        token, user_id = made.json()["token"], made.json()["user"]["user_id"]
        with world.server.client(token) as t:
            assert t.get("/audit", params={"limit": 1}).status_code == 200
            assert a.post(f"/users/{user_id}/revoke").status_code == 200
            assert t.get("/audit", params={"limit": 1}).status_code == 401
        assert a.post("/users", json={"name": name, "role": "auditor"}).status_code == 409
    with world.client(None) as anon, world.server.client("lr_not-a-token") as bad:
        assert anon.get("/queue").status_code == 401
        assert bad.get("/queue").status_code == 401


def test_audit_filters_and_pages(world):
    with world.client("auditor") as a:
        first = a.get("/audit", params={"limit": 5}).json()
        nxt = a.get("/audit", params={"limit": 5, "after_id": first[-1]["audit_id"]}).json()
        imports = a.get("/audit", params={"action": "book.imported"}).json()
    assert len(first) == 5 and nxt[0]["audit_id"] > first[-1]["audit_id"]
    assert imports and all(r["action"] == "book.imported" for r in imports)
