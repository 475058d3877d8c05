"""Every page of the app, per role, in one registry: the phone-width, accessibility and
screenshot tests (test_every_page.py) visit each of them.

A page is a name and a builder that returns its path from the seeded demo (seed_demo's
users rita = rep, mona = manager, dana = delivery). A new page joins every check with one
line: `PAGES["rep"].append(Page("buyer-room", lambda: "/deals/1/buyer/"))`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ROLE_USERS = {"rep": "rita", "manager": "mona", "delivery": "dana"}


@dataclass(frozen=True)
class Page:
    name: str
    path: Callable[[], str]
    # A CSS selector to wait for before measuring (a page that finishes drawing in JS).
    ready: str = "main"
    # A page whose task is a form: the field that has the focus on arrival (its first).
    focus: str | None = None


def _deal(**filters) -> int:
    from deals.models import Deal

    return (
        Deal.objects.filter(**filters)
        .order_by("-open_flag_count", "pk")
        .values_list("pk", flat=True)
        .first()
    )


def _handoff(**filters) -> int:
    from handoff.models import Handoff

    return Handoff.objects.filter(**filters).order_by("pk").values_list("pk", flat=True).first()


def _buyer_room() -> str:
    """A fresh link to the buyer room of a demo deal that has one (a share per visit)."""
    from deals.buyer_room import services
    from deals.buyer_room.models import BuyerShare

    share = BuyerShare.objects.select_related("deal__owner", "contact").order_by("pk").first()
    _, token = services.buyer_share_create(
        deal=share.deal, contact=share.contact, user=share.deal.owner, send_email=False
    )
    return f"/buyer/{token}/"


PAGES: dict[str, list[Page]] = {
    "anonymous": [
        Page("login", lambda: "/accounts/login/", focus="#id_username"),
        Page("buyer-room", _buyer_room),
    ],
    "rep": [
        Page("my-deals", lambda: "/deals/"),
        Page("new-deal", lambda: "/deals/new/", focus="#id_prospect"),
        Page("deal", lambda: f"/deals/{_deal(owner__username='rita', stage='negotiation')}/"),
        Page(
            "discovery-call",
            lambda: (
                f"/deals/{_deal(owner__username='rita', closed_at__isnull=True)}/discovery-call/"
            ),
            focus="#id_held_at",
        ),
        Page(
            "deal-edit",
            lambda: f"/deals/{_deal(owner__username='rita', closed_at__isnull=True)}/edit/",
            focus="#id_deal-title",
        ),
        Page("handoffs", lambda: "/handoffs/"),
        Page(
            "handoff-draft",
            lambda: f"/handoffs/{_handoff(rep__username='rita', status='draft')}/",
            focus="#id_notes_for_delivery",
        ),
        Page("notifications", lambda: "/notifications/"),
        Page(
            "notification-settings",
            lambda: "/notifications/settings/",
            focus="input[type=radio]:first-of-type",
        ),
        Page("mail-inbox", lambda: "/mail/"),
        Page("not-found", lambda: "/deals/999999999/"),
    ],
    "manager": [
        Page("dashboard", lambda: "/dashboard/", ready="#quadrant-chart"),
        Page("flag-review", lambda: "/dashboard/flags/"),
        Page("reps", lambda: "/dashboard/reps/"),
        Page("import", lambda: "/imports/", focus="input[type=file]"),
        Page("team-deal", lambda: f"/deals/{_deal(team__name='Northwind Sales')}/"),
        Page("notifications", lambda: "/notifications/"),
    ],
    "delivery": [
        Page("queue", lambda: "/handoffs/"),
        Page("queue-accepted", lambda: "/handoffs/?tab=accepted"),
        Page("handoff-submitted", lambda: f"/handoffs/{_handoff(status='submitted')}/"),
        Page("handoff-accepted", lambda: f"/handoffs/{_handoff(status='accepted')}/"),
        Page("notifications", lambda: "/notifications/"),
    ],
}
