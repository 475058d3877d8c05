"""Which deal a captured mail belongs to, who started it, and who from our side was there.

Order: the `deal+ID` address; else the thread (In-Reply-To/References naming a mail
already logged on a deal the user may change); else the participants' addresses against
the contacts of those deals; else their domains against the contacts' and prospects'
domains. One open deal wins (or one closed deal when no open one matches); several or
none leave the mail in the user's inbox. Every lookup is scoped to what the sending user
may change (deals/visibility.py), so mail never lands on somebody else's deal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, QuerySet

from deals.models import Activity, Deal
from deals.visibility import deal_edit_scope_q
from winwin_crm.accounts.models import User

from .types import MailRefused, Person

# Public mail services: a shared domain says nothing about which buyer wrote.
FREEMAIL_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "proton.me",
        "protonmail.com",
        "mail.com",
        "yandex.ru",
        "zoho.com",
        "fastmail.com",
    ]
)


@dataclass
class Match:
    deal_id: int | None
    reason: str  # address, thread, contact, domain, several, none
    candidate_ids: list[int] = field(default_factory=list)


def company_domains() -> frozenset[str]:
    """The seller's own domains: the configured allow-list, else the users' domains."""
    if settings.MAIL_DROP_ALLOWED_DOMAINS:
        return frozenset(settings.MAIL_DROP_ALLOWED_DOMAINS)
    emails = User.objects.filter(is_active=True).exclude(email="").values_list("email", flat=True)
    return frozenset(e.rpartition("@")[2].lower() for e in emails)


@dataclass
class Side:
    """Who is on the seller's side of a mail: CRM users by address, and company domains."""

    domains: frozenset[str]
    users: dict[str, User]

    def is_company(self, person: Person) -> bool:
        return (
            person.address in self.users
            or person.domain in self.domains
            or person.domain == settings.MAIL_DROP_DOMAIN.lower()
        )

    def senior_among(self, people: Iterable[Person]) -> bool:
        return any((user := self.users.get(p.address)) is not None and user.senior for p in people)


def side_for(people: Iterable[Person], cache: dict[str, User | None] | None = None) -> Side:
    """Our side among `people`. An import passes `cache` (address → user or None) so a
    10,000-message mbox does not look the same colleagues up 10,000 times."""
    addresses = {p.address for p in people}
    users: dict[str, User] = {}
    missing = addresses if cache is None else {a for a in addresses if a not in cache}
    if missing:
        found = {
            user.email.lower(): user
            for user in User.objects.filter(is_active=True, email__in=_cased(missing))
        }
        if cache is not None:
            cache.update({a: found.get(a) for a in missing})
        users.update(found)
    if cache is not None:
        users.update({a: u for a in addresses if (u := cache.get(a)) is not None})
    return Side(domains=company_domains(), users=users)


@dataclass(frozen=True, slots=True)
class Parent:
    """An earlier mail of the thread, already an activity on a deal the user may change."""

    activity_id: int
    thread_id: int | None
    deal_id: int
    stage: str

    @property
    def root_id(self) -> int:
        return self.thread_id or self.activity_id


def thread_parents(*, user, thread_ids: Iterable[str]) -> list[Parent]:
    """The logged mails a reply names in In-Reply-To/References, oldest first."""
    thread_ids = [t for t in thread_ids if t]
    if not thread_ids:
        return []
    rows = (
        Activity.objects.filter(message_id__in=thread_ids[-20:], deal__in=_editable_deals(user))
        .order_by("occurred_at", "id")
        .values_list("id", "thread_id", "deal_id", "deal__stage")[:20]
    )
    return [Parent(*row) for row in rows]


def _cased(addresses: Iterable[str]) -> list[str]:
    # Addresses are compared lower-cased; stored ones may be as typed ("Ann.Lee@Acme.com"),
    # so the lookup also tries the capitalised forms clients commonly keep.
    out = set()
    for address in addresses:
        out.add(address)
        local, _, domain = address.partition("@")
        out.add(f"{local}@{domain.capitalize()}")
        out.add(f"{'.'.join(w.capitalize() for w in local.split('.'))}@{domain}")
        out.add(f"{'.'.join(w.capitalize() for w in local.split('.'))}@{domain.capitalize()}")
    return sorted(out)


def _editable_deals(user) -> QuerySet[Deal]:
    return Deal.objects.filter(deal_edit_scope_q(user))


def _pick(rows: list[tuple[int, str]], reason: str) -> Match | None:
    """From (id, stage) rows: one open deal wins; else one closed deal; several are for
    the user to choose."""
    if not rows:
        return None
    rows = sorted(set(rows))
    open_ids = [deal_id for deal_id, stage in rows if stage in Deal.OPEN_STAGES]
    chosen = open_ids or [deal_id for deal_id, _stage in rows]
    if len(chosen) == 1:
        return Match(chosen[0], reason, chosen)
    return Match(None, "several", chosen[:20])


def match_deal(
    *,
    user,
    participants: list[Person],
    side: Side,
    deal_id: int | None = None,
    parents: Iterable[Parent] = (),
) -> Match:
    deals = _editable_deals(user)
    if deal_id is not None:
        if not deals.filter(pk=deal_id).exists():
            raise MailRefused(f"No deal {deal_id} that you may log mail on.", smtp_code=550)
        return Match(deal_id, "address", [deal_id])

    picked = _pick([(p.deal_id, p.stage) for p in parents], "thread")
    if picked is not None:
        return picked

    external = [p for p in participants if not side.is_company(p)]
    if not external:
        return Match(None, "none")
    found = list(
        deals.filter(prospect__contacts__email__in=_cased(p.address for p in external))
        .values_list("id", "stage")
        .distinct()[:50]
    )
    picked = _pick(found, "contact")
    if picked is not None:
        return picked

    domains = sorted({p.domain for p in external} - FREEMAIL_DOMAINS)
    if not domains:
        return Match(None, "none")
    q = Q()
    for domain in domains[:10]:
        q |= Q(prospect__contacts__email__iendswith=f"@{domain}")
        q |= Q(prospect__website__iregex=rf"^(https?://)?(www\.)?{_regex(domain)}(/|$)")
    found = list(deals.filter(q).values_list("id", "stage").distinct()[:50])
    return _pick(found, "domain") or Match(None, "none")


def _regex(domain: str) -> str:
    return domain.replace(".", r"\.")


def initiated_by(sender: Person | None, side: Side) -> str:
    """The From address decides: our side is the rep, anybody else the buyer."""
    if sender is not None and side.is_company(sender):
        return Activity.InitiatedBy.REP
    return Activity.InitiatedBy.BUYER
