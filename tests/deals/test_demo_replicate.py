"""A large demo's copied deals (deals/demo/replicate.py): each copy is its own deal with
its own rows, and its stored health is what the engine computes for it."""

import pytest
from django.db import connection

import deals.health as health
from deals import demo
from deals.demo import replicate
from deals.demo import seed as seed_module
from deals.demo.generator import NEW_JOINER_PROSPECTS, new_joiner_prospects
from deals.demo.world import NEW_JOINER, NEW_JOINER_TEAM, NEW_JOINER_TEAMMATE
from deals.models import (
    Activity,
    Commitment,
    Concession,
    Deal,
    Disclosure,
    DiscoveryCall,
    Flag,
    HealthSnapshot,
    Need,
    StageHistory,
)
from handoff.models import CheckIn, Handoff
from winwin_crm.accounts.models import User

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="copies are written by SQL"),
]

TEMPLATE = 100
TOTAL = 270  # two full copies and a partial one (70 deals)
SEED = 7


@pytest.fixture
def copied_demo(monkeypatch):
    monkeypatch.setattr(seed_module, "TEMPLATE_DEALS", TEMPLATE)
    monkeypatch.setattr(seed_module, "REPLICATE_FROM", 250)
    report = demo.demo_seed(deals=TOTAL, seed=SEED)
    return report


def _generated(n: int) -> Deal:
    return Deal.objects.get(external_id=f"demo:{SEED}:d{n:07d}")


def _flags(deal: Deal) -> list[tuple]:
    return sorted(
        (f.code, f.severity, f.status, f.message, f.evidence_digest)
        for f in Flag.objects.filter(deal=deal)
    )


def test_the_demo_has_every_deal_number_once(copied_demo):
    numbers = Deal.objects.filter(external_id__startswith=f"demo:{SEED}:d").values_list(
        "external_id", flat=True
    )
    assert sorted(numbers) == [f"demo:{SEED}:d{n:07d}" for n in range(TOTAL)]
    assert copied_demo.deals_total >= TOTAL
    assert any("copied 170 deals" in note for note in copied_demo.notes)


def test_a_copy_has_its_own_rows_with_the_template_content(copied_demo):
    template, copy = _generated(23), _generated(23 + 2 * TEMPLATE)
    assert copy.pk != template.pk
    assert (copy.title, copy.stage, copy.net_total, copy.owner_id, copy.balance) == (
        template.title,
        template.stage,
        template.net_total,
        template.owner_id,
        template.balance,
    )
    assert copy.prospect_id != template.prospect_id
    assert copy.prospect.external_id == f"demo:{SEED}:p{(23 + 2 * TEMPLATE) // 2:07d}"
    assert {c.email for c in copy.prospect.contacts.all()} == {
        c.email for c in template.prospect.contacts.all()
    }
    for model in (Activity, Need, HealthSnapshot):
        mine = model.objects.filter(deal=copy)
        assert mine.count() == model.objects.filter(deal=template).count()
        assert not mine.filter(pk__in=model.objects.filter(deal=template).values("pk")).exists()
    # Threads stay inside the copy.
    threads = Activity.objects.filter(deal=copy, thread__isnull=False)
    assert all(a.thread.deal_id == copy.pk for a in threads)


def test_a_copy_s_stored_health_is_what_the_engine_computes_for_it(copied_demo):
    """Recomputing a copy changes nothing: its flags, their evidence (ids remapped into the
    copy) and its balance were already what the rules say."""
    copies = list(
        Deal.objects.filter(
            external_id__gte=f"demo:{SEED}:d{TEMPLATE:07d}", flags__isnull=False
        ).distinct()[:30]
    )
    assert len(copies) >= 15
    for deal in copies:
        before = (_flags(deal), deal.balance)
        health.health_recompute(deal_id=deal.pk)
        deal.refresh_from_db()
        assert (_flags(deal), deal.balance) == before, deal.external_id


def test_ids_inside_a_copy_s_json_point_into_the_copy(copied_demo):
    handoff = Handoff.objects.filter(deal__external_id__gte=f"demo:{SEED}:d{TEMPLATE:07d}")
    handoff = handoff.exclude(package={}).first()
    assert handoff is not None
    package = handoff.package
    assert package["deal"]["id"] == handoff.deal_id
    need_ids = {n["id"] for n in package["needs"]}
    assert need_ids <= set(
        Need.objects.filter(deal_id=handoff.deal_id).values_list("pk", flat=True)
    )
    evidence_ids = [
        i
        for f in Flag.objects.filter(deal__external_id__gte=f"demo:{SEED}:d{TEMPLATE:07d}")
        for i in f.evidence.get("activity_ids", [])
    ]
    assert evidence_ids
    assert set(
        Activity.objects.filter(pk__in=evidence_ids).values_list("deal__external_id", flat=True)
    ) <= set(
        Deal.objects.filter(external_id__gte=f"demo:{SEED}:d{TEMPLATE:07d}").values_list(
            "external_id", flat=True
        )
    )


def test_new_rows_after_the_copies_get_fresh_ids(copied_demo):
    deal = _generated(5 + TEMPLATE)
    handoff = Handoff.objects.filter(deal__external_id__startswith=f"demo:{SEED}:d").first()
    check_in = CheckIn.objects.create(
        handoff=handoff, day_offset=999, due_date=deal.created_at.date()
    )
    assert check_in.pk > CheckIn.objects.exclude(pk=check_in.pk).order_by("-pk")[0].pk
    activity = Activity.objects.create(
        deal=deal, kind="call", initiated_by="rep", occurred_at=deal.created_at
    )
    assert activity.pk > Activity.objects.exclude(pk=activity.pk).order_by("-pk")[0].pk


def test_topping_up_a_copied_demo_draws_the_next_deals(copied_demo):
    demo.demo_seed(deals=TOTAL + 3, seed=SEED)
    assert Deal.objects.filter(external_id__startswith=f"demo:{SEED}:d").count() == TOTAL + 3


def test_the_one_pass_rollup_of_a_copied_year_equals_the_day_by_day_rollup(copied_demo):
    import datetime as dt

    from django.utils import timezone

    from deals.dashboard.rollup_sql import rollup_rows_many
    from deals.dashboard.services import _rollup_rows, rollup_window
    from deals.health.history import first_snapshot_day

    def rows(rollups):
        return sorted(
            (r.day, r.team_id, r.owner_id, r.balance, r.open, r.deals, r.net_total) for r in rollups
        )

    first, last = rollup_window(timezone.localdate())
    begin = max(first, first_snapshot_day())
    days = [begin + dt.timedelta(days=i) for i in range((last - begin).days + 1)]
    now = timezone.now()
    by_day = [row for day in days for row in _rollup_rows(day, now)]
    assert sum(r.deals for r in by_day if r.day == last) > TOTAL / 2
    assert rows(rollup_rows_many(days, begin, now)) == rows(by_day)


# The new joiner (deals/demo/world.NEW_JOINER) keeps her ~100 drawn deals however many copies
# are made: a template that holds her whole book, copied once in full and once in part.
BOOK_TEMPLATE = 2 * max(new_joiner_prospects(SEED)) + 2
BOOK_TOTAL = 2 * BOOK_TEMPLATE + 60


@pytest.fixture
def book_copied_demo(monkeypatch):
    monkeypatch.setattr(seed_module, "TEMPLATE_DEALS", BOOK_TEMPLATE)
    monkeypatch.setattr(seed_module, "REPLICATE_FROM", BOOK_TOTAL)
    report = demo.demo_seed(deals=BOOK_TOTAL, seed=SEED)
    assert any(f"copied {BOOK_TOTAL - BOOK_TEMPLATE} deals" in note for note in report.notes)
    return report


def _number(deal: Deal) -> int:
    return int(deal.external_id.rsplit(":d", 1)[1])


def test_the_new_joiner_keeps_about_100_deals_in_a_replicated_demo(book_copied_demo):
    mine = list(Deal.objects.filter(owner__username=NEW_JOINER))
    assert len(mine) == 2 * NEW_JOINER_PROSPECTS  # about 100: within 80-120
    assert 80 <= len(mine) <= 120
    # None of her deals is a copy; every copy of one of hers is her teammate's.
    assert all(_number(d) < BOOK_TEMPLATE for d in mine)
    copies = [
        _generated(n)
        for d in mine
        for n in (_number(d) + BOOK_TEMPLATE, _number(d) + 2 * BOOK_TEMPLATE)
        if n < BOOK_TOTAL
    ]
    assert len(copies) > len(mine)  # the full copy and some of the partial one
    assert {c.owner.username for c in copies} == {NEW_JOINER_TEAMMATE}
    assert {c.team.name for c in copies} == {NEW_JOINER_TEAM}


# The user columns of a deal's own rows (a handoff's are read from the handoff).
DEAL_USER_COLUMNS = [
    (StageHistory, "changed_by_id"),
    (DiscoveryCall, "created_by_id"),
    (Activity, "created_by_id"),
    (Concession, "created_by_id"),
    (Commitment, "owner_id"),
    (Disclosure, "created_by_id"),
    (HealthSnapshot, "owner_id"),
]


def _users_of(deal: Deal) -> list:
    """Every user a deal's rows name (each table's in a fixed order), and its package's owner."""
    rows = [
        [(deal.owner_id, deal.created_by_id)],
        sorted(deal.history.values_list("owner_id", "created_by_id", "history_user_id"), key=str),
    ]
    for model, column in DEAL_USER_COLUMNS:
        rows.append(sorted(model.objects.filter(deal=deal).values_list(column, flat=True), key=str))
    handoff = Handoff.objects.filter(deal=deal).first()
    if handoff is not None:
        rows.append(
            [(handoff.rep_id, handoff.assignee_id, handoff.package.get("deal", {}).get("owner"))]
        )
        for related, column in (
            ("checklist", "checked_by_id"),
            ("events", "actor_id"),
            ("messages", "author_id"),
        ):
            rows.append(sorted(getattr(handoff, related).values_list(column, flat=True), key=str))
    return rows


def test_a_copy_of_a_new_joiner_deal_is_wholly_her_teammate_s(book_copied_demo):
    nora = User.objects.get(username=NEW_JOINER)
    teammate = User.objects.get(username=NEW_JOINER_TEAMMATE)
    # Her won deals with a package (the JSON copied in Python) and those without.
    packaged = Deal.objects.filter(owner=nora, handoff__package__has_key="deal")
    assert packaged.exists()
    template = [packaged.first(), Deal.objects.filter(owner=nora).exclude(stage="closed_won")[0]]

    def as_teammate(value):
        """`value` (user ids, a package's owner) with her turned into her teammate."""
        if isinstance(value, list | tuple):
            return type(value)(as_teammate(v) for v in value)
        if isinstance(value, dict) and value.get("id") == nora.pk:
            return {**value, "id": teammate.pk, "name": str(teammate)}
        return teammate.pk if value == nora.pk else value

    for deal in template:
        copy = _generated(_number(deal) + BOOK_TEMPLATE)
        assert _users_of(copy) == as_teammate(_users_of(deal)), deal.external_id
    # No copied row of any table names her: every row that does is a template row.
    tpl = replicate.Template.find(SEED, BOOK_TEMPLATE)
    named = 0
    with connection.cursor() as cursor:
        for model in replicate.COPIED:
            for f in model._meta.concrete_fields:
                if not replicate._is_user(f):
                    continue
                table, column = model._meta.db_table, f.column
                cursor.execute(f"SELECT count(*) FROM {table} t WHERE t.{column} = %s", [nora.pk])
                (everywhere,) = cursor.fetchone()
                inside = replicate._template_filter(model, BOOK_TEMPLATE, tpl)
                cursor.execute(
                    f"SELECT count(*) FROM {table} t WHERE t.{column} = %s AND {inside}", [nora.pk]
                )
                assert cursor.fetchone() == (everywhere,), f"{table}.{column}"
                named += everywhere
    assert named > 10 * len(template)
