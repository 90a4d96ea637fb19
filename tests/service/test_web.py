"""The web pages over HTTP against a real server (both databases): log-in, the CSRF checks,
the lock-out, and which role may open which page."""

from __future__ import annotations

import html
import re
from contextlib import closing
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from tests.service.conftest import PASSWORD

from loanrecovery.service.db import make_engine, make_sessionmaker, transaction
from loanrecovery.service.db.models import User
from loanrecovery.service.logins import MAX_FAILURES
from loanrecovery.service.logins import set_password as store_password


def _browser(web) -> httpx.Client:
    return httpx.Client(base_url=web.server.url, follow_redirects=False, timeout=60)


def _form_csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def login(web, name: str, password: str = PASSWORD) -> httpx.Client:
    """A client holding a session cookie of ``name``."""
    client = _browser(web)
    token = _form_csrf(client.get("/login").text)
    answer = client.post("/login", data={"username": name, "password": password, "csrf": token})
    assert answer.status_code == 303, answer.text[:500]
    return client


def test_pages_send_anonymous_visitors_to_the_log_in_page(web):
    with _browser(web) as client:
        answer = client.get("/work?q=x")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=/work")
        hx = client.get("/work", headers={"HX-Request": "true"})
        assert hx.status_code == 401 and hx.headers["HX-Redirect"].startswith("/login")


def test_log_in_needs_the_form_csrf_token_and_the_right_password(web):
    with _browser(web) as client:
        token = _form_csrf(client.get("/login").text)
        data = {"username": "collector", "password": PASSWORD}
        assert client.post("/login", data=data).status_code == 403
        assert client.post("/login", data=data | {"csrf": "forged"}).status_code == 403
        wrong = client.post("/login", data=data | {"password": "nope", "csrf": token})
        assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
        token = _form_csrf(wrong.text)
        ok = client.post("/login", data=data | {"csrf": token, "next": "/work"})
        assert ok.status_code == 303 and ok.headers["location"] == "/work"
        cookie = ok.headers["set-cookie"]
        assert (
            "lr_session=" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
        )
        page = client.get("/work")
    assert page.status_code == 200
    assert "Content-Security-Policy" in page.headers
    with web.client("collector") as api:
        mine = [item["loan_id"] for item in api.get("/queue", params={"limit": 50}).json()]
    shown = re.findall(r'<a href="/cases/\d+">([^<]+)</a>', page.text)
    assert shown == mine[: len(shown)] and len(shown) == min(50, len(mine)) > 0


def test_log_out_needs_the_session_csrf_token_and_ends_the_session(web):
    with closing(login(web, "auditor")) as client:
        assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
        assert client.get("/audit").status_code == 200
        token = _form_csrf(client.get("/audit").text)
        assert client.post("/logout", data={"csrf": token}).status_code == 303
        assert client.get("/audit").status_code == 303


def test_repeated_failures_lock_the_user_out_and_every_attempt_is_audited(web):
    engine = make_engine(web.db)
    with transaction(make_sessionmaker(engine)) as session:
        user = User(name="locky", role="collector", active=True, created_at=datetime.now(UTC))
        session.add(user)
        session.flush()
        store_password(session, user, PASSWORD, actor="test")
    engine.dispose()
    with _browser(web) as client:
        answers = []
        for _ in range(MAX_FAILURES):
            token = _form_csrf(client.get("/login").text)
            answers.append(client.post("/login", data={"username": "locky", "password": "bad",
                                                        "csrf": token}))  # fmt: skip
        token = _form_csrf(client.get("/login").text)
        right = client.post("/login", data={"username": "locky", "password": PASSWORD,
                                            "csrf": token})  # fmt: skip
    assert [a.status_code for a in answers] == [401] * MAX_FAILURES
    assert "locked" in answers[-1].text
    assert right.status_code == 401 and "locked" in right.text
    with web.client("auditor") as api:
        rows = api.get("/audit", params={"actor": "locky", "limit": 100}).json()
    actions = [row["action"] for row in rows]
    assert actions.count("login.failed") == MAX_FAILURES and "login.refused" in actions
    assert all("bad" not in str(row) and PASSWORD not in str(row) for row in rows)


PAGES = {
    "/work": {"manager", "collector"},
    "/cases/{case}": {"admin", "manager", "auditor", "collector"},
    "/console": {"admin", "manager"},
    "/policy": {"admin", "manager", "auditor"},
    "/audit": {"admin", "manager", "auditor"},
}


@pytest.mark.parametrize("name", ["admin", "manager", "auditor", "collector"])
def test_each_role_opens_exactly_its_pages(web, name):
    case = _my_case(web)["case_id"]
    with closing(login(web, name)) as client:
        codes = {path: client.get(path.format(case=case)).status_code for path in PAGES}
    expected = {path: 200 if name in roles else 403 for path, roles in PAGES.items()}
    assert codes == expected


def _my_case(web, role: str = "collector", index: int = 0) -> dict:
    with web.client(role) as api:
        return api.get("/queue", params={"limit": 50}).json()[index]


def _activities(web, loan_id: str) -> list[dict]:
    with web.client("manager") as api:
        return api.get(f"/loans/{loan_id}").json()["activities"]


def test_a_collector_opens_only_their_own_cases(web):
    mine, theirs = _my_case(web, "collector"), _my_case(web, "collector2")
    with closing(login(web, "collector")) as client:
        own = client.get(f"/cases/{mine['case_id']}")
        other = client.get(f"/cases/{theirs['case_id']}")
        missing = client.get("/cases/999999999")
    assert own.status_code == 200 and mine["loan_id"] in own.text
    assert other.status_code == 403 and theirs["loan_id"] not in other.text
    assert missing.status_code == 404


def test_actions_need_the_session_csrf_token_and_write_nothing_without_it(web):
    case = _my_case(web, index=2)
    before = len(_activities(web, case["loan_id"]))
    with closing(login(web, "collector")) as client:
        data = {"channel": "letter", "outcome": "answered", "note": "x"}
        refused = client.post(f"/cases/{case['case_id']}/call", data=data)
        forged = client.post(f"/cases/{case['case_id']}/call", data=data | {"csrf": "forged"})
    assert refused.status_code == 403 and forged.status_code == 403
    assert len(_activities(web, case["loan_id"])) == before


def test_a_call_with_a_promise_is_one_audited_change_and_limits_are_refused(web):
    case = _my_case(web, index=3)
    today = datetime.now(UTC).date()
    hx = {"HX-Request": "true"}
    with closing(login(web, "collector")) as client:
        page = client.get(f"/cases/{case['case_id']}")
        token = _form_csrf(page.text)
        far = client.post(
            f"/cases/{case['case_id']}/call", headers=hx,
            data={"csrf": token, "channel": "letter", "outcome": "promise to pay",
                  "promised_date": (today + timedelta(days=90)).isoformat(), "amount": "25"},
        )  # fmt: skip
        assert "more than 30 days away" in far.text
        assert _activities(web, case["loan_id"]) == []
        made = client.post(
            f"/cases/{case['case_id']}/call", headers=hx,
            data={"csrf": token, "channel": "letter", "outcome": "promise to pay",
                  "promised_date": today.isoformat(), "amount": "25", "note": "will pay"},
        )  # fmt: skip
    assert made.status_code == 200 and "Call logged with a promise to pay" in made.text
    with web.client("manager") as api:
        loan = api.get(f"/loans/{case['loan_id']}").json()
        audit = api.get("/audit", params={"actor": "collector", "limit": 1000}).json()
    assert [a["note"] for a in loan["activities"]].count("will pay") == 1
    assert any(p["amount"] == 25 and p["status"] == "Open" for p in loan["promises"])
    assert len(loan["promises"]) == 1  # the refused one wrote nothing
    mine = [r for r in audit if r["entity_id"] == str(case["case_id"])]
    assert any(r["action"] == "activity.logged" for r in mine)


def test_settlements_above_the_discount_wait_for_a_manager_who_decides_on_the_console(web):
    case = _my_case(web, index=4)
    with web.client("manager") as api:
        balance = api.get(f"/loans/{case['loan_id']}").json()["outstanding"]
    with web.client("collector") as api:
        small = api.post(f"/cases/{case['case_id']}/settlements", json={"amount": balance * 0.9})
        big = api.post(f"/cases/{case['case_id']}/settlements", json={"amount": balance * 0.5})
        too_big = api.post(f"/cases/{case['case_id']}/settlements", json={"amount": balance * 0.1})
    assert small.json()["status"] == "Approved" and big.json()["status"] == "Pending"
    assert too_big.status_code == 422 and "maximum" in too_big.text
    pending = big.json()["arrangement_id"]
    with closing(login(web, "collector")) as client:
        token = _form_csrf(client.get("/work").text)
        refused = client.post(f"/console/settlements/{pending}",
                              data={"csrf": token, "decision": "approve"})  # fmt: skip
    assert refused.status_code == 403
    with closing(login(web, "manager")) as client:
        console = client.get("/console")
        assert console.status_code == 200 and case["loan_id"] in console.text
        token = _form_csrf(console.text)
        done = client.post(f"/console/settlements/{pending}",
                           data={"csrf": token, "decision": "approve"})  # fmt: skip
        again = client.post(f"/console/settlements/{pending}",
                            data={"csrf": token, "decision": "reject"})  # fmt: skip
    assert done.status_code == 303 and "approved" in done.headers["location"]
    assert "err=" in again.headers["location"]
    with web.client("manager") as api:
        rows = api.get("/arrangements", params={"status": "Approved"}).json()
        audit = api.get("/audit", params={"action": "settlement.approved"}).json()
    assert any(r["arrangement_id"] == pending for r in rows)
    assert [r["entity_id"] for r in audit].count(str(pending)) == 1


def test_an_invalid_policy_is_refused_with_its_line_and_a_valid_one_is_versioned(web):
    with closing(login(web, "manager")) as client:
        page = client.get("/policy")
        token = _form_csrf(page.text)
        current = re.search(r'name="text"[^>]*>(.*?)</textarea>', page.text, re.S)
        assert current is not None
        text = html.unescape(current.group(1))
        broken = text + '\n[[rule]]\nname = "x"\naction = "Fly to the moon"\n'
        bad = client.post("/policy", data={"csrf": token, "text": broken})
        good = client.post("/policy", data={"csrf": token, "text": text})
    assert bad.status_code == 422 and "line" in bad.text and "Not saved" in bad.text
    assert good.status_code == 303
    with web.client("auditor") as api:
        policy = api.get("/policy").json()
        saved = api.get("/audit", params={"action": "policy.saved"}).json()
    assert policy["version"] >= 1 and policy["text"] == text
    assert len(saved) == policy["version"]
