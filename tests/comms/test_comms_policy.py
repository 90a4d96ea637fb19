"""The contact-policy engine: each rule on its own, the profiles, and a property test over
random histories that compares the engine with a plain, independent re-implementation of
the laws written here (10,000 sequences on the US profile, 2,000 on the UK one)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loanrecovery.comms.errors import CommsInputError
from loanrecovery.comms.policy import (
    Borrower,
    Event,
    decide,
    load_profile,
    next_allowed_time,
    profile_names,
)

US = load_profile("us_reg_f")
UK = load_profile("uk_fca_conc7")
NY = Borrower(utc_offset=-5)
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York


def test_shipped_profiles_load_and_name_their_rules():
    assert profile_names() == ["uk_fca_conc7", "us_reg_f"]
    assert US.max_attempts == 7 and US.window_days == 7 and US.after_conversation_days == 7
    assert "1006.14(b)(2)" in US.attempts_rule and "CONC 7" in UK.hours_rule
    assert "STOP" in US.keywords and "UNSUBSCRIBE" in US.keywords


def test_unknown_profile_and_bad_profile_text_are_named():
    with pytest.raises(CommsInputError, match="'nope' is unknown"):
        load_profile("nope")
    with pytest.raises(CommsInputError, match=r"\[hours\] start"):
        load_profile('name = "x"\n[hours]\nstart = "eight"\n')


def test_calls_seven_in_seven_days_then_blocked_with_the_rule():
    calls = [Event(T0 + timedelta(days=i // 2, minutes=i), "contact", "phone", "reminder")
             for i in range(7)]  # fmt: skip
    calls.append(Event(T0, "contact", "letter", "validation_notice"))
    at = T0 + timedelta(days=4)
    blocked = decide(US, NY, calls, at=at, medium="phone", kind="reminder")
    assert not blocked.allowed and blocked.rule == US.attempts_rule
    later = decide(US, NY, calls, at=T0 + timedelta(days=7), medium="phone", kind="reminder")
    assert later.allowed  # day 1's calls are out of the 7-day window (4 attempts left in it)
    assert decide(US, NY, calls, at=at, medium="email", kind="reminder").allowed


def test_conversation_blocks_calls_for_seven_days_counting_its_day():
    talk = [Event(T0, "conversation", "phone")]
    day7 = decide(US, NY, talk, at=T0 + timedelta(days=6), medium="phone", kind="reminder")
    assert not day7.allowed and day7.rule == US.conversation_rule
    assert decide(US, NY, talk, at=T0 + timedelta(days=7), medium="phone", kind="reminder").allowed


def test_inconvenient_time_is_refused_with_the_next_allowed_moment():
    night = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 22:00 in New York
    decision = decide(US, NY, [], at=night, medium="email", kind="reminder")
    assert not decision.allowed and decision.rule == US.hours_rule
    assert decision.retry_at == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 08:00 New York
    assert decide(US, NY, [], at=night, medium="letter", kind="reminder").allowed  # posted


def test_unknown_zone_is_the_most_restrictive_of_the_possible_zones():
    unknown = Borrower()
    # 13:30 UTC is 08:30 in New York (-5) but 03:30 in Hawaii (-10): refused.
    assert not decide(US, unknown, [], at=T0.replace(hour=13, minute=30), medium="email",
                      kind="reminder").allowed  # fmt: skip
    # 19:00 UTC is 09:00 in Hawaii and 15:00 in New York (-4): allowed everywhere.
    assert decide(US, unknown, [], at=T0.replace(hour=19), medium="email", kind="reminder").allowed
    moment = next_allowed_time(T0.replace(hour=2), unknown, US)
    assert moment == T0.replace(hour=18)  # 08:00 in Hawaii (UTC-10)


def test_opt_out_is_honoured_from_its_moment_and_one_confirmation_is_allowed():
    stop = [Event(T0, "opt_out", "sms")]
    consent = [Event(T0 - timedelta(days=30), "consent", "sms")]
    before = decide(US, NY, consent + stop, at=T0 - timedelta(minutes=1), medium="sms",
                    kind="reminder")  # fmt: skip
    assert before.allowed
    after = decide(US, NY, consent + stop, at=T0, medium="sms", kind="reminder")
    assert not after.allowed and after.rule == US.opt_out_rule
    confirm = decide(US, NY, stop, at=T0, medium="sms", kind="opt_out_confirmation")
    assert confirm.allowed and confirm.rule == US.keyword_rule
    sent = [*stop, Event(T0, "contact", "sms", "opt_out_confirmation")]
    assert not decide(US, NY, sent, at=T0, medium="sms", kind="opt_out_confirmation").allowed
    assert decide(US, NY, stop, at=T0, medium="email", kind="reminder").allowed


def test_cease_dispute_consent_time_barred_and_validation():
    cease = [Event(T0 - timedelta(hours=1), "cease")]
    assert decide(US, NY, cease, at=T0, medium="email", kind="reminder").rule == US.cease_rule
    assert decide(US, NY, cease, at=T0, medium="letter", kind="cease_confirmation").allowed
    dispute = [Event(T0 - timedelta(hours=1), "dispute")]
    assert decide(US, NY, dispute, at=T0, medium="email", kind="reminder").rule == US.dispute_rule
    resolved = [*dispute, Event(T0 - timedelta(minutes=5), "dispute_resolved")]
    assert decide(US, NY, resolved, at=T0, medium="email", kind="reminder").allowed
    assert decide(US, NY, [], at=T0, medium="sms", kind="reminder").rule == US.consent_rule
    barred = Borrower(utc_offset=-5, time_barred=True)
    assert decide(US, barred, [], at=T0, medium="letter", kind="legal_notice").rule == (
        US.time_barred_rule
    )
    first = [Event(T0 - timedelta(days=5), "contact", "email", "reminder")]
    late = decide(US, NY, first, at=T0, medium="email", kind="reminder")
    assert not late.allowed and late.rule == US.validation_rule
    assert decide(US, NY, first, at=T0, medium="letter", kind="validation_notice").allowed
    assert decide(UK, NY, first, at=T0, medium="email", kind="reminder").allowed  # no such rule


# --- the independent re-implementation -------------------------------------------------


def _last(known, types, mediums=None):
    found = [e for e in known if e.type in types and (mediums is None or e.medium in mediums)]
    return sorted(found, key=lambda e: e.at)[-1] if found else None  # ties: the later entry


def _reference_requests(profile, known, medium, kind) -> bool | None:
    """Cease, dispute, stop requests and consent: False when one forbids the contact."""
    phone = {"phone", "voice"}
    same = phone if medium in phone else {medium}
    if _last(known, {"cease"}) is not None and kind not in profile.raw["cease"]["allowed_kinds"]:
        return False
    d = _last(known, {"dispute", "dispute_resolved"})
    if (
        d is not None
        and d.type == "dispute"
        and kind not in profile.raw["dispute"]["allowed_kinds"]
    ):
        return False
    stop = _last(known, {"opt_out", "opt_in"}, same)
    if stop is not None and stop.type == "opt_out":
        confirmations = [e for e in known if e.type == "contact" and e.medium in same
                         and e.kind == "opt_out_confirmation" and e.at >= stop.at]  # fmt: skip
        return kind == "opt_out_confirmation" and not confirmations
    if kind == "opt_out_confirmation":
        return False
    if medium in profile.raw["consent"]["mediums"]:
        grant = _last(known, {"consent", "opt_in", "opt_out"}, {medium})
        if grant is None or grant.type == "opt_out":
            return False
    return None


def _reference_allows(profile, offset, history, at, medium, kind, time_barred=False) -> bool:
    """The laws as plain statements, checked one by one (no shared code with the engine)."""
    known = [e for e in history if e.at <= at]
    offsets = [offset] if offset is not None else list(profile.raw["hours"]["possible_offsets"])

    def day(moment: datetime) -> int:
        return (moment + timedelta(hours=offsets[0])).date().toordinal()

    requested = _reference_requests(profile, known, medium, kind)
    if requested is not None:
        return requested
    if time_barred and kind in profile.raw["time_barred"]["blocked_kinds"]:
        return False
    ours = [e for e in known if e.type == "contact"]
    if "validation" in profile.raw and kind != "validation_notice" and ours:
        if not any(e.kind == "validation_notice" for e in ours):
            if day(at) - day(min(e.at for e in ours)) >= 5:
                return False
    if medium != "letter":
        if any(not 8 <= (at + timedelta(hours=h)).hour < 21 for h in offsets):
            return False
    if medium not in ("phone", "voice"):
        return True
    calls = profile.raw["calls"]
    window = [e for e in ours if e.medium in ("phone", "voice")
              and day(at) - day(e.at) < calls["window_days"]]  # fmt: skip
    quiet = calls["after_conversation_days"]
    talks = [e for e in known if e.type == "conversation" and day(at) - day(e.at) < quiet]
    return len(window) < calls["max_attempts"] and not talks


_TYPES = ["contact", "contact", "contact", "conversation", "opt_out", "opt_in", "consent",
          "cease", "dispute", "dispute_resolved"]  # fmt: skip
_MEDIUMS = ["phone", "voice", "sms", "email", "letter"]
_KINDS = ["reminder", "promise_reminder", "validation_notice", "opt_out_confirmation",
          "legal_notice", "cease_confirmation", "dispute_verification"]  # fmt: skip


def _case(seed: int) -> tuple[int | None, bool, list[tuple[int, str, str, str]]]:
    """A random history from a seed (drawn by Hypothesis: cheap to generate, so the suite
    can afford 10,000 sequences; a failure prints the seed and the whole sequence)."""
    rng = random.Random(seed)
    offset = None if rng.random() < 0.25 else rng.randint(-10, 1)
    steps = [
        (rng.randint(0, 60 * 24 * 12), rng.choice(_TYPES + ["ask"] * 3), rng.choice(_MEDIUMS),
         rng.choice(_KINDS))
        for _ in range(rng.randint(1, 30))
    ]  # fmt: skip
    return offset, rng.random() < 0.2, steps


def _explain(decision, offset, at, medium, kind, history) -> str:
    steps = [(e.at.isoformat(), e.type, e.medium, e.kind) for e in history]
    return f"{decision} offset={offset} at={at.isoformat()} {medium} {kind} after {steps}"


def _replay(profile, case) -> None:
    """Feed the steps in time order; every "ask" is decided by both, and an allowed contact
    joins the history (so histories are built by the engine's own decisions too)."""
    offset, barred, steps = case
    borrower = Borrower(utc_offset=offset, time_barred=barred)
    history: list[Event] = []
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for minutes, kind_of_step, medium, kind in sorted(steps, key=lambda s: s[0]):
        at = start + timedelta(minutes=minutes)
        if kind_of_step != "ask":
            history.append(Event(at, kind_of_step, medium, kind))
            continue
        decision = decide(profile, borrower, history, at=at, medium=medium, kind=kind)
        expected = _reference_allows(profile, offset, history, at, medium, kind, barred)
        assert decision.allowed == expected, _explain(decision, offset, at, medium, kind, history)
        assert decision.rule and decision.why
        if decision.allowed:
            history.append(Event(at, "contact", medium, kind))


_FAST = {"deadline": None, "derandomize": True, "database": None,
         "suppress_health_check": list(HealthCheck)}  # fmt: skip


@settings(max_examples=10_000, **_FAST)  # type: ignore[arg-type]
@given(st.integers(0, 2**63))
def test_us_engine_never_allows_what_the_laws_block(seed):
    _replay(US, _case(seed))


@settings(max_examples=2_000, **_FAST)  # type: ignore[arg-type]
@given(st.integers(0, 2**63))
def test_uk_engine_never_allows_what_the_profile_blocks(seed):
    _replay(UK, _case(seed))


def test_a_zone_name_wins_over_the_offset():
    borrower = Borrower(time_zone="Europe/London", utc_offset=-5)
    at = datetime(2026, 7, 1, 7, 30, tzinfo=UTC)  # 08:30 in London (BST), 02:30 at UTC-5
    assert decide(UK, borrower, [], at=at, medium="email", kind="reminder").allowed
    assert not decide(
        UK, Borrower(utc_offset=-5), [], at=at, medium="email", kind="reminder"
    ).allowed
