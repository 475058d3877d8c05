"""The batched import path: a batch of messages matched and stored with a fixed handful of
queries, instead of seven or eight a message through `mail_capture`.

The decisions are `mail_capture`'s, taken message by message in the batch's order (an
earlier mail of the batch is a thread parent, a duplicate, or the parent a waiting reply
is linked to, exactly as if it had been stored first); only the reads and writes are
gathered. Per batch:

1. users by address (owners and our side), for addresses not seen before: one query;
2. activities named by the batch's Message-IDs, In-Reply-To and References (thread
   parents, and mail already logged on a deal): one query;
3. captured mail with the batch's Message-IDs (the same mail twice for a user): one query;
4. deals whose contacts have the participants' addresses: one query; then, for the mails
   nothing else can match, deals by the participants' domains: one query;
5. which of those deals each owner may change (deals/visibility.py): one query per owner
   and lookup;
6. writes: the activities in one insert, thread links to mails of the same batch and
   replies that were waiting for their parent in one update, the captured mail rows in
   one insert, and last buyer contact in one update for the deals with a buyer's mail.

A deal touched by the batch gets one health recompute, queued when the batch commits.
Calendar invites (rare) go through `mail_capture_parsed` one by one. A concurrent writer
that stores one of the batch's messages between the reads and the writes makes the insert
fail: the batch's mail is then rolled back to its savepoint and stored one by one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Case, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Lower

from deals.models import Activity, CapturedMail, Deal
from deals.visibility import deal_edit_scope_q
from winwin_crm.accounts.models import User
from winwin_crm.accounts.roles import load_memberships

from .matching import (
    FREEMAIL_DOMAINS,
    Match,
    Side,
    _cased,
    _pick,
    _regex,
    company_domains,
    initiated_by,
)
from .parsing import ParsedMail, parse_message
from .services import _notes, captured_mail_fields, mail_capture_parsed, queue_recompute
from .types import MailRefused, MailTooLarge, MailUnreadable, Person

Status = CapturedMail.Status
NO_USER = "no CRM user among its sender and recipients"

# (number, parsed mail, owner, the deal it was addressed to or None)
Email = tuple[int, ParsedMail, User, int | None]


@dataclass(eq=False)
class _Mail:
    """One email of the batch that will be stored (as an activity, or in the inbox)."""

    parsed: ParsedMail
    owner: User
    match: Match
    activity: Activity | None
    mail: CapturedMail
    order: int
    # The thread's first mail: an activity id already stored, or a mail of this batch.
    thread: int | _Mail | None = None


@dataclass
class _Row:
    """An activity already stored whose Message-ID the batch names."""

    id: int
    thread_id: int | None
    deal_id: int
    stage: str
    occurred_at: dt.datetime
    message_id: str


def load_users(cache: dict, addresses: Iterable[str]) -> None:
    """Fill `cache` (lower-cased address → active user or None) for unseen addresses."""
    missing = {a for a in addresses if a not in cache}
    if not missing:
        return
    found: dict[str, User] = {}
    rows = (
        User.objects.filter(is_active=True)
        .annotate(_address=Lower("email"))
        .filter(_address__in=missing)
        .order_by("pk")
    )
    for user in rows:
        found.setdefault(user._address, user)
    cache.update({a: found.get(a) for a in missing})


def _thread_ids(parsed: ParsedMail) -> list[str]:
    return list(dict.fromkeys([t for t in (parsed.in_reply_to, *parsed.references) if t][-20:]))


class _Scope:
    """Which deals each owner may change: one query for every owner of the batch and the
    deal ids not asked about yet (each owner's `deal_edit_scope_q` as a column)."""

    def __init__(self) -> None:
        self.asked: dict[int, set[int]] = {}
        self.editable: dict[int, set[int]] = {}
        self.stages: dict[int, str] = {}

    def check(self, owners: Iterable[User], deal_ids: set[int]) -> None:
        owners = list({o.pk: o for o in owners}.values())
        load_memberships(owners)  # the owners' roles, for deal_edit_scope_q: one query
        asks: dict[int, set[int]] = {}
        columns: dict[str, Case] = {}
        everything: list[int] = []  # owners who may change any deal (admins)
        for owner in owners:
            missing = deal_ids - self.asked.setdefault(owner.pk, set())
            if not missing:
                continue
            self.asked[owner.pk] |= missing
            asks[owner.pk] = missing
            scope = deal_edit_scope_q(owner)
            if not scope:  # Q(): every deal
                everything.append(owner.pk)
                continue
            columns[f"may_{owner.pk}"] = Case(
                When(scope & Q(pk__in=missing), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        if not asks:
            return
        rows = (
            Deal.objects.filter(pk__in=set().union(*asks.values()))
            .annotate(**columns)
            .values_list("id", "stage", *columns)
        )
        for deal_id, stage, *mays in rows:
            self.stages[deal_id] = stage
            for name, may in zip(columns, mays, strict=True):
                if may:
                    self.editable.setdefault(int(name[4:]), set()).add(deal_id)
            for owner_pk in everything:
                if deal_id in asks[owner_pk]:
                    self.editable.setdefault(owner_pk, set()).add(deal_id)

    def may(self, owner: User, deal_id: int) -> bool:
        return deal_id in self.editable.get(owner.pk, ())


def import_batch(
    batch: list[tuple[int, bytes | Exception]],
    *,
    channel: str,
    user: User | None,
    deal_id: int | None,
    users: dict,
    errors: list[str],
    counts: dict[str, int],
) -> None:
    """Capture one batch (numbered raw messages) inside the caller's transaction."""
    outcomes: dict[int, str] = {}
    notes: dict[int, str] = {}
    parsed_items: list[tuple[int, ParsedMail]] = []
    for number, raw in batch:
        if isinstance(raw, Exception):
            outcomes[number], notes[number] = "refused", str(raw)
            continue
        try:
            parsed_items.append((number, parse_message(raw)))
        except (MailTooLarge, MailUnreadable) as exc:
            from .imports import mail_owner_for_headers

            if user is None and mail_owner_for_headers(raw, users) is None:
                outcomes[number], notes[number] = "no_user", NO_USER
            else:
                outcomes[number], notes[number] = "refused", str(exc)

    if user is None:
        load_users(users, (a for _n, p in parsed_items for a in p.header_addresses))
    emails: list[Email] = []
    for number, parsed in parsed_items:
        owner = user or next(
            (u for a in parsed.header_addresses if (u := users.get(a)) is not None), None
        )
        if owner is None:
            outcomes[number], notes[number] = "no_user", NO_USER
        elif parsed.events:
            try:
                results = mail_capture_parsed(
                    parsed=parsed, user=owner, channel=channel, deal_id=deal_id, cache=users
                )
                outcomes[number] = results[0].outcome if results else "nothing"
            except MailRefused as exc:
                outcomes[number], notes[number] = "refused", str(exc)
        else:
            emails.append((number, parsed, owner, deal_id))

    if emails:
        store_emails(emails, channel=channel, users=users, outcomes=outcomes, notes=notes)

    for number, _raw in batch:
        outcome = outcomes[number]
        counts[outcome] = counts.get(outcome, 0) + 1
        if number in notes:
            errors.append(f"message {number}: {notes[number]}")


def store_emails(
    emails: list[Email],
    *,
    channel: str,
    users: dict,
    outcomes: dict[int, str],
    notes: dict[int, str],
) -> None:
    """Match and store parsed emails, each (number, parsed, owner, the `deal+ID` it was
    sent to or None), in the caller's transaction: `outcomes[number]` is logged, inbox,
    duplicate or refused (the reason in `notes[number]`)."""
    load_users(users, (p.address for _n, parsed, _o, _d in emails for p in parsed.participants))
    domains = company_domains()
    sides = {
        number: Side(
            domains=domains,
            users={p.address: u for p in parsed.participants if (u := users.get(p.address))},
        )
        for number, parsed, _owner, _d in emails
    }
    message_ids = {parsed.message_id for _n, parsed, _o, _d in emails}
    thread_ids = {t for _n, parsed, _o, _d in emails for t in _thread_ids(parsed)}

    stored_rows: dict[str, list[_Row]] = {}
    for row in Activity.objects.filter(message_id__in=message_ids | thread_ids).values_list(
        "id", "thread_id", "deal_id", "deal__stage", "occurred_at", "message_id"
    ):
        stored_rows.setdefault(row[5], []).append(_Row(*row))
    on_deal = {(r.deal_id, r.message_id) for rows in stored_rows.values() for r in rows}
    for_user = set(
        CapturedMail.objects.filter(message_id__in=message_ids).values_list("user_id", "message_id")
    )

    # Our side is known per mail; the others are looked up against the deal contacts.
    externals = {
        number: [p for p in parsed.participants if not sides[number].is_company(p)]
        for number, parsed, _owner, _d in emails
    }
    contact_rows = _contact_deals(
        {p.address for number, _p, _o, d in emails if d is None for p in externals[number]}
    )
    scope = _Scope()
    owners = [owner for _n, _p, owner, _d in emails]
    candidates = {
        r.deal_id for rows in stored_rows.values() for r in rows if r.message_id in thread_ids
    }
    candidates |= {d for rows in contact_rows.values() for d, _s in rows}
    candidates |= {d for _n, _p, _o, d in emails if d is not None}
    scope.check(owners, candidates)

    # The domain lookup is for the mails that neither the address nor a contact matches.
    need_domains = {
        number: sorted({p.domain for p in externals[number]} - FREEMAIL_DOMAINS)[:10]
        for number, _parsed, owner, deal_id in emails
        if deal_id is None
        and not any(
            scope.may(owner, d)
            for p in externals[number]
            for d, _s in contact_rows.get(p.address, ())
        )
    }
    domain_rows = _domain_deals({d for ds in need_domains.values() for d in ds})
    scope.check(owners, {d for rows in domain_rows.values() for d, _s in rows})

    # Stored replies still waiting for the mail they answer, by (deal, In-Reply-To).
    waiting: dict[tuple[int, str], list[int | _Mail]] = {}
    for pk, deal, in_reply_to in Activity.objects.filter(
        thread__isnull=True, captured_mail__in_reply_to__in=message_ids
    ).values_list("id", "deal_id", "captured_mail__in_reply_to"):
        waiting.setdefault((deal, in_reply_to), []).append(pk)

    batch_mails: dict[str, list[_Mail]] = {}  # Message-ID → mails of this batch on a deal
    overrides: dict[int, int | _Mail] = {}  # stored activity id → thread set by this batch
    stored: list[_Mail] = []
    for number, parsed, owner, deal_id in emails:
        side = sides[number]
        parents = _parents(parsed, owner, scope, stored_rows, batch_mails, overrides)
        try:
            match = _match(
                parsed,
                owner,
                scope,
                deal_id,
                parents,
                externals[number],
                contact_rows,
                need_domains.get(number, []),
                domain_rows,
            )
        except MailRefused as exc:
            outcomes[number], notes[number] = "refused", str(exc)
            continue
        key = parsed.message_id
        if (owner.pk, key) in for_user or (
            match.deal_id is not None and (match.deal_id, key) in on_deal
        ):
            outcomes[number] = "duplicate"
            continue
        for_user.add((owner.pk, key))
        item = _Mail(
            parsed, owner, match, None, _mail_row(parsed, owner, channel, match), len(stored)
        )
        if match.deal_id is not None:
            on_deal.add((match.deal_id, key))
            item.thread = next((root for p_deal, root in parents if p_deal == match.deal_id), None)
            item.activity = Activity(
                deal_id=match.deal_id,
                kind=Activity.Kind.EMAIL,
                source=Activity.Source.EMAIL,
                message_id=key,
                initiated_by=initiated_by(parsed.sender, side),
                occurred_at=parsed.sent_at,
                notes=_notes(parsed.subject, parsed.text),
                auto_reply=parsed.auto_reply,
                thread_id=item.thread if isinstance(item.thread, int) else None,
                created_by=owner,
            )
            batch_mails.setdefault(key, []).append(item)
            # As `_log_activity`: replies on this deal waiting for this mail join its thread.
            for orphan in waiting.pop((match.deal_id, key), []):
                if isinstance(orphan, int):
                    overrides[orphan] = item.thread or item
                else:
                    orphan.thread = item.thread or item
            if item.thread is None and parsed.in_reply_to:
                waiting.setdefault((match.deal_id, parsed.in_reply_to), []).append(item)
        stored.append(item)
        outcomes[number] = "logged" if item.activity else "inbox"

    try:
        with transaction.atomic():
            _write(stored, overrides)
    except IntegrityError:
        # Somebody stored one of these meanwhile: one by one, each with its savepoint.
        for number, parsed, owner, deal_id in emails:
            if outcomes.get(number) in ("logged", "inbox"):
                results = mail_capture_parsed(
                    parsed=parsed, user=owner, channel=channel, deal_id=deal_id, cache=users
                )
                outcomes[number] = results[0].outcome
        return
    for deal in sorted({i.activity.deal_id for i in stored if i.activity is not None}):
        # Once per deal on commit; debounced across batches in the drop (services).
        queue_recompute(deal)


def _contact_deals(addresses: set[str]) -> dict[str, list[tuple[int, str]]]:
    """Lower-cased address → (deal id, stage) of the deals with that contact."""
    if not addresses:
        return {}
    variants = {v: a for a in addresses for v in _cased([a])}
    out: dict[str, list[tuple[int, str]]] = {}
    rows = (
        Deal.objects.filter(prospect__contacts__email__in=sorted(variants))
        .values_list("id", "stage", "prospect__contacts__email")
        .distinct()
    )
    for deal, stage, address in rows:
        out.setdefault(variants[address], []).append((deal, stage))
    return out


def _domain_deals(domains: set[str]) -> dict[str, list[tuple[int, str]]]:
    """Domain → (deal id, stage) of deals whose contacts or prospect website have it."""
    if not domains:
        return {}
    q = Q()
    for domain in sorted(domains):
        q |= Q(prospect__contacts__email__iendswith=f"@{domain}")
        q |= Q(prospect__website__iregex=rf"^(https?://)?(www\.)?{_regex(domain)}(/|$)")
    websites = {
        d: re.compile(rf"^(https?://)?(www\.)?{_regex(d)}(/|$)", re.IGNORECASE) for d in domains
    }
    out: dict[str, set[tuple[int, str]]] = {}
    rows = (
        Deal.objects.filter(q)
        .values_list("id", "stage", "prospect__contacts__email", "prospect__website")
        .distinct()
    )
    for deal, stage, address, website in rows:
        for domain, pattern in websites.items():
            if (address or "").lower().endswith(f"@{domain}") or pattern.search(website or ""):
                out.setdefault(domain, set()).add((deal, stage))
    return {d: sorted(rows) for d, rows in out.items()}


def _parents(
    parsed: ParsedMail,
    owner: User,
    scope: _Scope,
    stored_rows: dict[str, list[_Row]],
    batch_mails: dict[str, list[_Mail]],
    overrides: dict[int, int | _Mail],
) -> list[tuple[int, int | _Mail]]:
    """(deal id, thread root) of the mails this one answers, oldest first, as
    `thread_parents` would read them had the batch's earlier mails been stored."""
    found: list[tuple[tuple, int, int | _Mail]] = []
    for message_id in _thread_ids(parsed):
        for r in stored_rows.get(message_id, ()):
            if scope.may(owner, r.deal_id):
                root = overrides.get(r.id) or r.thread_id or r.id
                found.append(((r.occurred_at, 0, r.id), r.deal_id, root))
        for item in batch_mails.get(message_id, ()):
            assert item.activity is not None
            if scope.may(owner, item.activity.deal_id):
                key = (item.parsed.sent_at, 1, item.order)
                found.append((key, item.activity.deal_id, item.thread or item))
    found.sort(key=lambda f: f[0])
    return [(deal, root) for _key, deal, root in found[:20]]


def _match(
    parsed: ParsedMail,
    owner: User,
    scope: _Scope,
    deal_id: int | None,
    parents: list[tuple[int, int | _Mail]],
    externals: list[Person],
    contact_rows: dict[str, list[tuple[int, str]]],
    domains: list[str],
    domain_rows: dict[str, list[tuple[int, str]]],
) -> Match:
    """`match_deal`'s order on the batch's lookups."""
    if deal_id is not None:
        if not scope.may(owner, deal_id):
            raise MailRefused(f"No deal {deal_id} that you may log mail on.", smtp_code=550)
        return Match(deal_id, "address", [deal_id])
    picked = _pick([(deal, scope.stages[deal]) for deal, _root in parents], "thread")
    if picked is not None:
        return picked
    if not externals:
        return Match(None, "none")
    rows = [
        row
        for p in externals
        for row in contact_rows.get(p.address, ())
        if scope.may(owner, row[0])
    ]
    picked = _pick(rows, "contact")
    if picked is not None:
        return picked
    if not domains:
        return Match(None, "none")
    rows = [row for d in domains for row in domain_rows.get(d, ()) if scope.may(owner, row[0])]
    return _pick(rows, "domain") or Match(None, "none")


def _mail_row(parsed: ParsedMail, owner: User, channel: str, match: Match) -> CapturedMail:
    return CapturedMail(
        user=owner,
        status=Status.ASSIGNED if match.deal_id is not None else Status.INBOX,
        **captured_mail_fields(parsed, channel=channel, match=match),
    )


def _root_id(ref: int | _Mail) -> int:
    if isinstance(ref, int):
        return ref
    assert ref.activity is not None and ref.activity.pk is not None
    return ref.activity.pk


def _write(stored: list[_Mail], overrides: dict[int, int | _Mail]) -> None:
    for item in stored:
        if item.activity is not None and isinstance(item.thread, int):
            item.activity.thread_id = item.thread
    Activity.objects.bulk_create([i.activity for i in stored if i.activity is not None])
    linked = []
    for item in stored:
        if item.activity is not None and isinstance(item.thread, _Mail):
            item.activity.thread_id = _root_id(item.thread)
            linked.append(item.activity)
    linked += [Activity(pk=pk, thread_id=_root_id(ref)) for pk, ref in overrides.items()]
    if linked:
        Activity.objects.bulk_update(linked, ["thread"])
    for item in stored:
        item.mail.activity = item.activity
    CapturedMail.objects.bulk_create([i.mail for i in stored])
    buyer_deals = {
        i.activity.deal_id
        for i in stored
        if i.activity is not None
        and i.activity.initiated_by == Activity.InitiatedBy.BUYER
        and not i.activity.auto_reply
    }
    if buyer_deals:
        # `_refresh_last_buyer_contact` for all of the batch's deals in one statement.
        latest = (
            Activity.objects.filter(
                deal_id=OuterRef("pk"), initiated_by=Activity.InitiatedBy.BUYER, auto_reply=False
            )
            .order_by("-occurred_at")
            .values("occurred_at")[:1]
        )
        Deal.objects.filter(pk__in=buyer_deals).update(last_buyer_contact_at=Subquery(latest))
