"""The queue page with many open cases: ``GET /work`` timings over loopback.

A fresh SQLite database (or PostgreSQL with ``--db``) gets ``--cases`` open cases (loans,
borrowers with a made-up name each, a plan item and a score per loan, seeded), one manager
who sees every open case and one collector holding ``--collector-cases`` of them. A real
``loanrecovery serve`` process answers; each request is timed twice: inside the app (its
``Server-Timing`` header, from the request entering the app to the response leaving it) and
from the client over loopback (adds the HTTP stack and the transfer). The load average of the
machine is printed with the figures.

Measured, ``--repeat`` times each: the manager's first page, a page deep in the queue,
filtered by action, by segment and by promise status, searched by an exact Loan_ID and by the
start of a borrower's surname, the Next page after a deep page (keyset cursor); the
collector's first page. Prints median and p95 in ms.

Usage: python benchmarks/bench_web.py [--cases 100000] [--collector-cases 200] [--repeat 30]
       [--db URL]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from loanrecovery.service.auth import create_user  # noqa: E402
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction, upgrade  # noqa: E402
from loanrecovery.service.db.models import (  # noqa: E402
    Borrower,
    BorrowerName,
    Case,
    Loan,
    PlanItem,
    Promise,
    Score,
    name_keys,
)
from loanrecovery.service.logins import set_password  # noqa: E402

PASSWORD = "bench password 1"
ACTIONS = ("SMS Reminder", "Phone Call", "Field Visit", "Settlement Offer", "Legal Action")
SEGMENTS = ("Low", "Medium", "High", "Critical")
FIRST = ("Ana", "Ben", "Chloe", "Dev", "Eva", "Femi", "Gus", "Hana", "Ivo", "Jun")
LAST = ("Okafor", "Silva", "Novak", "Tanaka", "Haddad", "Berg", "Rossi", "Kowal", "Mensah")


def _fill(url: str, n: int, collector_cases: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    now = datetime.now(UTC)
    with transaction(factory) as s:
        manager = create_user(s, "manager", "manager")
        collector = create_user(s, "collector", "collector", capacity=collector_cases)
        set_password(s, manager, PASSWORD, actor="bench")
        set_password(s, collector, PASSWORD, actor="bench")
        collector_id = collector.id
    priority = rng.gamma(2.0, 5000.0, n)
    dpd = rng.integers(1, 200, n)
    balance = rng.gamma(2.0, 20000.0, n).round(2)
    chunk = 10_000
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        with transaction(factory) as s:
            s.execute(insert(Borrower), [
                {"borrower_id": f"B_{i}", "utc_offset": int(rng.integers(-8, 10)),
                 "contact_opt_out": bool(rng.random() < 0.05),
                 "personal": {"name": f"{FIRST[i % 10]} {LAST[(i // 10) % 9]}-{i}"}}
                for i in range(lo, hi)
            ])  # fmt: skip
            s.execute(insert(BorrowerName), [
                {"borrower_id": f"B_{i}", "key": key}
                for i in range(lo, hi)
                for key in name_keys({"name": f"{FIRST[i % 10]} {LAST[(i // 10) % 9]}-{i}"})
            ])  # fmt: skip
            s.execute(insert(Loan), [
                {"loan_id": f"LN_{i}", "borrower_id": f"B_{i}", "data": {},
                 "outstanding": float(balance[i]), "days_past_due": int(dpd[i]),
                 "panel_month": 12, "emi": 500.0, "updated_at": now}
                for i in range(lo, hi)
            ])  # fmt: skip
            s.execute(insert(Case), [
                {"loan_id": f"LN_{i}", "status": "Open", "bucket": "30-59",
                 "days_past_due": int(dpd[i]), "priority": float(priority[i]),
                 "assigned_to": collector_id if i < collector_cases else None,
                 "opened_at": now, "is_open": True, "action": ACTIONS[i % 5],
                 "segment": SEGMENTS[i % 4]}
                for i in range(lo, hi)
            ])  # fmt: skip
            s.execute(insert(Promise), [
                {"case_id": i + 1, "loan_id": f"LN_{i}", "promised_date": now, "amount": 100.0,
                 "status": ("Open", "Kept", "Broken")[i % 3], "created_at": now}
                for i in range(lo, hi, 20)
            ])  # fmt: skip
            s.execute(insert(PlanItem), [
                {"loan_id": f"LN_{i}", "action": ACTIONS[i % 5], "why": "bench",
                 "expected_gain": float(priority[i]), "priority": float(priority[i]),
                 "bundle_id": "bench", "created_at": now, "current": True}
                for i in range(lo, hi)
            ])  # fmt: skip
            s.execute(insert(Score), [
                {"loan_id": f"LN_{i}", "bundle_id": "bench", "as_of": 12, "scored_at": now,
                 "status": "Delinquent", "segment": SEGMENTS[i % 4], "pd_3m": 0.1,
                 "pd_6m": 0.2, "pd_12m": 0.3, "risk_band": "High", "reasons": [],
                 "recommended_action": ACTIONS[i % 5], "action_why": "bench",
                 "expected_gain": float(priority[i]), "on_watchlist": False}
                for i in range(lo, hi)
            ])  # fmt: skip
    if engine.dialect.name == "postgresql":  # autovacuum would, a minute after a bulk load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _login(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    answer = client.post("/login", data={"username": name, "password": PASSWORD,
                                         "csrf": token.group(1)})  # fmt: skip
    assert answer.status_code in (200, 303), answer.status_code
    return client


def _time(client: httpx.Client, path: str, repeat: int) -> tuple[list[float], list[float], int]:
    """Server and client times (ms) of ``repeat`` requests, and the rows on the page."""
    client.get(path)  # warm
    server, times, rows = [], [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
        found = re.search(r"app;dur=([0-9.]+)", answer.headers.get("Server-Timing", ""))
        assert found is not None, "no Server-Timing header"
        server.append(float(found.group(1)))
        rows = answer.text.count('<a href="/cases/')
    return server, times, rows


def _next_link(client: httpx.Client, path: str) -> str:
    """The Next link of a queue page (keyset cursor), HTML entities undone."""
    found = re.search(r'<a href="(/work\?[^"]*after=[^"]*)"', client.get(path).text)
    assert found is not None, ("no Next link", path)
    return found.group(1).replace("&amp;", "&")


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--collector-cases", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--db", default=None, help="an empty database URL (default: SQLite)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    url = args.db or f"sqlite:///{tmp / 'web.db'}"
    start = time.perf_counter()
    _fill(url, args.cases, args.collector_cases)
    took = time.perf_counter() - start
    print(f"filled {args.cases:,} open cases in {took:.1f} s ({url.split(':')[0]})")
    port = _port()
    command = [sys.executable, "-m", "loanrecovery", "serve", "--db", url, "--port", str(port),
               "--sweep-seconds", "0"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/api/v1/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        manager, collector = _login(base, "manager"), _login(base, "collector")
        deep = args.cases // 50 // 2
        who = args.cases // 7
        surname = f"{LAST[(who // 10) % 9]}-{who}".lower()
        cases = [
            (manager, "manager: first page", "/work"),
            (manager, f"manager: page {deep}", f"/work?p={deep}"),
            (manager, "manager: action filter", "/work?action=Field+Visit"),
            (manager, "manager: segment filter", "/work?segment=High"),
            (manager, "manager: promise filter (open)", "/work?promise=open"),
            (manager, "manager: segment filter, page 100", "/work?segment=High&p=100"),
            (manager, "manager: search Loan_ID", f"/work?q=LN_{args.cases // 3}"),
            (manager, "manager: search surname start", f"/work?q={surname}"),
            (manager, "manager: search full name start", "/work?q=dev+tanaka"),
            (collector, f"collector ({args.collector_cases} cases): first page", "/work"),
        ]
        cases.insert(2, (manager, f"manager: Next after page {deep}",
                         _next_link(manager, f"/work?p={deep}")))  # fmt: skip
        print(f"load before: {_uptime()}")
        print(f"{'request':<40} {'server median':>13} {'p95':>7} {'client median':>13} "
              f"{'p95':>7} {'rows':>5}")  # fmt: skip
        for client, label, path in cases:
            server, times, rows = _time(client, path, args.repeat)
            figures = (np.median(server), np.percentile(server, 95), np.median(times),
                       np.percentile(times, 95))  # fmt: skip
            print(f"{label:<40} {figures[0]:>13.1f} {figures[1]:>7.1f} {figures[2]:>13.1f} "
                  f"{figures[3]:>7.1f} {rows:>5}")  # fmt: skip
        print(f"load after: {_uptime()}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


if __name__ == "__main__":
    main()
