"""Throughput and latency of the recovery service, over loopback, on SQLite and PostgreSQL.

For each backend: a fresh database, the simulated book imported (``--loans`` x ``--months``),
a real ``loanrecovery serve`` process, then (each phase bounded by ``--seconds`` and a count):

1. single events, one after another: events/s, p50/p99 latency;
2. single events offered at ``--rate`` requests/s (open loop, 16 client threads): p50/p99 and
   the rate achieved (requests still waiting to be sent after twice ``--seconds`` are
   dropped and counted: the server fell behind);
3. batches of ``--batch`` events: events/s;
4. ``GET /loans/{id}`` and ``GET /queue`` at ``--rate`` requests/s: p50/p99.

Each phase also prints the server process's CPU time per request (``/proc``), a figure that
depends much less than the rates on what else the machine runs, this client's CPU time per
request, and the load average; the phases at a fixed rate also print the latency inside the
app (its ``Server-Timing`` header) beside the latency the client saw. Those phases send with
the standard library's ``http.client`` (keep-alive, a connection per client thread) rather
than httpx, which cost about 0.75 ms of CPU per request on the same 2 cores as the server.

Without ``--bundle`` the server applies payments without re-scoring; with it, each single
event re-scores its loan, and a batch re-scores each loan it pays once per chunk of 500
events (``Bundle.apply_one`` on the stored rows).

With ``--db URL`` an existing database (e.g. the 1,000,000-loan one of ``bench_import.py``)
is used as it is: no book is simulated or imported, the benchmark's users are added to it (the
collector of an earlier run is reused), its unassigned open cases are assigned (so that
``GET /queue`` reads a full queue, as on a fresh database), and it is kept afterwards.

Usage: python benchmarks/bench_service.py [--loans 10000] [--months 24] [--seconds 15]
       [--rate 200] [--batch 500] [--bundle FILE] [--backends sqlite,postgresql] [--db URL]
       [--workers N] [--senders N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import psutil
from sqlalchemy import create_engine, func, select, text

from loanrecovery.contract.book import validate_book
from loanrecovery.service.audit import SYSTEM
from loanrecovery.service.auth import create_user, issue_token
from loanrecovery.service.bulkload import analyze
from loanrecovery.service.cases import assign_open_cases
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction, upgrade
from loanrecovery.service.db.models import Base, Case, Loan, User
from loanrecovery.service.importer import import_book
from loanrecovery.simulate import simulate_portfolio

PG_ADMIN = os.environ.get(
    "LOANRECOVERY_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True)
class _Answer:
    status_code: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class _LeanClient:
    """Keep-alive HTTP/1.1 on the standard library, one connection per client thread, for the
    phases offered at a fixed rate. They run on the same 2 cores as the server, and httpx
    spent about 0.75 ms of CPU on each request (measured from the client process's CPU time
    at 200 requests/s), time the server's processes then waited for."""

    def __init__(self, base: str, token: str) -> None:
        parts = urllib.parse.urlsplit(base)
        self.host, self.port, self.prefix = parts.hostname or "127.0.0.1", parts.port, parts.path
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
            self.local.connection = connection
        return connection

    def request(self, method: str, path: str, body: object = None) -> _Answer:
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(2):
            connection = self._connection()
            try:
                connection.request(method, self.prefix + path, body=data, headers=self.headers)
                answer = connection.getresponse()
                content = answer.read()
                headers = {k.lower(): v for k, v in answer.getheaders()}
                return _Answer(answer.status, headers, content)
            except (http.client.HTTPException, OSError):
                connection.close()
                self.local.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def _models() -> list[type]:
    return [mapper.class_ for mapper in Base.registry.mappers]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database(backend: str, folder: Path) -> tuple[str, str | None]:
    name = f"lr_bench_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        return f"sqlite:///{folder / (name + '.db')}", None
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, name


def _drop(name: str | None) -> None:
    if name is None:
        return
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _prepare(url: str, book) -> tuple[str, str, list[str]]:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    tag = uuid.uuid4().hex[:6]
    with transaction(factory) as session:
        manager = create_user(session, f"bench-manager-{tag}", "manager")
        collector = None
        if book is None:  # --db: the collector of an earlier run keeps its queue
            collector = session.scalar(
                select(User).where(User.name.like("bench-collector-%")).order_by(User.id)
            )
        if collector is None:
            collector = create_user(session, f"bench-collector-{tag}", "collector",
                                    capacity=10**6)  # fmt: skip
        tokens = issue_token(session, manager), issue_token(session, collector)
    if book is None:  # --db: an existing database, used as it is
        start = time.perf_counter()
        with transaction(factory) as session:  # its open cases, as an import would assign
            assigned = assign_open_cases(session, capacity=10**6, actor=SYSTEM)
            # fresh statistics of every table, as PostgreSQL's autovacuum keeps them: where it
            # is off (as on the development machines), the tables earlier runs filled (scores,
            # plan items, events) still look empty to the planner, which then scans them whole
            analyze(session, _models())
        with factory() as session:
            loan_ids = list(session.scalars(select(Loan.loan_id)))
            queue = session.scalar(
                select(func.count()).select_from(Case)
                .where(Case.is_open, Case.assigned_to == collector.id)
            )  # fmt: skip
        print(f"  existing database: {len(loan_ids):,} loans; {assigned:,} open cases assigned "
              f"now ({time.perf_counter() - start:.1f} s), the collector's queue holds "
              f"{queue:,} open cases")  # fmt: skip
        engine.dispose()
        return tokens[0], tokens[1], loan_ids
    start = time.perf_counter()
    with transaction(factory) as session:
        import_book(session, book.loans, book.payments, book.collections, source="bench",
                    actor=SYSTEM, capacity=10**6)  # fmt: skip
    print(f"  import of {len(book.loans):,} loans: {time.perf_counter() - start:.1f} s")
    engine.dispose()
    return tokens[0], tokens[1], list(book.loans["Loan_ID"])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds so far of a process and its live children (the workers of
    ``serve --workers``)."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        times = proc.cpu_times()
        total += times.user + times.system
    return total


def _with_cpu(pid: int, phase) -> str:
    """Run ``phase()`` (returning its line and how many requests it made); add the server's
    and this client's CPU per request and the load average."""
    start, mine = _cpu_seconds(pid), time.process_time()
    line, count = phase()
    per = 1000 * (_cpu_seconds(pid) - start) / max(count, 1)
    client = 1000 * (time.process_time() - mine) / max(count, 1)
    return (
        f"{line}  server CPU {per:.2f} ms/request, client CPU {client:.2f}  "
        f"(load {os.getloadavg()[0]:.1f})"
    )


def _event(loan_ids: list[str], rng: random.Random) -> dict:
    return {
        "event_id": uuid.uuid4().hex,
        "loan_id": rng.choice(loan_ids),
        "amount": round(rng.uniform(0.01, 2.0), 2),
        "paid_at": datetime.now(UTC).isoformat(),
    }


def _pcts(latencies: list[float]) -> str:
    arr = np.asarray(latencies) * 1000
    return f"p50 {np.percentile(arr, 50):6.1f} ms  p99 {np.percentile(arr, 99):6.1f} ms"


def _sequential(client: httpx.Client, loan_ids, seconds: float, limit: int) -> str:
    rng = random.Random(1)
    latencies = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds and len(latencies) < limit:
        t0 = time.perf_counter()
        answer = client.post("/payments", json=_event(loan_ids, rng))
        latencies.append(time.perf_counter() - t0)
        assert answer.status_code == 201, answer.text
    rate = len(latencies) / (time.perf_counter() - start)
    return f"{len(latencies):6d} events  {rate:8.1f} events/s  {_pcts(latencies)}", len(latencies)


def _paced(rate: float, seconds: float, request) -> str:
    count = int(rate * seconds)
    latencies: list[float] = []
    in_app: list[float] = []  # the server's own time (its Server-Timing header), seconds
    lock = threading.Lock()
    errors = []
    skipped = []

    def one(i: int, due: float) -> None:
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if time.perf_counter() > stop:  # the server fell behind: stop offering
            skipped.append(i)
            return
        t0 = time.perf_counter()
        answer = request(i)
        timing = answer.headers.get("server-timing", "")
        with lock:
            latencies.append(time.perf_counter() - t0)
            if timing.startswith("app;dur="):
                in_app.append(float(timing.removeprefix("app;dur=")) / 1000)
            if answer.status_code >= 300:
                errors.append(answer.status_code)

    start = time.perf_counter() + 0.2
    stop = start + 2 * seconds
    with ThreadPoolExecutor(16) as pool:
        for i in range(count):
            pool.submit(one, i, start + i / rate)
    achieved = len(latencies) / (time.perf_counter() - start)
    bad = f"  ({len(errors)} non-2xx)" if errors else ""
    late = f"  ({len(skipped)} not sent: behind by {seconds:.0f} s)" if skipped else ""
    inside = f"  (in the app: {_pcts(in_app)})" if in_app else ""
    line = (
        f"{count:6d} requests offered at {rate:.0f}/s, {achieved:6.1f}/s done  "
        f"{_pcts(latencies)}{inside}{bad}{late}"
    )
    return line, len(latencies)


def _batches(
    client: httpx.Client, loan_ids, size: int, seconds: float, limit: int, senders: int = 1
):
    """Batches of ``size`` events for ``seconds``, from ``senders`` client threads at once
    (each sends its next batch when the last is answered)."""
    done = [0]
    lock = threading.Lock()
    start = time.perf_counter()

    def send(seed: int) -> None:
        rng = random.Random(seed)
        while time.perf_counter() - start < seconds and done[0] < limit:
            body = [_event(loan_ids, rng) for _ in range(size)]
            answer = client.post("/payments/batch", json=body)
            assert answer.status_code == 200, answer.text[:300]
            with lock:
                done[0] += size

    threads = [threading.Thread(target=send, args=(2 + k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rate = done[0] / (time.perf_counter() - start)
    who = f", {senders} senders at once" if senders > 1 else ""
    return f"{done[0]:6d} events in batches of {size}{who}  {rate:8.1f} events/s", done[0]


def run_backend(backend: str, book, args: argparse.Namespace, folder: Path) -> None:
    url, name = (args.db, None) if args.db else _database(backend, folder)
    print(f"\n== {backend} ==")
    proc = None
    try:
        manager, collector, loan_ids = _prepare(url, book)
        port = _free_port()
        command = [sys.executable, "-m", "loanrecovery", "serve", "--db", url, "--port",
                   str(port), "--sweep-seconds", "0"]  # fmt: skip
        if args.bundle:
            command += ["--bundle", str(args.bundle)]
        if args.workers > 1:
            command += ["--workers", str(args.workers)]
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}/api/v1"
        for _ in range(600):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        m = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {manager}"},
                         timeout=120, limits=limits)  # fmt: skip
        c = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {collector}"},
                         timeout=120, limits=limits)  # fmt: skip
        lean_m, lean_c = _LeanClient(base, manager), _LeanClient(base, collector)
        rng = random.Random(3)
        pid = proc.pid
        print(
            "  single, sequential  ",
            _with_cpu(pid, lambda: _sequential(m, loan_ids, args.seconds, 20_000)),
        )
        print(
            "  single, paced       ",
            _with_cpu(
                pid,
                lambda: _paced(
                    args.rate,
                    args.seconds,
                    lambda i: lean_m.request("POST", "/payments", _event(loan_ids, rng)),
                ),
            ),
        )
        print(
            "  batch               ",
            _with_cpu(
                pid, lambda: _batches(m, loan_ids, args.batch, args.seconds, 200_000, args.senders)
            ),
        )
        print(
            "  GET /loans/{id}     ",
            _with_cpu(
                pid,
                lambda: _paced(
                    args.rate,
                    args.seconds,
                    lambda i: lean_m.request("GET", f"/loans/{loan_ids[i % len(loan_ids)]}"),
                ),
            ),
        )
        print(
            "  GET /queue          ",
            _with_cpu(
                pid,
                lambda: _paced(args.rate, args.seconds, lambda i: lean_c.request("GET", "/queue")),
            ),
        )
        m.close()
        c.close()
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        _drop(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--bundle", type=Path, default=None)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--db", default=None, help="reuse this database (skip the import)")
    parser.add_argument("--workers", type=int, default=1, help="serve --workers N")
    parser.add_argument(
        "--senders",
        type=int,
        default=1,
        help="client threads sending batches at once (batch phase)",
    )
    args = parser.parse_args()
    if args.db:
        backend = "postgresql" if args.db.startswith("postgresql") else "sqlite"
        print(f"database {args.db} as it is; bundle: {args.bundle or 'none'}")
        with tempfile.TemporaryDirectory() as tmp:
            run_backend(backend, None, args, Path(tmp))
        return
    sim = simulate_portfolio(n_loans=args.loans, n_months=args.months, seed=42, truth=False)
    book = validate_book(sim.loans, sim.payments, sim.collections, source="bench")
    print(f"book: {len(book.loans):,} loans x {args.months} months; phases of at most "
          f"{args.seconds:.0f} s; bundle: {args.bundle or 'none (no re-scoring)'}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            run_backend(backend.strip(), book, args, Path(tmp))


if __name__ == "__main__":
    main()
