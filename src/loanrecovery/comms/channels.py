"""Delivery channels: e-mail over SMTP, SMS / voice through a provider's HTTP webhook, and
letters written as HTML files in batches.

Each channel hands over a message with its idempotency key (SMTP: ``Message-ID`` and
``X-Idempotency-Key``; webhook: the ``Idempotency-Key`` header; letters: the file name), so a
receiver can drop a repeat. ``lookup`` tells whether a key was already received, when the
channel can know (SMTP and webhook with a lookup URL, letters); None when it cannot, and the
worker then holds an in-doubt message for review instead of sending it again.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import logging
import re
import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import httpx
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from loanrecovery.comms.config import CommsSettings
from loanrecovery.comms.errors import ChannelError, CommsInputError
from loanrecovery.service.db.models import CommMessage

__all__ = [
    "Channel",
    "message_id",
    "SmtpChannel",
    "WebhookChannel",
    "LetterChannel",
    "build_channels",
]

logger = logging.getLogger(__name__)

#: The default JSON body sent to an SMS / voice provider (a Jinja2 template; values are
#: JSON-encoded by the ``tojson`` filter).
DEFAULT_PAYLOAD = (
    '{"idempotency_key": {{ key|tojson }}, "channel": {{ channel|tojson }}, '
    '"to": {{ to|tojson }}, "body": {{ body|tojson }}}'
)


class Channel(Protocol):
    """What the worker needs from a channel."""

    def send(self, message: CommMessage, address: str) -> str:
        """Hand the message over; returns the provider's id. Raises ChannelError."""

    def lookup(self, key: str) -> bool | None:
        """Whether ``key`` was already received (None: cannot tell)."""

    def close(self) -> None:
        """Release connections."""


def _lookup(client: httpx.Client, url: str | None, key: str) -> bool | None:
    """Ask ``url`` (``{key}`` template; the key URL-quoted) whether ``key`` arrived: 2xx yes,
    404 no, anything else (or no answer) None."""
    if not url:
        return None
    try:
        answer = client.get(url.format(key=quote(key, safe="")))
    except httpx.HTTPError:
        return None
    if answer.status_code == 404:
        return False
    return True if answer.status_code < 300 else None


def message_id(key: str) -> str:
    """The ``Message-ID`` of the e-mail with idempotency key ``key``: a digest of the key,
    because keys hold characters (``:``) that a msg-id may not, and a parser would cut the
    header at the first one."""
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}@loanrecovery>"


class SmtpChannel:
    """E-mail through an SMTP server; one connection is kept across a batch.

    SMTP itself cannot say whether a message was accepted before a crash; ``lookup_url``
    (``{key}`` template, 2xx = accepted, 404 = not) is the relay's message log (a relay's
    API, or a small service over its log), asked before an in-doubt e-mail is sent again.
    """

    def __init__(
        self, host: str, port: int, sender: str, timeout: float = 30.0, *,
        lookup_url: str | None = None, token: str = "",
    ) -> None:  # fmt: skip
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout
        self.lookup_url, self._token = lookup_url, token
        self._smtp: smtplib.SMTP | None = None
        self._client: httpx.Client | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            try:
                self._smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            except OSError as exc:
                raise ChannelError(f"SMTP {self.host}:{self.port}: {exc}") from exc
        return self._smtp

    def send(self, message: CommMessage, address: str) -> str:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = address
        mail["Subject"] = message.subject
        mail["Message-ID"] = message_id(message.key)
        mail["X-Idempotency-Key"] = message.key
        mail.set_content(message.body)
        try:
            self._connection().send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise ChannelError(f"SMTP {self.host}:{self.port}: {exc}") from exc
        return mail["Message-ID"]

    def lookup(self, key: str) -> bool | None:
        if not self.lookup_url:
            return None
        if self._client is None:
            headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
            self._client = httpx.Client(timeout=self.timeout, headers=headers)
        return _lookup(self._client, self.lookup_url, message_id(key))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._smtp = None


class WebhookChannel:
    """SMS and voice through a provider's HTTP API (provider-neutral: URL, bearer token and
    a JSON payload template)."""

    def __init__(
        self, url: str, *, token: str = "", lookup_url: str | None = None,
        payload: str = DEFAULT_PAYLOAD, timeout: float = 30.0,
    ) -> None:  # fmt: skip
        env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
        try:
            self._payload = env.from_string(payload)
        except TemplateError as exc:
            raise CommsInputError(f"webhook payload template: {exc}") from exc
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url, self.lookup_url = url, lookup_url
        self._client = httpx.Client(timeout=timeout, headers=headers)

    def send(self, message: CommMessage, address: str) -> str:
        body = self._payload.render(key=message.key, channel=message.channel, to=address,
                                    body=message.body, subject=message.subject)  # fmt: skip
        try:
            answer = self._client.post(
                self.url, content=body.encode("utf-8"),
                headers={"Idempotency-Key": message.key, "Content-Type": "application/json"},
            )  # fmt: skip
        except httpx.HTTPError as exc:
            raise ChannelError(f"webhook {self.url}: {exc}") from exc
        if answer.status_code >= 300:
            raise ChannelError(f"webhook {self.url}: HTTP {answer.status_code}")
        try:
            provider_id = json.loads(answer.content or b"{}").get("id")
        except (ValueError, AttributeError):
            provider_id = None
        return str(provider_id or message.key)

    def lookup(self, key: str) -> bool | None:
        return _lookup(self._client, self.lookup_url, key)

    def close(self) -> None:
        self._client.close()


_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class LetterChannel:
    """Printable letters: one HTML file per letter in ``folder``, listed in ``index.csv``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        return self.folder / (_SAFE.sub("_", key) + ".html")

    def send(self, message: CommMessage, address: str) -> str:
        path = self._path(message.key)
        if path.exists():
            return path.name
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lines = "".join(f"<p>{html.escape(p)}</p>" for p in message.body.splitlines())
            text = (f"<!doctype html><meta charset='utf-8'><title>{html.escape(message.subject)}"
                    f"</title><address>{html.escape(address)}</address>"
                    f"<h1>{html.escape(message.subject)}</h1>{lines}")  # fmt: skip
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            with (self.folder / "index.csv").open("a", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerow([message.key, message.kind, path.name])
        except OSError as exc:
            raise ChannelError(f"letter folder {self.folder}: {exc}") from exc
        return path.name

    def lookup(self, key: str) -> bool | None:
        return self._path(key).exists()

    def close(self) -> None:
        return None


def build_channels(settings: CommsSettings) -> dict[str, Channel]:
    """The channels the settings configure (e-mail and letters always; SMS and voice with a
    webhook URL)."""
    channels: dict[str, Channel] = {
        "email": SmtpChannel(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            lookup_url=settings.smtp_lookup_url,
            token=settings.smtp_lookup_token,
        ),
        "letter": LetterChannel(settings.letters_dir),
    }
    if settings.webhook_url:
        hook = WebhookChannel(settings.webhook_url, token=settings.webhook_token,
                              lookup_url=settings.webhook_lookup_url)  # fmt: skip
        channels["sms"] = hook
        channels["voice"] = hook
    return channels
