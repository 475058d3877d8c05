"""Pressure rules: premature close, chasing, escalation, pushy language, a pulled-in date."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from django.urls import reverse

from deals.health.catalog import (
    PRESSURE_CHASING,
    PRESSURE_CLOSE_DATE_PULLED,
    PRESSURE_ESCALATION,
    PRESSURE_LANGUAGE,
    PRESSURE_PREMATURE_CLOSE,
)
from deals.health.facts import ActivityFact, DealFacts
from deals.health.rules.base import FlagResult, iso_date, quoted
from deals.models import HealthPolicy, Severity


def pressure_premature_close(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    """A close attempt while a milestone the buyer needs before deciding was (and is) open."""
    if not facts.deal.is_open:
        return None
    open_required = [m for m in facts.milestones if m.required_for_decision and not m.completed_at]
    if not open_required:
        return None
    attempts = [a for a in facts.activities if a.close_attempt and a.occurred_at <= now]
    if not attempts:
        return None
    latest = attempts[0]
    titles = [m.title for m in open_required]
    return FlagResult(
        PRESSURE_PREMATURE_CLOSE,
        Severity.CRITICAL,
        f"Buyer milestone {quoted(titles)} is still open; a close attempt now risks the "
        "relationship — wait for it or ask the buyer what they need to finish it.",
        {
            "close_attempt_activity_ids": [a.id for a in attempts],
            "latest_close_attempt_at": iso_date(latest.occurred_at),
            "open_milestones": [{"id": m.id, "title": m.title} for m in open_required],
        },
    )


def pressure_chasing(facts: DealFacts, policy: HealthPolicy, now: dt.datetime) -> FlagResult | None:
    """Many rep follow-ups in the window and not one buyer-initiated touch in it."""
    if not facts.deal.is_open:
        return None
    since = now - dt.timedelta(days=policy.chasing_window_days)
    in_window = [a for a in facts.activities if since <= a.occurred_at <= now]
    # An out-of-office answer is not the buyer replying (captured mail marks it).
    if any(a.initiated_by == "buyer" and not a.auto_reply for a in in_window):
        return None
    rep_touches = [a for a in in_window if a.initiated_by == "rep"]
    if len(rep_touches) < policy.chasing_count:
        return None
    evidence = {
        "activity_ids": [a.id for a in rep_touches],
        "first_at": iso_date(rep_touches[-1].occurred_at),
        "last_at": iso_date(rep_touches[0].occurred_at),
        "count": len(rep_touches),
        "threshold": policy.chasing_count,
        "window_days": policy.chasing_window_days,
    }
    # Captured mail threads that got no reply in the window (manual notes have none).
    threads = sorted({a.thread_id or a.id for a in rep_touches if a.source == "email"})
    if threads:
        evidence["unanswered_thread_ids"] = threads
    return FlagResult(
        PRESSURE_CHASING,
        Severity.WARNING,
        f"{len(rep_touches)} follow-ups in {policy.chasing_window_days} days with no reply "
        "from the buyer; pause the chasing and offer something useful, or ask whether the "
        "timing still suits them.",
        evidence,
    )


def pressure_escalation(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    """Senior people piled onto the rep's recent calls and meetings."""
    if not facts.deal.is_open:
        return None
    recent = [
        a
        for a in facts.activities
        if a.initiated_by == "rep" and a.kind in ("call", "meeting") and a.occurred_at <= now
    ][: policy.escalation_window]
    senior = [a for a in recent if a.senior_present]
    if len(senior) < policy.escalation_min_senior:
        return None
    return FlagResult(
        PRESSURE_ESCALATION,
        Severity.WARNING,
        f"A senior person joined {len(senior)} of the last {len(recent)} calls and meetings; "
        "let the rep lead and bring executives only when the buyer asks for them.",
        {
            "activity_ids": [a.id for a in recent],
            "senior_activity_ids": [a.id for a in senior],
            "window": policy.escalation_window,
            "threshold": policy.escalation_min_senior,
        },
    )


@lru_cache(maxsize=64)
def pressure_phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern | None:
    """One regex matching any phrase as whole words, case-insensitively, any spacing."""
    parts = []
    cleaned = {str(p).strip().lower() for p in phrases if p is not None and str(p).strip()}
    for phrase in sorted(cleaned, key=len, reverse=True):  # longest first
        words = [re.escape(w) for w in phrase.split()]
        parts.append(r"\s+".join(words))
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def pressure_language(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    """Deadline language in what the rep wrote (never in what the buyer wrote)."""
    if not facts.deal.is_open:
        return None
    pattern = pressure_phrase_pattern(tuple(policy.pressure_phrases or ()))
    if pattern is None:
        return None
    written = [a for a in facts.activities if a.initiated_by == "rep" and a.notes]
    # One search over everything the rep wrote settles the common case (no match).
    if not written or pattern.search("\n".join(a.notes for a in written)) is None:
        return None
    matches: list[dict[str, Any]] = []
    for a in written:
        if a.occurred_at > now:
            continue
        if a.source in CAPTURED_SOURCES:
            # Reversed with the rest below, so a mail's sentences end up in reading order.
            matches.extend(reversed(_mail_matches(a, pattern)))
            continue
        found = {" ".join(m.group(0).lower().split()) for m in pattern.finditer(a.notes)}
        matches.extend(
            {"activity_id": a.id, "phrase": phrase, "occurred_at": iso_date(a.occurred_at)}
            for phrase in sorted(found)
        )
    if not matches:
        return None
    matches.reverse()  # oldest first reads like a story
    phrases = sorted({m["phrase"] for m in matches})
    return FlagResult(
        PRESSURE_LANGUAGE,
        Severity.WARNING,
        f"Your notes use deadline language ({', '.join(repr(p) for p in phrases)}); give the "
        "buyer time to decide on value rather than urgency.",
        {"matches": matches, "phrases": phrases},
    )


CAPTURED_SOURCES = ("email", "calendar")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*[-*•])")


def _mail_matches(activity: ActivityFact, pattern: re.Pattern) -> list[dict]:
    """Deadline phrases in a captured mail, each with the sentence it sits in and a link
    to the mail, so the rep sees what was actually sent."""
    out = []
    seen: set[tuple[str, str]] = set()
    for sentence in _SENTENCE_END.split(activity.notes):
        sentence = " ".join(sentence.split())
        for m in pattern.finditer(sentence):
            phrase = " ".join(m.group(0).lower().split())
            if (phrase, sentence) in seen:
                continue
            seen.add((phrase, sentence))
            out.append(
                {
                    "activity_id": activity.id,
                    "phrase": phrase,
                    "occurred_at": iso_date(activity.occurred_at),
                    "sentence": sentence[:300],
                    "mail_url": reverse("mail:activity_mail", args=[activity.id]),
                }
            )
    return out


def pressure_close_date_pulled(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    """The forecast close date moved earlier though the buyer has not progressed since."""
    if not facts.deal.is_open:
        return None
    current = facts.deal.expected_close_date
    if current is None:
        return None
    for change in reversed(facts.close_date_changes):
        if change.old_date is None or change.new_date is None:
            continue
        if change.new_date >= change.old_date or change.changed_at > now:
            continue
        if current >= change.old_date:
            return None  # moved back out since; the pull no longer stands
        progressed = any(
            m.completed_at and m.completed_at >= change.changed_at for m in facts.milestones
        )
        if progressed:
            return None
        return FlagResult(
            PRESSURE_CLOSE_DATE_PULLED,
            Severity.WARNING,
            f"The expected close date was moved earlier, from {change.old_date:%d %b %Y} to "
            f"{change.new_date:%d %b %Y}, though no buyer milestone was completed since; "
            "forecast from the buyer's plan, not from your target.",
            {
                "changed_at": iso_date(change.changed_at),
                "from_date": iso_date(change.old_date),
                "to_date": iso_date(change.new_date),
                "current_date": iso_date(current),
            },
        )
    return None
