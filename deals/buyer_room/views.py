"""Pages of the buyer room (under /buyer/<token>/, no account) and the rep's share actions.

Buyer views: rate-limit, resolve the token (one path for every kind of bad token, one
plain 404 page), refuse any posted field the action does not offer, call one service,
then redirect back to the room (or re-render it with the errors, 400).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

from deals import selectors as deal_selectors
from deals.models import Contact, Deal
from handoff.models import CheckIn

from . import forms as f
from . import selectors, services
from .models import BuyerShare
from .ratelimit import client_ip, lookup_failed, request_allowed

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: never let it leave through a Referer, a cache or a crawler.
    # same-origin, not no-referrer: with no-referrer browsers post `Origin: null`, which
    # Django's CSRF check rightly refuses.
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Content-Security-Policy"] = CSP
    return response


def _not_found(request: HttpRequest) -> HttpResponse:
    """The same page for a guessed, malformed, expired or revoked link."""
    return _private(render(request, "buyer_room/not_found.html", status=404))


def _too_many(request: HttpRequest) -> HttpResponse:
    response = render(request, "buyer_room/not_found.html", {"too_many": True}, status=429)
    response["Retry-After"] = "60"
    return _private(response)


def _visit(request: HttpRequest, token: str) -> services.BuyerVisit | HttpResponse:
    if not request_allowed(request):
        return _too_many(request)
    share = selectors.buyer_share_for_token(token)
    if share is None:
        lookup_failed(request)
        return _not_found(request)
    return services.BuyerVisit(
        share=share,
        ip=client_ip(request) if client_ip(request) != "unknown" else None,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def _room(
    request: HttpRequest,
    visit: services.BuyerVisit,
    *,
    status: int = 200,
    errors: dict[str, Any] | None = None,
) -> HttpResponse:
    content = selectors.buyer_room_content(visit.share)
    context: dict[str, Any] = {
        "room": content,
        "token": request.resolver_match.kwargs["token"] if request.resolver_match else "",
        "errors": errors or {},
        "done": request.GET.get("done", ""),
        "add_form": (errors or {}).get("add_form") or f.NeedAddForm(),
        "question_form": (errors or {}).get("question_form") or f.QuestionForm(),
        "pulse_form": (errors or {}).get("pulse_form") or f.PulseForm(),
    }
    if content["check_in"]:
        context["check_in_form"] = (errors or {}).get("check_in_form") or f.CheckInAnswerForm(
            check_in=content["check_in"]
        )
    return _private(render(request, "buyer_room/room.html", context, status=status))


@require_GET
def room(request: HttpRequest, token: str) -> HttpResponse:
    visit = _visit(request, token)
    if isinstance(visit, HttpResponse):
        return visit
    services.buyer_room_open(visit=visit)
    with translation.override(visit.deal.language):
        return _room(request, visit)


# Which posted fields each action offers; anything else is refused (mass assignment).
_CSRF = {"csrfmiddlewaretoken"}


def _buyer_action(
    request: HttpRequest,
    token: str,
    fields: set[str],
    act: Callable[[services.BuyerVisit], Any],
    done: str,
    error_key: str = "",
) -> HttpResponse:
    visit = _visit(request, token)
    if isinstance(visit, HttpResponse):
        return visit
    with translation.override(visit.deal.language):
        unknown = sorted(set(request.POST) - fields - _CSRF)
        if unknown:
            return _room(request, visit, status=400, errors={"refused": unknown})
        try:
            act(visit)
        except ObjectDoesNotExist:
            # An id of another deal (or none at all): the same as a bad link.
            return _not_found(request)
        except PermissionDenied as exc:
            return _room(request, visit, status=403, errors={"message": str(exc)})
        except ValidationError as exc:
            return _room(request, visit, status=400, errors={"message": " ".join(exc.messages)})
        except _FormInvalid as exc:
            if error_key == "message":
                text = " ".join(str(e) for errs in exc.form.errors.values() for e in errs)
                return _room(request, visit, status=400, errors={"message": text})
            return _room(request, visit, status=400, errors={error_key: exc.form})
    url = reverse("buyer_room:room", args=[token])
    return _private(redirect(f"{url}?done={done}#{done}"))


class _FormInvalid(Exception):
    def __init__(self, form: Any) -> None:
        self.form = form


def _valid(form: Any) -> Any:
    if not form.is_valid():
        raise _FormInvalid(form)
    return form.cleaned_data


@require_POST
def need_confirm(request: HttpRequest, token: str, need_id: int) -> HttpResponse:
    return _buyer_action(
        request,
        token,
        set(),
        lambda v: services.buyer_need_confirm(visit=v, need_id=need_id),
        "needs",
    )


@require_POST
def need_change(request: HttpRequest, token: str, need_id: int) -> HttpResponse:
    def act(v: services.BuyerVisit) -> Any:
        data = _valid(f.NeedChangeForm(request.POST))
        return services.buyer_need_change(visit=v, need_id=need_id, **data)

    return _buyer_action(request, token, {"statement", "importance"}, act, "needs", "message")


@require_POST
def need_add(request: HttpRequest, token: str) -> HttpResponse:
    def act(v: services.BuyerVisit) -> Any:
        return services.buyer_need_add(visit=v, **_valid(f.NeedAddForm(request.POST)))

    return _buyer_action(
        request, token, {"statement", "importance", "kind"}, act, "needs", "add_form"
    )


@require_POST
def milestone_tick(request: HttpRequest, token: str, milestone_id: int) -> HttpResponse:
    def act(v: services.BuyerVisit) -> Any:
        data = _valid(f.TickForm(request.POST))
        return services.buyer_milestone_tick(visit=v, milestone_id=milestone_id, done=data["done"])

    return _buyer_action(request, token, {"done"}, act, "plan", "message")


@require_POST
def milestone_date(request: HttpRequest, token: str, milestone_id: int) -> HttpResponse:
    def act(v: services.BuyerVisit) -> Any:
        data = _valid(f.ProposeDateForm(request.POST))
        return services.buyer_milestone_propose_date(
            visit=v, milestone_id=milestone_id, proposed_date=data["proposed_date"]
        )

    return _buyer_action(request, token, {"proposed_date"}, act, "plan", "message")


@require_POST
def question(request: HttpRequest, token: str) -> HttpResponse:
    def act(v: services.BuyerVisit) -> Any:
        data = _valid(f.QuestionForm(request.POST))
        return services.buyer_question_ask(visit=v, question=data["question"])

    return _buyer_action(request, token, {"question"}, act, "question", "question_form")


@require_POST
def pulse(request: HttpRequest, token: str, meeting_id: int) -> HttpResponse:
    def act(v: services.BuyerVisit) -> Any:
        data = _valid(f.PulseForm(request.POST))
        return services.buyer_pulse_answer(visit=v, meeting_id=meeting_id, **data)

    fields = {"got_what_needed", "felt_pushed", "next_step_agreed"}
    return _buyer_action(request, token, fields, act, "pulse", "pulse_form")


@require_POST
def check_in(request: HttpRequest, token: str) -> HttpResponse:
    def act(v: services.BuyerVisit) -> Any:
        content = selectors.buyer_room_content(v.share)
        if not content["check_in"]:
            raise PermissionDenied("This link was not sent for a check-in.")
        form = f.CheckInAnswerForm(request.POST, check_in=content["check_in"])
        if set(request.POST) - set(form.fields) - _CSRF:
            # A need that was not sold, a promise of another deal, any other field.
            raise ValidationError("Some of what was sent cannot be changed here.")
        _valid(form)
        return services.buyer_check_in_answer(
            visit=v,
            need_values=form.need_values(),
            promises_kept=form.promises_kept(),
            comment=form.cleaned_data["comment"],
        )

    # The allowed fields depend on the check-in (one per need sold and per promise), so
    # `act` refuses what its form does not have.
    return _buyer_action(request, token, set(request.POST), act, "check-in", "check_in_form")


# --- the rep's side ------------------------------------------------------------------------


def _share_back(request: HttpRequest, deal_id: int) -> HttpResponse:
    return redirect(reverse("deals:deal_detail", args=[deal_id]) + "#buyer-room")


def _posted_contact(request: HttpRequest, deal: Deal) -> Contact | None:
    """The contact a share form names, if it is one of the deal's prospect's contacts."""
    form = f.ShareForm(request.POST)
    if not form.is_valid():
        return None
    return Contact.objects.filter(
        pk=form.cleaned_data["contact"], prospect_id=deal.prospect_id
    ).first()


@require_POST
def share_create(request: HttpRequest, pk: int) -> HttpResponse:
    deal = deal_selectors.deal_get(user=request.user, deal_id=pk)
    contact = _posted_contact(request, deal)
    if contact is None:
        messages.error(request, "Choose one of the deal's contacts.")
        return _share_back(request, deal.pk)
    try:
        services.buyer_share_create(deal=deal, contact=contact, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Buyer room shared with {contact.name}; the link is emailed.")
    return _share_back(request, deal.pk)


def _deal_share(request: HttpRequest, pk: int, share_id: int) -> BuyerShare:
    deal = deal_selectors.deal_get(user=request.user, deal_id=pk)
    shares = BuyerShare.objects.select_related("deal", "contact")
    return get_object_or_404(shares, pk=share_id, deal=deal)


@require_POST
def share_resend(request: HttpRequest, pk: int, share_id: int) -> HttpResponse:
    share = _deal_share(request, pk, share_id)
    try:
        services.buyer_share_resend(share=share, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"A new link was emailed to {share.contact.name}.")
    return _share_back(request, pk)


@require_POST
def share_revoke(request: HttpRequest, pk: int, share_id: int) -> HttpResponse:
    share = _deal_share(request, pk, share_id)
    services.buyer_share_revoke(share=share, user=request.user)
    messages.success(request, f"The link of {share.contact.name} no longer opens the room.")
    return _share_back(request, pk)


@require_POST
def check_in_send(request: HttpRequest, check_in_id: int) -> HttpResponse:
    """From the handoff page: send a check-in to a customer contact through their link."""
    from handoff.selectors import handoff_list

    check_in = get_object_or_404(
        CheckIn.objects.select_related("handoff__deal"),
        pk=check_in_id,
        handoff__in=handoff_list(user=request.user),
    )
    deal = check_in.handoff.deal
    back = redirect(reverse("handoff:detail", args=[check_in.handoff_id]) + "#check-ins")
    contact = _posted_contact(request, deal)
    if contact is None:
        messages.error(request, "Choose one of the customer's contacts.")
        return back
    try:
        services.buyer_share_create(
            deal=deal, contact=contact, user=request.user, check_in=check_in
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"Check-in sent to {contact.name}.")
    return back
