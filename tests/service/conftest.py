"""Fixtures of the service tests: real databases (a SQLite file and a fresh PostgreSQL
database per test session, dropped afterwards) and real server processes
(``python -m loanrecovery serve`` on a free loopback port). Nothing is mocked.

PostgreSQL: the local server at 127.0.0.1:5432 with trust authentication, as user
``postgres`` or ``root`` (``LOANRECOVERY_TEST_PG_USER`` overrides; ``LOANRECOVERY_TEST_PG``
gives host:port). When it cannot be reached the PostgreSQL cases are skipped locally, and fail
in CI (``CI=true``): `.ci/run` starts the server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select, text

from loanrecovery.contract.book import Book, validate_book
from loanrecovery.service.audit import SYSTEM
from loanrecovery.service.auth import create_user, issue_token
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction, upgrade
from loanrecovery.service.db.models import User
from loanrecovery.service.importer import import_book
from loanrecovery.service.logins import set_password as store_password
from loanrecovery.simulate import simulate_portfolio

PG_HOSTPORT = os.environ.get("LOANRECOVERY_TEST_PG", "127.0.0.1:5432")
BACKENDS = ("sqlite", "postgresql")
ROLES = ("admin", "manager", "collector", "auditor")
CAPACITY = 40
WEB_USERS = ("admin", "manager", "auditor", "collector", "collector2")


def _pg_admin_url() -> str | None:
    users = [os.environ.get("LOANRECOVERY_TEST_PG_USER"), "postgres", "root"]
    for user in [u for u in users if u]:
        for database in ("postgres", "test"):
            url = f"postgresql+psycopg://{user}@{PG_HOSTPORT}/{database}"
            engine = create_engine(url, isolation_level="AUTOCOMMIT")
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return url
            except Exception:
                continue
            finally:
                engine.dispose()
    return None


class Databases:
    """Creates fresh databases; drops the PostgreSQL ones at the end of the session."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.session = uuid.uuid4().hex[:8]
        self.admin = _pg_admin_url()
        self.created: list[str] = []

    def new(self, backend: str) -> str:
        """A URL of a new, empty database."""
        name = f"lr_test_{self.session}_{len(self.created) + 1}"
        self.created.append(name)
        if backend == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.db')}"
        if self.admin is None:
            message = f"PostgreSQL is not reachable at {PG_HOSTPORT} (users postgres, root)"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message + "; .ci/run should have started it")
            pytest.skip(message)
        engine = create_engine(self.admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        base = self.admin.rsplit("/", 1)[0]
        return f"{base}/{name}"

    def drop_all(self) -> None:
        """Drop every PostgreSQL database this session created."""
        if self.admin is None:
            return
        engine = create_engine(self.admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    dbs = Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def small_book() -> Book:
    """A simulated book of 400 loans x 12 months, through the data contract."""
    sim = simulate_portfolio(n_loans=400, n_months=12, seed=7, truth=False)
    return validate_book(sim.loans, sim.payments, sim.collections, source="simulated test book")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A real ``loanrecovery serve`` process."""

    db: str
    log: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    extra: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> Server:
        self.port = _free_port()
        command = [sys.executable, "-m", "loanrecovery", "serve", "--db", self.db,
                   "--port", str(self.port), "--sweep-seconds", "0", *self.extra]  # fmt: skip
        out = self.log.open("ab")
        self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/api/v1/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start in {timeout}s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def client(self, token: str | None) -> httpx.Client:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers, timeout=60)


@dataclass
class World:
    """A database holding the small book and one user per role (two collectors), and a
    server on it."""

    backend: str
    db: str
    server: Server
    tokens: dict[str, str]
    user_ids: dict[str, int]

    def client(self, role: str | None) -> httpx.Client:
        return self.server.client(None if role is None else self.tokens[role])


def payment_events(loan_ids: list[str], prefix: str, count: int, amount: float) -> list[dict]:
    """``count`` payment bodies ``{prefix}-{i}`` over ``loan_ids`` in turn."""
    now = datetime.now(UTC).isoformat()
    return [
        {"event_id": f"{prefix}-{i}", "loan_id": loan_ids[i % len(loan_ids)], "amount": amount,
         "paid_at": now}
        for i in range(count)
    ]  # fmt: skip


def post_payments_at_once(
    server: Server, token: str, bodies: list[dict], clients: int
) -> list[tuple[str, int, dict]]:
    """``POST /payments`` of every body from ``clients`` threads at once (thread k sends
    ``bodies[k::clients]`` in order); ``(event_id, status code, answer)`` in the order the
    answers came."""
    answers: list[tuple[str, int, dict]] = []
    lock = threading.Lock()

    def send(part: list[dict]) -> None:
        with server.client(token) as client:
            for body in part:
                reply = client.post("/payments", json=body)
                with lock:
                    answers.append((body["event_id"], reply.status_code, reply.json()))

    threads = [threading.Thread(target=send, args=(bodies[k::clients],)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def prepare_database(url: str, book: Book) -> tuple[dict[str, str], dict[str, int]]:
    """Migrate, add users (admin, manager, auditor, collector, collector2), import the book;
    returns the tokens and user ids by name."""
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    tokens, ids = {}, {}
    with transaction(factory) as session:
        for name, role in (("admin", "admin"), ("manager", "manager"), ("auditor", "auditor"),
                           ("collector", "collector"), ("collector2", "collector")):  # fmt: skip
            user = create_user(session, name, role, capacity=CAPACITY)
            tokens[name], ids[name] = issue_token(session, user), user.id
    with transaction(factory) as session:
        import_book(
            session, book.loans, book.payments, book.collections, source=book.source,
            actor=SYSTEM, capacity=CAPACITY,
        )  # fmt: skip
    engine.dispose()
    return tokens, ids


def make_world(backend: str, databases: Databases, book: Book, tmp: Path) -> World:
    db = databases.new(backend)
    tokens, ids = prepare_database(db, book)
    server = Server(db=db, log=tmp / f"server-{backend}.log").start()
    return World(backend=backend, db=db, server=server, tokens=tokens, user_ids=ids)


@pytest.fixture(scope="session", params=BACKENDS)
def world(
    request: pytest.FixtureRequest,
    databases: Databases,
    small_book: Book,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    """One server per backend, shared by the API, role and schema tests."""
    built = make_world(request.param, databases, small_book, tmp_path_factory.mktemp("srv"))
    yield built
    built.server.stop()


@pytest.fixture(params=BACKENDS)
def fresh_db(request: pytest.FixtureRequest, databases: Databases) -> str:
    """A new empty database on each backend."""
    return databases.new(request.param)


#: The web log-in password the ``web`` fixture gives every user of the world.
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def web(world):
    """The shared world, with a web password for each of its users."""
    engine = make_engine(world.db)
    with transaction(make_sessionmaker(engine)) as session:
        for user in session.scalars(select(User).where(User.name.in_(WEB_USERS))):
            store_password(session, user, PASSWORD, actor="test")
    engine.dispose()
    return world
