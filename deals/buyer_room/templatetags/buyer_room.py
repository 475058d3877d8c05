"""Staff-page panels of the buyer room, so the deal and handoff pages include them with
one tag and no view change: `{% buyer_room_panel deal %}` and
`{% buyer_check_in_answers check_in %}`."""

from __future__ import annotations

from typing import Any, cast

from django import template
from django.template import Context

from deals.visibility import user_can_edit_deal

from .. import selectors

register = template.Library()


@register.inclusion_tag("buyer_room/_panel.html", takes_context=True)
def buyer_room_panel(context: dict[str, Any], deal) -> dict[str, Any]:
    can_share = user_can_edit_deal(context["request"].user, deal)
    return {
        "deal": deal,
        "can_share": can_share,
        "csrf_token": context.get("csrf_token"),
        **selectors.buyer_room_panel(deal=deal, with_contacts=can_share),
    }


@register.inclusion_tag("buyer_room/_check_in_answers.html", takes_context=True)
def buyer_check_in_answers(context: Context, check_in, can_send: bool = False) -> dict:
    # One query set for the whole page: the first call loads every check-in's answers.
    cache = cast(dict, context.render_context.setdefault("buyer_check_in_answers", {}))  # type: ignore[arg-type]
    handoff = check_in.handoff
    if handoff.pk not in cache:
        ids = [c.pk for c in handoff.check_ins.all()]
        cache[handoff.pk] = (
            selectors.buyer_check_in_answers(check_in_ids=ids),
            list(handoff.deal.prospect.contacts.all()) if can_send else [],
        )
    answers, contacts = cache[handoff.pk]
    return {
        "check_in": check_in,
        "answers": answers.get(check_in.pk, []),
        "contacts": contacts,
        "can_send": can_send,
        "csrf_token": context.get("csrf_token"),
    }
