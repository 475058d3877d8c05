"""One date, money and percent family on every page (winwin_crm/templatetags/ui.py).

A template scan keeps `|date:`, `floatformat`, "amount currency" and a hand-written "%"
out of the templates; rendered pages show money as "USD 1,900.00" everywhere.
"""

import re
from decimal import Decimal
from pathlib import Path

from django.urls import reverse

from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    path
    for path in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/**/templates/**/*.html")]
    if ".venv" not in path.parts
)
# A machine-readable month in a data attribute is the one date format a template may spell;
# a percent in a style attribute (a bar's width) is CSS, not text.
ALLOWED = re.compile(r"""\|date:['"]Y-m['"]""" + r'|style="[^"]*"')
FORBIDDEN = {
    "a |date: format (use {% when %}, |day, |month or |stamp)": re.compile(r"\|date:"),
    "floatformat (use |money, |qty or |pct)": re.compile(r"floatformat"),
    "a currency written beside an amount (use |money:currency)": re.compile(
        r"\}\}\s*\{\{\s*[\w.]*currency\s*\}\}"
    ),
    "a hand-written percent sign after a value (use |pct)": re.compile(r"\}\}(\s|&nbsp;)?%"),
}


def test_templates_format_dates_money_and_percents_only_through_the_ui_filters():
    assert len(TEMPLATES) > 40  # the scan sees the app's and the buyer room's templates
    problems = []
    for path in TEMPLATES:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            line = ALLOWED.sub("", line)
            for what, pattern in FORBIDDEN.items():
                if pattern.search(line):
                    problems.append(f"{path.relative_to(ROOT)}:{number}: {what}")
    assert not problems, "\n".join(problems)


def test_the_scan_catches_each_forbidden_spelling():
    for sample in (
        '{{ d|date:"j M Y" }}',
        '{{ x|floatformat:"2g" }}',
        "{{ x }} {{ deal.currency }}",
        "{{ share }}%",
    ):
        assert any(p.search(ALLOWED.sub("", sample)) for p in FORBIDDEN.values()), sample
    assert not any(p.search(ALLOWED.sub("", "{{ m|date:'Y-m' }}")) for p in FORBIDDEN.values())


def test_the_deal_page_shows_every_amount_one_way(rep_client, deal):
    f.LineItemFactory(
        deal=deal,
        name="Planner licence",
        quantity=Decimal("12.50"),
        unit_list_price=Decimal("1200"),
        unit_price=Decimal("1100.5"),
    )
    f.ConcessionFactory(deal=deal, amount=Decimal("3000"), cost_to_seller=Decimal("600"))
    html = rep_client.get(reverse("deals:deal_detail", args=[deal.pk])).content.decode()
    assert ">12.5<" in html  # a quantity has no trailing zeros
    assert "1,200.00" in html and "1,100.50" in html and "13,756.25" in html
    assert "USD 3,000.00" in html and "600.00" in html
    assert not re.search(r"\d USD", html)  # never "3000.00 USD"


def test_quantities_months_and_sweep_stamps_read_one_way():
    import datetime as dt

    from django.utils import timezone

    from winwin_crm.templatetags.ui import month, qty, stamp

    assert qty(Decimal("10.00")) == "10" and qty("12.50") == "12.5" and qty(1200) == "1,200"
    assert qty(None) == "—"
    assert month(dt.date(2026, 11, 1)) == "Nov 2026"
    at = timezone.make_aware(dt.datetime(2026, 11, 4, 14, 5))
    assert stamp(at) == "4 Nov 14:05" and stamp(None) == "—"


def test_a_recent_moment_says_one_unit():
    import datetime as dt

    from django.utils import timezone

    from winwin_crm.templatetags.ui import when

    now = timezone.now()
    assert ">1\xa0day ago<" in when(now - dt.timedelta(days=1, hours=10), now=now)
    assert ">just now<" in when(now - dt.timedelta(seconds=20), now=now)
    assert ">in 2\xa0days<" in when(now + dt.timedelta(days=2, hours=3), now=now)


def test_a_changed_value_reads_as_names_not_a_python_list():
    from winwin_crm.templatetags.ui import plain

    rows = [{"id": 6, "name": "Platform licence"}, {"id": 7, "name": "Implementation"}]
    assert plain(rows) == "Platform licence, Implementation"
    assert plain([]) == "none" and plain(None) == "—" and plain(True) == "yes"
    assert plain("80.00") == "80.00"
