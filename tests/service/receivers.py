"""Real local receivers for the communication tests and benchmark: an SMTP server
(aiosmtpd) with an HTTP log of the Message-IDs it accepted (as a relay's message API would
answer), and an SMS-provider-like webhook with a lookup, all on loopback. Each counts every
arrival per key: a key that arrives twice is a repeat, which the tests require to be zero."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from aiosmtpd.controller import Controller
from sqlalchemy import select

from loanrecovery.comms.records import record_request
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction
from loanrecovery.service.db.models import Borrower, Case, Loan, PlanItem


class _Book:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.arrivals: Counter[str] = Counter()
        self.bodies: dict[str, str] = {}
        self.lock = threading.Lock()

    def arrive(self, key: str, body: str) -> None:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.arrivals[key] += 1
            self.bodies.setdefault(key, body)

    @property
    def delivered(self) -> set[str]:
        with self.lock:
            return set(self.arrivals)

    @property
    def repeats(self) -> int:
        with self.lock:
            return sum(n - 1 for n in self.arrivals.values())


class _Lookup:
    """``GET /.../{key}``: 200 when ``found(key)``, else 404 (the key URL-quoted)."""

    def __init__(self, found: Any) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                hit = bool(found(unquote(self.path.rsplit("/", 1)[-1])))
                data = json.dumps({"found": hit}).encode()
                self.send_response(200 if hit else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver(_Book):
    """An aiosmtpd server on 127.0.0.1; keys from ``X-Idempotency-Key``; the Message-IDs it
    accepted are answered at ``lookup_url`` (``/messages/{message-id}``)."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(delay)
        book = self
        self.message_ids: set[str] = set()

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                mail = message_from_bytes(envelope.original_content or envelope.content)
                payload = mail.get_payload(decode=True) or b""
                book.arrive(str(mail["X-Idempotency-Key"]), payload.decode("utf-8", "replace"))
                with book.lock:
                    book.message_ids.add(str(mail["Message-ID"]))
                return "250 OK"

        with socket.socket() as sock:  # a free port (aiosmtpd probes the port it is given)
            sock.bind(("127.0.0.1", 0))
            free = int(sock.getsockname()[1])
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=free)

    def _accepted(self, message_id: str) -> bool:
        with self.lock:
            return message_id in self.message_ids

    def start(self) -> SmtpReceiver:
        self.controller.start()
        self.log = _Lookup(self._accepted)
        return self

    @property
    def lookup_url(self) -> str:
        return self.log.url + "/messages/{key}"

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def stop(self) -> None:
        self.controller.stop()
        self.log.stop()


class WebhookReceiver(_Book):
    """``POST /send`` (``Idempotency-Key`` header) and ``GET /messages/{key}`` (200 / 404)."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(delay)
        book = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                key = self.headers["Idempotency-Key"]
                assert body["idempotency_key"] == key
                book.arrive(key, body["body"])
                self._answer(200, {"id": "prov-" + key})

            def do_GET(self) -> None:
                key = unquote(self.path.rsplit("/", 1)[-1])
                found = key in book.delivered
                self._answer(200 if found else 404, {"found": found})

            def _answer(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> WebhookReceiver:
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def prepare_comms(db: str, *, cases: int, now: Any = None) -> dict[str, list[str]]:
    """Give ``cases`` open cases a plan action (SMS or Automated Reminder, alternating) and
    their borrowers contact data, SMS consent and a UTC offset where it is now about 13:00;
    returns the borrower ids by planned channel."""
    now = now or datetime.now(UTC)
    offset = 13 - now.hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    engine = make_engine(db)
    out: dict[str, list[str]] = {"sms": [], "email": []}
    with transaction(make_sessionmaker(engine)) as session:
        rows = session.execute(
            select(Case, Loan).join(Loan, Loan.loan_id == Case.loan_id)
            .where(Case.is_open, Loan.borrower_id.is_not(None)).order_by(Case.id)
        ).all()  # fmt: skip
        seen: set[str] = set()
        for _case, loan in rows:
            bid = str(loan.borrower_id)
            if bid in seen:
                continue
            seen.add(bid)
            i = len(seen)
            action = "SMS" if i % 2 else "Automated Reminder"
            session.add(PlanItem(loan_id=loan.loan_id, action=action, why="test plan",
                                 expected_gain=1.0, priority=float(1000 - i), bundle_id="test",
                                 created_at=now, current=True))  # fmt: skip
            borrower = session.get(Borrower, bid)
            assert borrower is not None
            borrower.utc_offset = offset
            borrower.personal = {"email": f"b{i}@example.invalid", "phone": f"+1555000{i:04d}",
                                 "address": f"{i} Test Street", "language": "en"}  # fmt: skip
            record_request(session, bid, "consent", medium="sms", source="test", actor="test")
            out["sms" if action == "SMS" else "email"].append(bid)
            if len(seen) >= cases:
                break
    engine.dispose()
    return out


def borrower_of(db: str, loan_id: str) -> str:
    """The borrower of a stored loan."""
    engine = make_engine(db)
    with make_sessionmaker(engine)() as session:
        bid = session.scalar(select(Loan.borrower_id).where(Loan.loan_id == loan_id))
    engine.dispose()
    return str(bid)


def _say(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def serve() -> None:
    """Run both receivers in their own process (the benchmark): prints their ports as one
    JSON line, then on any line from standard input prints the counts and exits."""
    smtp, hook = SmtpReceiver().start(), WebhookReceiver().start()
    _say({"smtp_port": smtp.port, "webhook_url": hook.url})
    for _line in sys.stdin:
        counts = {"smtp": [len(smtp.delivered), smtp.repeats],
                  "webhook": [len(hook.delivered), hook.repeats]}  # fmt: skip
        _say(counts)
    smtp.stop()
    hook.stop()


if __name__ == "__main__":
    serve()
