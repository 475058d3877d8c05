"""The handoff page as a user reads it: no internal version numbers, no change that did
not happen, money in the one format (winwin_crm/templatetags/ui.py)."""

import re

from django.urls import reverse

from handoff.models import Handoff


def page(client, user, handoff):
    client.force_login(user)
    return client.get(reverse("handoff:detail", args=[handoff.pk])).content.decode()


def test_a_package_frozen_as_80_is_not_changed_by_a_deal_at_80_00(client, submitted, rep_user):
    package = dict(submitted.package)
    # An older package wrote amounts without their decimals: "900" against 900.00 today.
    package["pricing"] = {
        key: (value.split(".")[0] if key.endswith("total") else value)
        for key, value in package["pricing"].items()
    }
    assert package["pricing"]["net_total"] == "900"
    Handoff.objects.filter(pk=submitted.pk).update(package=package)
    html = page(client, rep_user, submitted)
    changes = re.search(r'id="changes">(.*?)</div>', html, re.S).group(1)
    assert '<span class="muted small">0</span>' in changes
    assert "Deal pricing" not in changes
    # A real change still shows.
    submitted.deal.__class__.objects.filter(pk=submitted.deal.pk).update(net_total="850.00")
    assert "Deal pricing" in page(client, rep_user, submitted)


def test_no_version_number_is_shown_on_the_deal_or_handoff_pages(client, submitted, rep_user):
    for html in (
        page(client, rep_user, submitted),
        client.get(reverse("deals:deal_detail", args=[submitted.deal.pk])).content.decode(),
    ):
        text = re.sub(r"<[^>]+>", " ", html)  # what a reader sees, not hidden inputs
        assert not re.search(r"\bversion\s*\d", text, re.I)


def test_the_handoff_package_shows_money_currency_first(client, submitted, rep_user):
    html = page(client, rep_user, submitted)
    assert "(USD 3,000.00)" in html  # the concession
    assert "1,000.00" in html and "900.00" in html  # list and net totals
    assert not re.search(r"\d USD", html)


def test_a_changed_list_reads_as_names_not_a_python_list(client, submitted, rep_user):
    package = dict(submitted.package)
    need = next(n for n in package["needs"] if n["served_by"])
    served = ", ".join(row["name"] for row in need["served_by"])
    need["served_by"] = []
    Handoff.objects.filter(pk=submitted.pk).update(package=package)
    html = page(client, rep_user, submitted)
    assert f"none → {served}" in html
    assert "{&#x27;id&#x27;" not in html and "[{" not in html
