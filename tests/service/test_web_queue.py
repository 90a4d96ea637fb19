"""The queue's paging, filters and name search (both databases): keyset Next pages against
numbered pages, the filters on the case's copied action and segment, promise status, word-start
name search with wildcard characters taken literally, and migration 0004 filling in the
columns and name keys of an existing database."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select, text

from loanrecovery.service.auth import create_user
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction, upgrade
from loanrecovery.service.db.models import (
    Borrower,
    BorrowerName,
    Case,
    CommMessage,
    Loan,
    PlanItem,
    Promise,
    Score,
    User,
)
from loanrecovery.service.logins import set_password as store_password
from loanrecovery.service.web.common import Page
from loanrecovery.service.web.console import comms_figures
from loanrecovery.service.web.queue import PAGE_SIZE, QueueFilters, queue_rows

from .conftest import PASSWORD, Server  # type: ignore[import-not-found]

ACTIONS = ("Phone Call", "Field Visit", "SMS Reminder")
SEGMENTS = ("Low", "High")
N = 130  # three pages of 50


def _fill(url: str) -> Any:
    """N open cases with tied priorities in pairs (the cursor must break ties by id), named
    borrowers written through the ORM, an action and a segment each, a promise on every
    tenth; returns the engine."""
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with transaction(make_sessionmaker(engine)) as s:
        create_user(s, "boss", "manager")
        for i in range(N):
            name = "Zoë Quill-Ramirez" if i == 77 else f"Ana Silva-{i}"
            s.add(Borrower(borrower_id=f"B{i}", utc_offset=0, personal={"name": name}))
            s.add(Loan(loan_id=f"L{i}", borrower_id=f"B{i}", data={}, outstanding=100.0,
                       days_past_due=30, panel_month=12, emi=10.0, updated_at=now))  # fmt: skip
        s.flush()
        for i in range(N):
            case = Case(loan_id=f"L{i}", status="Open", bucket="30-59", days_past_due=30,
                        priority=float(1000 - i // 2), opened_at=now, is_open=True,
                        action=ACTIONS[i % 3], segment=SEGMENTS[i % 2])  # fmt: skip
            s.add(case)
            s.flush()
            if i % 10 == 0:
                s.add(Promise(case_id=case.id, loan_id=f"L{i}", promised_date=now, amount=5.0,
                              status="Open" if i % 20 == 0 else "Broken",
                              created_at=now))  # fmt: skip
    return engine


def _boss(s: Any) -> Page:
    """The manager's page context (the queue reads only its user)."""
    return Page(user=s.scalar(select(User).where(User.name == "boss")), web=None)  # type: ignore[arg-type]


def _loans(engine: Any, **filters: Any) -> list[str]:
    with make_sessionmaker(engine)() as s:
        rows, _ = queue_rows(s, _boss(s), QueueFilters(**filters))
    return [r["loan_id"] for r in rows]


def _walk(engine: Any, **filters: Any) -> list[str]:
    """Every page by the Next cursor, as the Next link builds it."""
    seen: list[str] = []
    after = ""
    with make_sessionmaker(engine)() as s:
        page = _boss(s)
        for number in range(1, 10):
            rows, _ = queue_rows(s, page, QueueFilters(page=number, after=after, **filters))
            seen += [r["loan_id"] for r in rows]
            if len(rows) < PAGE_SIZE:
                return seen
            after = f"{rows[-1]['priority']!r}:{rows[-1]['case_id']}"
    raise AssertionError("more pages than cases")


def test_next_pages_by_cursor_are_the_numbered_pages_in_priority_order(fresh_db):
    engine = _fill(fresh_db)
    try:
        numbered = [loan for p in (1, 2, 3) for loan in _loans(engine, page=p)]
        assert _walk(engine) == numbered
        assert numbered == [f"L{i}" for i in range(N)]  # priority down, ties by id
        high = _walk(engine, segment="High")
        assert high == [f"L{i}" for i in range(N) if i % 2 == 1]
        both = _loans(engine, action="Field Visit", segment="Low")
        assert both == [f"L{i}" for i in range(N) if i % 3 == 1 and i % 2 == 0][:PAGE_SIZE]
        assert _loans(engine, promise="open") == [f"L{i}" for i in range(0, N, 20)]
        assert _loans(engine, promise="broken") == [f"L{i}" for i in range(10, N, 20)]
        none = _walk(engine, promise="none")
        assert none == [f"L{i}" for i in range(N) if i % 10]
    finally:
        engine.dispose()


def test_name_search_matches_word_starts_and_takes_wildcards_literally(fresh_db):
    engine = _fill(fresh_db)
    try:
        assert _loans(engine, q="quill") == ["L77"]
        assert _loans(engine, q="  QUILL-ram ") == ["L77"]
        assert _loans(engine, q="zoë  q") == ["L77"]
        assert _loans(engine, q="uill") == []
        for wild in ("q*", "q%", "q_ill", "[q]uill", "?uill"):
            assert _loans(engine, q=wild) == [], wild
        assert _loans(engine, q="silva-12") == ["L12"] + [f"L{i}" for i in range(120, N)]
        assert _loans(engine, q="L5") == ["L5"] and _loans(engine, q="B6") == ["L6"]
        with transaction(make_sessionmaker(engine)) as s:
            s.get(Borrower, "B77").personal = {"name": "Zoë Hart"}  # type: ignore[union-attr]
        assert _loans(engine, q="quill") == [] and _loans(engine, q="hart") == ["L77"]
    finally:
        engine.dispose()


def test_migration_0004_fills_in_existing_cases_and_names(fresh_db):
    engine = make_engine(fresh_db)
    try:
        upgrade(engine, "0003_communications")
        now = datetime.now(UTC).isoformat(sep=" ")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO borrowers (borrower_id, utc_offset, contact_opt_out, "
                    "personal) VALUES ('B1', 0, false, '{\"name\": \"Ivo Berg\"}')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO loans (loan_id, borrower_id, data, outstanding, "
                    "days_past_due, emi, updated_at) VALUES ('L1', 'B1', '{}', 9, 40, "
                    f"1, '{now}')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO cases (loan_id, status, bucket, days_past_due, "
                    "priority, opened_at, is_open) VALUES ('L1', 'Open', '30-59', 40, "
                    f"5, '{now}', true)"
                )
            )
            for segment in ("Low", "High"):  # the newest score counts
                conn.execute(
                    text(
                        "INSERT INTO scores (loan_id, bundle_id, scored_at, status, "
                        "segment, reasons, on_watchlist) VALUES ('L1', 'b', "
                        f"'{now}', 'Delinquent', '{segment}', '[]', false)"
                    )
                )
            conn.execute(text("INSERT INTO plan_items (loan_id, action, why, priority, "
                              "bundle_id, created_at, current) VALUES ('L1', 'Phone Call', '', "
                              f"5, 'b', '{now}', true)"))  # fmt: skip
        upgrade(engine)
        with make_sessionmaker(engine)() as s:
            case = s.scalar(select(Case))
            keys = sorted(s.scalars(select(BorrowerName.key)))
        assert case is not None and (case.action, case.segment) == ("Phone Call", "High")
        assert keys == ["berg", "ivo berg"]
        assert PlanItem and Score  # the tables the migration read
    finally:
        engine.dispose()


def test_the_queue_page_links_next_by_cursor_and_reports_its_server_time(fresh_db, tmp_path):
    engine = _fill(fresh_db)
    with transaction(make_sessionmaker(engine)) as s:
        store_password(s, s.scalar(select(User).where(User.name == "boss")), PASSWORD,
                       actor="test")  # fmt: skip
    engine.dispose()
    server = Server(db=fresh_db, log=tmp_path / "queue.log").start()
    pattern = r'<a href="/cases/\d+">([^<]+)</a>'
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
            assert token is not None
            client.post("/login", data={"username": "boss", "password": PASSWORD,
                                        "csrf": token.group(1)})  # fmt: skip
            first = client.get("/work")
            found = re.search(r'<a href="(/work\?[^"]*after=[^"]*)"', first.text)
            assert found is not None, "no Next link"
            second = client.get(html.unescape(found.group(1)))
            numbered = client.get("/work?p=2")
            broken = [client.get("/work", params={"p": 2, "after": bad})
                      for bad in ("x", "1.5", "nan:3", ":")]  # fmt: skip
    finally:
        server.stop()
    assert re.fullmatch(r"app;dur=[0-9.]+", first.headers["Server-Timing"])
    assert re.findall(pattern, second.text) == [f"L{i}" for i in range(50, 100)]
    assert re.findall(pattern, numbered.text) == [f"L{i}" for i in range(50, 100)]
    assert "page 2" in second.text
    for answer in broken:  # a cursor that does not parse: the numbered page
        assert answer.status_code == 200
        assert re.findall(pattern, answer.text) == [f"L{i}" for i in range(50, 100)]


def test_the_console_counts_messages_by_status_and_blocked_ones_by_rule(fresh_db):
    engine = _fill(fresh_db)
    now = datetime.now(UTC)
    statuses = ["delivered"] * 3 + ["sent", "failed", "bounced", "queued", "blocked", "blocked",
                                    "blocked"]  # fmt: skip
    rules = ["quiet hours"] * 7 + ["opt-out", "quiet hours", "opt-out"]
    try:
        with transaction(make_sessionmaker(engine)) as s:
            for i, (state, rule) in enumerate(zip(statuses, rules, strict=True)):
                s.add(CommMessage(key=f"k{i}", borrower_id=f"B{i}", kind="reminder",
                                  channel="sms", medium="sms", template="t", template_version=1,
                                  language="en", body="b", profile="p", status=state, rule=rule,
                                  why="", scheduled_for=now, next_attempt_at=now,
                                  created_at=now, updated_at=now))  # fmt: skip
        with make_sessionmaker(engine)() as s:
            figures = comms_figures(s)
    finally:
        engine.dispose()
    assert figures == {"sent": 6, "delivered": 3, "failed": 2, "queued": 1, "blocked": 3,
                       "blocked_by_rule": [("opt-out", 2), ("quiet hours", 1)]}  # fmt: skip
