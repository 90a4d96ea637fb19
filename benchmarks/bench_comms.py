"""Messages per second from the outbox to a real local SMTP server and webhook receiver.

For each backend: a fresh database, ``--messages`` borrowers (each with a time zone where it
is now early afternoon, contact data and SMS consent) and one queued reminder each; then the
outbox worker (the code behind ``loanrecovery comms worker``, run in this process) claims,
re-checks the contact policy, sends and acknowledges them in batches of ``--batch`` (the next
batch claimed while one is being sent), first
all by e-mail (aiosmtpd on loopback), then all by SMS (an HTTP receiver on loopback). The
receivers run in this process too and share the machine's 2 cores. Prints the load
(``uptime``) next to the figures: the machine is shared.

    python benchmarks/bench_comms.py --messages 1000 --backends sqlite,postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from sqlalchemy import create_engine, insert, text  # noqa: E402

from loanrecovery.comms.channels import build_channels  # noqa: E402
from loanrecovery.comms.config import CommsSettings  # noqa: E402
from loanrecovery.comms.policy import load_profile  # noqa: E402
from loanrecovery.comms.worker import Worker  # noqa: E402
from loanrecovery.service.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from loanrecovery.service.db.models import (  # noqa: E402
    Borrower,
    CommConsent,
    CommMessage,
)

RECEIVERS = Path(__file__).resolve().parent.parent / "tests" / "service" / "receivers.py"

PG_ADMIN = os.environ.get(
    "LOANRECOVERY_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


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


def _fill(factory, n: int, channel: str, tag: str) -> None:
    now = datetime.now(UTC)
    offset = 13 - now.hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    ids = [f"{tag}{i}" for i in range(n)]
    with factory() as session, session.begin():
        session.execute(insert(Borrower), [
            {"borrower_id": b, "utc_offset": offset, "contact_opt_out": False,
             "personal": {"email": f"{b}@example.invalid", "phone": f"+1555{i:07d}"}}
            for i, b in enumerate(ids)
        ])  # fmt: skip
        session.execute(insert(CommConsent), [
            {"borrower_id": b, "medium": "sms", "granted": True, "language": None,
             "source": "bench", "recorded_at": now, "recorded_by": "bench"} for b in ids
        ])  # fmt: skip
        session.execute(insert(CommMessage), [
            {"key": f"reminder:{b}", "borrower_id": b, "loan_id": None, "case_id": None,
             "kind": "reminder", "channel": channel, "medium": channel, "template": "reminder",
             "template_version": 1, "language": "en", "subject": "Payment reminder",
             "body": "Your payment is due.\nReply STOP to stop texts.", "profile": "us_reg_f",
             "status": "queued", "rule": "us_reg_f", "why": "bench", "scheduled_for": now,
             "next_attempt_at": now, "attempts": 0, "created_at": now, "updated_at": now}
            for b in ids
        ])  # fmt: skip


def _load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


class _Receivers:
    """The receivers' process: ports on start, counts on request."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(RECEIVERS)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert self.proc.stdout is not None and self.proc.stdin is not None
        ports = json.loads(self.proc.stdout.readline())
        self.smtp_port, self.webhook_url = int(ports["smtp_port"]), str(ports["webhook_url"])

    def counts(self) -> dict[str, list[int]]:
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.proc.stdin.write("counts\n")
        self.proc.stdin.flush()
        return dict(json.loads(self.proc.stdout.readline()))

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)


def run_backend(backend: str, args: argparse.Namespace, folder: Path) -> None:
    url, name = _database(backend, folder)
    receivers = _Receivers()
    try:
        engine = make_engine(url)
        upgrade(engine)
        factory = make_sessionmaker(engine)
        settings = CommsSettings(smtp_port=receivers.smtp_port,
                                 webhook_url=receivers.webhook_url + "/send",
                                 letters_dir=folder / "letters", batch=args.batch,
                                 senders=args.senders)  # fmt: skip
        for channel, receiver in (("email", "smtp"), ("sms", "webhook")):
            _fill(factory, args.messages, channel, f"{channel}-")
            worker = Worker(
                factory, load_profile("us_reg_f"), settings,
                lambda: build_channels(settings), dialect=engine.dialect.name,
            )  # fmt: skip
            start = time.perf_counter()
            # the worker's own loop (the next batch claimed while one is sent), as the
            # ``comms worker`` command runs it; stops once the outbox is empty
            sent = worker.run(idle_exit=0.0, poll=0.0).get("sent", 0)
            elapsed = time.perf_counter() - start
            got, repeats = receivers.counts()[receiver]
            print(f"{backend:10s} {channel:5s} {sent:5d} sent, {got:5d} received "
                  f"(repeats {repeats}) in {elapsed:6.2f} s = "
                  f"{sent / elapsed:7.1f} messages/s   [{_load()}]")  # fmt: skip
        engine.dispose()
    finally:
        receivers.stop()
        _drop(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"{args.messages} messages per channel, batches of {args.batch}, "
          f"{args.senders} sending threads")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            run_backend(backend.strip(), args, Path(tmp))


if __name__ == "__main__":
    main()
