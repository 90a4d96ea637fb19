"""The contact-policy engine: may this borrower be contacted on this medium now?

The rules are data (a profile, ``profiles/*.toml``); the engine applies them to a borrower's
history of events (contacts, conversations, opt-outs, consents, cease requests, disputes).
Every decision names the rule that allowed or blocked it. The engine is pure: no database,
no clock; callers pass the moment of the contact and the history known at that moment.

Days are counted in calendar days of the borrower's local time (first possible zone when it
is unknown), the day of an event being day one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loanrecovery.comms.errors import CommsInputError

__all__ = [
    "MEDIUMS",
    "Decision",
    "Event",
    "Borrower",
    "Profile",
    "load_profile",
    "profile_names",
    "decide",
    "zones_of",
    "next_allowed_time",
]

#: The media a borrower can ask us to stop using; ``voice`` is a prerecorded call (phone).
MEDIUMS = ("phone", "voice", "sms", "email", "letter")

#: Event types of a borrower's history.
EVENT_TYPES = (
    "contact",  # a message or call we made (medium, kind; attempt for calls)
    "conversation",  # a telephone conversation (ours answered, or the borrower's call)
    "opt_out",  # stop using ``medium``
    "opt_in",  # the borrower allows ``medium`` again (also gives consent)
    "consent",  # prior express consent for ``medium``
    "cease",  # stop communicating
    "dispute",  # the debt is disputed
    "dispute_resolved",  # verification sent / dispute closed
)


@dataclass(frozen=True)
class Event:
    """One fact of a borrower's history, at a UTC moment."""

    at: datetime
    type: str
    medium: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Borrower:
    """What the rules need to know about a borrower.

    ``time_zone`` is an IANA name; ``utc_offset`` (hours) is used when it is missing; with
    neither the profile's ``possible_offsets`` apply (the most restrictive).
    """

    time_zone: str | None = None
    utc_offset: int | None = None
    time_barred: bool = False


@dataclass(frozen=True)
class Decision:
    """Allowed or not, the rule that decided and why (no personal data)."""

    allowed: bool
    rule: str
    why: str
    retry_at: datetime | None = None  # for time-of-day refusals: the next allowed moment


@dataclass(frozen=True)
class Profile:
    """A jurisdiction's contact rules, read from a TOML profile."""

    name: str
    title: str
    start: time
    end: time
    hours_rule: str
    hours_mediums: frozenset[str]
    unknown_zone: str
    possible_offsets: tuple[int, ...]
    max_attempts: int
    window_days: int
    attempts_rule: str
    after_conversation_days: int
    conversation_rule: str
    opt_out_rule: str
    keywords: tuple[str, ...]
    keyword_rule: str
    confirmation_kind: str
    footer_rule: str
    footer: dict[str, str]
    consent_mediums: frozenset[str]
    consent_rule: str
    cease_rule: str
    cease_allowed: frozenset[str]
    dispute_rule: str
    dispute_allowed: frozenset[str]
    validation_days: int | None
    validation_kind: str | None
    validation_rule: str
    time_barred_kinds: frozenset[str]
    time_barred_rule: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def profile_names() -> list[str]:
    """The profiles shipped with the package."""
    folder = resources.files("loanrecovery.comms") / "profiles"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def _hhmm(value: Any, where: str) -> time:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise CommsInputError(f"{where}: {value!r} is not a time HH:MM") from exc


def load_profile(name_or_text: str) -> Profile:
    """A shipped profile by name (``us_reg_f``, ``uk_fca_conc7``), or a profile's TOML text.

    Raises
    ------
    CommsInputError
        If the profile is unknown or a key is missing or malformed (naming the key).
    """
    source = f"profile {name_or_text!r}"
    if "\n" not in name_or_text:
        if name_or_text not in profile_names():
            raise CommsInputError(
                f"contact profile {name_or_text!r} is unknown: expected one of "
                + ", ".join(profile_names())
            )
        path = resources.files("loanrecovery.comms") / "profiles" / f"{name_or_text}.toml"
        text = path.read_text(encoding="utf-8")
        source = f"profiles/{name_or_text}.toml"
    else:
        text = name_or_text
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CommsInputError(f"{source}: not valid TOML ({exc})") from exc

    def get(section: str, key: str, default: Any = ...) -> Any:
        value = raw.get(section, {}).get(key, default)
        if value is ...:
            raise CommsInputError(f"{source}: [{section}] {key} is missing")
        return value

    validation = raw.get("validation")
    try:
        return Profile(
            name=str(raw["name"]),
            title=str(raw.get("title", raw["name"])),
            start=_hhmm(get("hours", "start"), f"{source} [hours] start"),
            end=_hhmm(get("hours", "end"), f"{source} [hours] end"),
            hours_rule=str(get("hours", "rule")),
            hours_mediums=frozenset(get("hours", "mediums")),
            unknown_zone=str(get("hours", "unknown_zone", "block")),
            possible_offsets=tuple(int(o) for o in get("hours", "possible_offsets", [])),
            max_attempts=int(get("calls", "max_attempts")),
            window_days=int(get("calls", "window_days")),
            attempts_rule=str(get("calls", "attempts_rule")),
            after_conversation_days=int(get("calls", "after_conversation_days", 0)),
            conversation_rule=str(get("calls", "conversation_rule", "")),
            opt_out_rule=str(get("opt_out", "rule")),
            keywords=tuple(str(k).upper() for k in get("opt_out", "keywords")),
            keyword_rule=str(get("opt_out", "keyword_rule")),
            confirmation_kind=str(get("opt_out", "confirmation_kind")),
            footer_rule=str(get("opt_out", "footer_rule")),
            footer=dict(get("opt_out", "footer")),
            consent_mediums=frozenset(get("consent", "mediums", [])),
            consent_rule=str(get("consent", "rule", "")),
            cease_rule=str(get("cease", "rule")),
            cease_allowed=frozenset(get("cease", "allowed_kinds", [])),
            dispute_rule=str(get("dispute", "rule")),
            dispute_allowed=frozenset(get("dispute", "allowed_kinds", [])),
            validation_days=None if validation is None else int(validation["days"]),
            validation_kind=None if validation is None else str(validation["kind"]),
            validation_rule="" if validation is None else str(validation["rule"]),
            time_barred_kinds=frozenset(get("time_barred", "blocked_kinds", [])),
            time_barred_rule=str(get("time_barred", "rule", "")),
            raw=raw,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CommsInputError(f"{source}: {exc!s} is missing or malformed") from exc


def zones_of(borrower: Borrower, profile: Profile) -> list[tzinfo]:
    """The borrower's possible time zones: their own, else every zone the profile lists
    (empty when the profile blocks contact with an unknown zone)."""
    if borrower.time_zone:
        try:
            return [ZoneInfo(borrower.time_zone)]
        except (ZoneInfoNotFoundError, ValueError):
            pass
    if borrower.utc_offset is not None:
        return [timezone(timedelta(hours=borrower.utc_offset))]
    if profile.unknown_zone == "most_restrictive":
        return [timezone(timedelta(hours=h)) for h in profile.possible_offsets]
    return []


def _convenient(moment: datetime, zones: Sequence[tzinfo], profile: Profile) -> bool:
    if not zones:
        return False
    for zone in zones:
        local = moment.astimezone(zone).time()
        if not (profile.start <= local < profile.end):
            return False
    return True


def next_allowed_time(moment: datetime, borrower: Borrower, profile: Profile) -> datetime | None:
    """The first moment at or after ``moment`` (to the minute, within 3 days) that is a
    convenient time in every possible zone; None if there is none."""
    zones = zones_of(borrower, profile)
    probe = moment.astimezone(UTC).replace(second=0, microsecond=0)
    if probe < moment:
        probe += timedelta(minutes=1)
    for _ in range(3 * 24 * 4):
        if _convenient(probe, zones, profile):
            return probe
        probe += timedelta(minutes=15 - probe.minute % 15)
    return None


def _local_day(moment: datetime, zones: Sequence[tzinfo]) -> int:
    zone = zones[0] if zones else UTC
    return moment.astimezone(zone).date().toordinal()


def _medium_group(medium: str) -> str:
    """Opt-outs of "phone" cover prerecorded voice calls too."""
    return "phone" if medium == "voice" else medium


@dataclass
class _Standing:
    """What the history says at the moment of the decision."""

    ceased: bool = False
    disputed: bool = False
    opted_out: dict[str, datetime] = field(default_factory=dict)
    consented: set[str] = field(default_factory=set)
    confirmed: set[str] = field(default_factory=set)


def _standing(events: Sequence[Event], profile: Profile) -> _Standing:
    state = _Standing()
    for event in events:
        group = _medium_group(event.medium) if event.medium else ""
        if event.type == "cease":
            state.ceased = True
        elif event.type in ("dispute", "dispute_resolved"):
            state.disputed = event.type == "dispute"
        elif event.type == "opt_out" and event.medium:
            state.opted_out[group] = event.at
            state.consented.discard(event.medium)
            state.confirmed.discard(group)
        elif event.type in ("opt_in", "consent") and event.medium:
            if event.type == "opt_in":
                state.opted_out.pop(group, None)
            state.consented.add(event.medium)
        elif event.type == "contact" and event.kind == profile.confirmation_kind and group:
            state.confirmed.add(group)
    return state


def _requests(state: _Standing, profile: Profile, medium: str, kind: str) -> Decision | None:
    """Cease, dispute, opt-out and consent: what the borrower asked or allowed."""
    group = _medium_group(medium)
    if state.ceased and kind not in profile.cease_allowed:
        return Decision(False, profile.cease_rule, "the borrower asked us to cease communication")
    if state.disputed and kind not in profile.dispute_allowed:
        return Decision(False, profile.dispute_rule, "the debt is disputed: collection paused")
    if group in state.opted_out:
        if kind == profile.confirmation_kind and group not in state.confirmed:
            return Decision(True, profile.keyword_rule, f"one confirmation of the {group} opt-out")
        return Decision(False, profile.opt_out_rule, f"the borrower asked us to stop using {group}")
    if kind == profile.confirmation_kind:
        return Decision(False, profile.keyword_rule, f"no {group} opt-out to confirm")
    if medium in profile.consent_mediums and medium not in state.consented:
        return Decision(False, profile.consent_rule, f"no prior consent to automated {medium}")
    return None


def _validation(
    events: Sequence[Event], profile: Profile, kind: str, today: int, zones: Sequence[tzinfo]
) -> Decision | None:
    if profile.validation_days is None or kind == profile.validation_kind:
        return None
    contacts = [e for e in events if e.type == "contact"]
    if not contacts or any(e.kind == profile.validation_kind for e in contacts):
        return None
    if today - _local_day(contacts[0].at, zones) < profile.validation_days:
        return None
    return Decision(
        False, profile.validation_rule,
        f"no validation notice within {profile.validation_days} days of the first contact: "
        "only the notice may be sent",
    )  # fmt: skip


def _calls(
    events: Sequence[Event], profile: Profile, today: int, zones: Sequence[tzinfo]
) -> Decision | None:
    since = today - profile.window_days + 1
    attempts = sum(
        1
        for e in events
        if e.type == "contact"
        and e.medium
        and _medium_group(e.medium) == "phone"
        and _local_day(e.at, zones) >= since
    )
    if attempts >= profile.max_attempts:
        return Decision(
            False, profile.attempts_rule,
            f"{attempts} call attempts in the last {profile.window_days} days",
        )  # fmt: skip
    if profile.after_conversation_days > 0:
        since_talk = today - profile.after_conversation_days + 1
        if any(e.type == "conversation" and _local_day(e.at, zones) >= since_talk for e in events):
            return Decision(
                False, profile.conversation_rule,
                f"a telephone conversation within the last {profile.after_conversation_days} days",
            )  # fmt: skip
    return None


def decide(
    profile: Profile,
    borrower: Borrower,
    history: Iterable[Event],
    *,
    at: datetime,
    medium: str,
    kind: str,
) -> Decision:
    """May we contact ``borrower`` on ``medium`` with a message of ``kind`` at ``at``?

    ``history`` holds what is known; events after ``at`` are ignored. A phone or voice
    contact is a call attempt. Checks, in order: cease, dispute, opt-out, consent,
    time-barred debt, validation notice, convenient time, call frequency.

    Raises
    ------
    CommsInputError
        If ``medium`` is not one of :data:`MEDIUMS`.
    """
    if medium not in MEDIUMS:
        raise CommsInputError(f"medium {medium!r} is not one of {', '.join(MEDIUMS)}")
    at = at.astimezone(UTC)
    events = sorted((e for e in history if e.at <= at), key=lambda e: e.at)
    refused = _requests(_standing(events, profile), profile, medium, kind)
    if refused is not None:
        return refused
    if borrower.time_barred and kind in profile.time_barred_kinds:
        return Decision(False, profile.time_barred_rule, f"{kind} on a time-barred debt")
    zones = zones_of(borrower, profile)
    today = _local_day(at, zones)
    refused = _validation(events, profile, kind, today, zones)
    if refused is not None:
        return refused
    if medium in profile.hours_mediums and not _convenient(at, zones, profile):
        why = (
            "time zone unknown and the profile allows no guess"
            if not zones
            else f"outside {profile.start:%H:%M}-{profile.end:%H:%M} in the borrower's local time"
        )
        retry = next_allowed_time(at, borrower, profile) if zones else None
        return Decision(False, profile.hours_rule, why, retry_at=retry)
    if _medium_group(medium) == "phone":
        refused = _calls(events, profile, today, zones)
        if refused is not None:
            return refused
    return Decision(True, profile.name, f"every rule of {profile.title} allows it")
