"""Notifications raised by the health engine, kept out of its write path: the store only
queues the ids of flags it opened, and this runs after the commit."""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.urls import reverse

from deals.models import Flag

from .models import Kind
from .services import Notice, notify_each


def flags_opened_on_commit(flag_ids: list[int]) -> None:
    """Called by deals.health.store when it inserts new flags."""
    if not flag_ids:
        return
    from .tasks import flags_opened_notify_task

    transaction.on_commit(lambda: flags_opened_notify_task.delay(list(flag_ids)), robust=True)


def flags_opened_notify(*, flag_ids: list[int]) -> int:
    """One notification per deal to its owner, naming the new flags; returns how many
    were written."""
    flags = (
        Flag.objects.filter(pk__in=flag_ids, status=Flag.Status.OPEN)
        .select_related("deal__owner")
        .order_by("deal_id", "id")
    )
    by_deal: dict[int, list[Flag]] = defaultdict(list)
    for flag in flags:
        by_deal[flag.deal_id].append(flag)
    notices = []
    for deal_flags in by_deal.values():
        deal = deal_flags[0].deal
        if deal.owner is None:
            continue
        count = len(deal_flags)
        notices.append(
            Notice(
                recipient=deal.owner,
                kind=Kind.FLAG_RAISED,
                title=f"New flag on {deal.title}"
                if count == 1
                else f"{count} new flags on {deal.title}",
                body="\n".join(flag.message for flag in deal_flags),
                url=reverse("deals:deal_detail", args=[deal.pk]) + "#health",
                key=f"flag:{deal_flags[0].pk}",
            )
        )
    # One batch for the whole sweep batch: a fixed number of queries however many deals.
    return notify_each(notices=notices).written
