"""Pages of captured mail: the inbox (assign or discard), a captured mail, the upload
on the deal page. Mail text is only ever shown through Django's autoescaping."""

from __future__ import annotations

import os
import tempfile

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from deals import services as deal_services
from deals.models import CapturedMail, Deal
from deals.visibility import deal_scope_q, user_can_edit_deal

from . import selectors
from .addresses import user_drop_address
from .forms import AssignForm, MailUploadForm
from .imports import mail_import
from .services import mail_assign, mail_discard
from .sources import file_kind, raw_messages
from .types import MailRefused, MailUnreadable


def _own_inbox_mail(request: HttpRequest, pk: int) -> CapturedMail:
    return get_object_or_404(selectors.mail_inbox(user=request.user), pk=pk)


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    mails = list(selectors.mail_inbox(user=request.user)[: selectors.INBOX_LIMIT])
    for mail in mails:
        mail.assign_form = AssignForm(  # type: ignore[attr-defined]
            deals=selectors.mail_assignable_deals(user=request.user, mail=mail),
            prefix=f"m{mail.pk}",
        )
    return render(
        request,
        "mail/inbox.html",
        {"nav": "mail", "mails": mails, "drop_address": user_drop_address(request.user.pk or 0)},
    )


@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    mail = _own_inbox_mail(request, pk)
    deals = selectors.mail_assignable_deals(user=request.user, mail=mail)
    form = AssignForm(request.POST, deals=deals, prefix=f"m{mail.pk}")
    if not form.is_valid():
        messages.error(request, "Choose one of your deals.")
        return redirect("mail:inbox")
    deal = next(d for d in deals if d.id == form.cleaned_data["deal"])
    try:
        mail_assign(mail=mail, user=request.user, deal=deal)
    except MailRefused as exc:
        messages.error(request, str(exc))
        return redirect("mail:inbox")
    messages.success(request, f"Logged on “{deal.title}”.")
    return redirect("mail:inbox")


@require_POST
def discard(request: HttpRequest, pk: int) -> HttpResponse:
    mail = _own_inbox_mail(request, pk)
    mail_discard(mail=mail, user=request.user)
    messages.success(request, "Discarded; its text is deleted.")
    return redirect("mail:inbox")


@require_GET
def activity_mail(request: HttpRequest, activity_id: int) -> HttpResponse:
    mail = selectors.mail_for_activity(user=request.user, activity_id=activity_id)
    if mail is None or mail.activity is None:
        raise Http404("No such mail.")
    deal = mail.activity.deal
    return render(
        request,
        "mail/mail_detail.html",
        {
            "nav": "deals",
            "mail": mail,
            "deal": deal,
            "can_edit": user_can_edit_deal(request.user, deal),
        },
    )


@require_POST
def activity_mail_delete(request: HttpRequest, activity_id: int) -> HttpResponse:
    mail = selectors.mail_for_activity(user=request.user, activity_id=activity_id)
    if mail is None or mail.activity is None:
        raise Http404("No such mail.")
    deal = mail.activity.deal
    # Visible but not yours answers 403 (the service raises PermissionDenied); the
    # activity's deletion cascades to the captured mail and its text.
    deal_services.activity_delete(activity=mail.activity, user=request.user)  # type: ignore[arg-type]
    messages.success(request, "The mail and its stored text are deleted.")
    return redirect(reverse("deals:deal_detail", args=[deal.pk]) + "#section-activities")


@require_POST
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_object_or_404(Deal.objects.filter(deal_scope_q(request.user)), pk=pk)
    back = reverse("deals:deal_detail", args=[deal.pk]) + "#section-activities"
    if not user_can_edit_deal(request.user, deal):
        messages.error(request, "Only the deal's rep can log mail on it.")
        return redirect(back)
    form = MailUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(
            request, " ".join(str(e) for e in form.errors.get("file") or ["Upload a file."])
        )
        return redirect(back)
    upload_file = form.cleaned_data["file"]
    try:
        kind = file_kind(upload_file.name)
    except MailUnreadable as exc:
        messages.error(request, str(exc))
        return redirect(back)
    # mailbox.mbox reads from a path; a small upload lives in memory until written out.
    with tempfile.NamedTemporaryFile(suffix=kind, delete=False) as tmp:
        for chunk in upload_file.chunks():
            tmp.write(chunk)
        path = tmp.name
    try:
        summary = mail_import(
            messages=raw_messages(path, kind), channel="upload", user=request.user, deal_id=deal.pk
        )
    finally:
        os.unlink(path)
    logged = summary.counts.get("logged", 0) + summary.counts.get("updated", 0)
    text = f"{logged} logged"
    for key, label in (
        ("duplicate", "already there"),
        ("cancelled", "cancelled"),
        ("refused", "not readable"),
    ):
        if summary.counts.get(key):
            text += f", {summary.counts[key]} {label}"
    if summary.errors:
        messages.warning(request, f"{text}. " + "; ".join(summary.errors[:3]))
    else:
        messages.success(request, f"{text}.")
    return redirect(back)
