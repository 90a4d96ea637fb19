"""Settings of borrower communications, from ``LOANRECOVERY_COMMS_*`` variables and options."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["CommsSettings"]


class CommsSettings(BaseSettings):
    """Channels, the contact profile and the worker's pacing.

    Attributes
    ----------
    profile : str
        Contact profile (``us_reg_f`` or ``uk_fca_conc7``).
    smtp_host, smtp_port, smtp_from : str, int, str
        The SMTP server e-mails are handed to, and the sender address.
    smtp_lookup_url : str, optional
        ``{key}`` template of the relay's message log (the key is the ``Message-ID``, angle
        brackets included, URL-quoted), asked before an in-doubt e-mail is sent again
        (404: not accepted). Without it an in-doubt e-mail is held for review.
    smtp_lookup_token : str
        Bearer token for that lookup (empty: none).
    webhook_url : str, optional
        The SMS / voice provider's send endpoint (JSON POST; ``Idempotency-Key`` header).
    webhook_token : str
        Bearer token sent to the provider (empty: none).
    webhook_lookup_url : str, optional
        ``{key}`` template of the provider's message lookup, asked before an in-doubt
        message is sent again (404: not received). Without it an in-doubt text is held.
    callback_secret : str
        HMAC-SHA256 secret of the provider's status callbacks.
    letters_dir : Path
        Where letter batches are written (one HTML file per letter and an index).
    batch : int
        Messages claimed and committed together by the worker.
    senders : int
        Threads sending a batch's messages at once (each with its own connections).
    lease_seconds : float
        How long a claim holds; an unfinished claim older than this is in doubt.
    max_attempts : int
        Attempts before a message is marked failed.
    backoff_seconds : float
        First retry delay; doubled after each failure (capped at one hour).
    instalment_reminders : bool
        Whether the scheduler reminds borrowers of upcoming instalments.
    instalment_lead_days : int
        Days before an instalment's due date when its reminder is scheduled.
    instalment_due_day : int
        Day of the month instalments fall due (1 to 28).
    daily_capacity : dict[str, int]
        Messages per channel per day the scheduler may queue.
    budget : float
        Most the scheduler may spend per run (``cost`` per channel).
    """

    model_config = SettingsConfigDict(env_prefix="LOANRECOVERY_COMMS_", frozen=True, extra="ignore")

    profile: str = "us_reg_f"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "collections@example.invalid"
    smtp_lookup_url: str | None = None
    smtp_lookup_token: str = ""
    webhook_url: str | None = None
    webhook_token: str = ""
    webhook_lookup_url: str | None = None
    callback_secret: str = ""
    letters_dir: Path = Path("out/letters")
    batch: int = Field(default=100, ge=1, le=10_000)
    senders: int = Field(default=4, ge=1, le=64)
    lease_seconds: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    backoff_seconds: float = Field(default=30.0, ge=0)
    instalment_reminders: bool = True
    instalment_lead_days: int = Field(default=3, ge=0, le=27)
    instalment_due_day: int = Field(default=1, ge=1, le=28)
    daily_capacity: dict[str, int] = Field(
        default_factory=lambda: {"email": 50_000, "sms": 20_000, "voice": 5_000, "letter": 5_000}
    )
    cost: dict[str, float] = Field(
        default_factory=lambda: {"email": 0.001, "sms": 0.01, "voice": 0.05, "letter": 0.8}
    )
    budget: float = Field(default=1_000.0, ge=0)
