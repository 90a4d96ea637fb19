"""The role matrix: every endpoint against every role, 403 exactly where the role lacks the
permission (``loanrecovery.service.auth.PERMISSIONS``), against a real server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from loanrecovery.service.auth import PERMISSIONS

from .receivers import borrower_of  # type: ignore[import-not-found]

ROLES = ("admin", "manager", "collector", "auditor")


def _endpoints(
    case_id: int, loan_id: str, collector_id: int, borrower_id: str = "B"
) -> list[tuple[str, str, str, object]]:
    today = datetime.now(UTC).date().isoformat()

    def payment() -> dict:
        return {"event_id": "role-" + uuid.uuid4().hex, "loan_id": loan_id, "amount": 0.01,
                "paid_at": datetime.now(UTC).isoformat()}  # fmt: skip

    return [
        ("payments.write", "POST", "/payments", payment),
        ("payments.write", "POST", "/payments/batch", lambda: [payment()]),
        ("payments.read", "GET", f"/payments?loan_id={loan_id}", None),
        ("payments.read", "GET", "/payments/suspense", None),
        ("loans.read", "GET", f"/loans/{loan_id}", None),
        ("watchlist.read", "GET", "/watchlist", None),
        ("queue.read", "GET", "/queue", None),
        ("cases.work", "POST", f"/cases/{case_id}/activities",
         lambda: {"channel": "sms", "outcome": "answered"}),
        ("cases.work", "POST", f"/cases/{case_id}/promises",
         lambda: {"promised_date": today, "amount": 1.0}),
        ("cases.assign", "POST", f"/cases/{case_id}/assign", lambda: {"user_id": collector_id}),
        ("alerts.read", "GET", "/alerts", None),
        ("audit.read", "GET", "/audit?limit=5", None),
        ("users.manage", "GET", "/users", None),
        ("users.manage", "POST", "/users",
         lambda: {"name": "u-" + uuid.uuid4().hex[:8], "role": "auditor"}),
        ("metrics.read", "GET", "/metrics", None),
        ("sweep.run", "POST", "/sweep", None),
        ("arrangements.propose", "POST", f"/cases/{case_id}/plans", lambda: {"instalments": 6}),
        ("arrangements.propose", "POST", f"/cases/{case_id}/hardship", lambda: {"note": "n"}),
        ("arrangements.propose", "POST", f"/cases/{case_id}/settlements",
         lambda: {"amount": 1e11}),
        ("arrangements.read", "GET", "/arrangements", None),
        ("settlements.decide", "POST", "/settlements/999999/decision", lambda: {"approve": True}),
        ("policy.read", "GET", "/policy", None),
        ("policy.write", "PUT", "/policy", lambda: {"text": "not = [valid"}),
        ("comms.read", "GET", f"/borrowers/{borrower_id}/messages", None),
        ("comms.read", "GET", f"/borrowers/{borrower_id}/consents", None),
        ("comms.write", "POST", f"/borrowers/{borrower_id}/requests",
         lambda: {"kind": "consent", "medium": "email"}),
        ("comms.write", "POST", f"/borrowers/{borrower_id}/call-check", None),
        ("comms.summary", "GET", "/comms/preview", None),
        ("comms.summary", "GET", "/comms/summary", None),
        ("comms.summary", "GET", "/messages/held", None),
        ("comms.release", "POST", "/messages/999999/decision", lambda: {"decision": "resend"}),
    ]  # fmt: skip


def test_every_endpoint_against_every_role(world):
    with world.client("collector") as c:
        case = c.get("/queue").json()[0]
    borrower_id = borrower_of(world.db, case["loan_id"])
    endpoints = _endpoints(
        case["case_id"], case["loan_id"], world.user_ids["collector"], borrower_id
    )
    wrong = []
    for role in ROLES:
        with world.client(role) as client:
            for permission, method, path, body in endpoints:
                payload = body() if callable(body) else None
                answer = client.request(method, path, json=payload)
                allowed = role in PERMISSIONS[permission]
                ok = answer.status_code != 403 if allowed else answer.status_code == 403
                if not ok or answer.status_code in (401,) or answer.status_code >= 500:
                    wrong.append((role, method, path, answer.status_code, answer.text[:120]))
    assert wrong == []


def test_every_api_route_is_in_the_matrix_or_public(world):
    with world.client(None) as anon:
        schema = anon.get("/openapi.json".replace("/api/v1", ""), follow_redirects=True)
    spec = schema.json() if schema.status_code == 200 else {}
    if not spec:
        import httpx

        spec = httpx.get(world.server.url + "/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    covered = {(m, p.split("?")[0]) for _, m, p, _ in _endpoints(1, "L", 1)}
    templated = {
        ("GET", "/api/v1/loans/{loan_id}"),
        ("POST", "/api/v1/cases/{case_id}/activities"),
        ("POST", "/api/v1/cases/{case_id}/promises"),
        ("POST", "/api/v1/cases/{case_id}/assign"),
        ("POST", "/api/v1/users/{user_id}/revoke"),
        ("POST", "/api/v1/cases/{case_id}/plans"),
        ("POST", "/api/v1/cases/{case_id}/hardship"),
        ("POST", "/api/v1/cases/{case_id}/settlements"),
        ("POST", "/api/v1/settlements/{arrangement_id}/decision"),
        ("GET", "/api/v1/healthz"),  # public: liveness only
        ("GET", "/api/v1/borrowers/{borrower_id}/messages"),
        ("GET", "/api/v1/borrowers/{borrower_id}/consents"),
        ("POST", "/api/v1/borrowers/{borrower_id}/requests"),
        ("POST", "/api/v1/borrowers/{borrower_id}/call-check"),
        ("POST", "/api/v1/messages/{message_id}/decision"),
        ("POST", "/api/v1/messages/status"),  # public: HMAC-signed provider callbacks
    }
    plain = {(m, "/api/v1" + p) for m, p in covered if "{" not in p and "/1/" not in p}
    prefixes = ("/api/v1/loans/", "/api/v1/cases/", "/api/v1/settlements/", "/api/v1/borrowers/")
    plain = {r for r in plain if not r[1].startswith(prefixes)}
    assert routes <= plain | templated, routes - plain - templated


@pytest.mark.parametrize("role", ["collector", "auditor", "manager"])
def test_only_admins_revoke_tokens(world, role):
    with world.client(role) as client:
        assert client.post(f"/users/{world.user_ids['auditor']}/revoke").status_code == 403
