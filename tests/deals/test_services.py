"""Services of the sales side: pricing, stage rules, locking, nested discovery calls."""

import datetime as dt
import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from deals import services
from deals.models import Activity, BuyerMilestone, Deal, DiscoveryCall, Need
from tests import factories as f

D = Decimal


@pytest.fixture
def deal(rep_user, team):
    return f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.PROPOSAL)


def _item(deal, user, **kw):
    data = {
        "name": "Licence",
        "quantity": D("10"),
        "unit_list_price": D("100.00"),
        "unit_price": D("90.00"),
        "unit_cost": D("30.00"),
    }
    data.update(kw)
    return services.line_item_create(deal=deal, user=user, **data)


# --- pricing -------------------------------------------------------------------------------


def test_deal_totals_follow_line_items_and_concessions(deal, rep_user):
    _item(deal, rep_user)
    _item(deal, rep_user, quantity=D("2.5"), unit_list_price=D("40"), unit_price=D("40"),
          unit_cost=D("10"))  # fmt: skip
    services.concession_add(
        deal=deal, user=rep_user, kind="price", description="Launch discount", amount=D("50")
    )
    services.concession_add(
        deal=deal, user=rep_user, kind="value_add", description="Training day",
        amount=D("800"), cost_to_seller=D("120"), in_exchange_for="Case study",
    )  # fmt: skip
    deal.refresh_from_db()
    assert deal.list_total == D("1100.00")  # 10·100 + 2.5·40
    assert deal.net_total == D("950.00")  # 10·90 + 2.5·40 − 50
    assert deal.cost_total == D("445.00")  # 10·30 + 2.5·10 + 120
    assert deal.discount_pct == D("13.64")
    assert deal.margin_pct == D("53.16")


def test_totals_drop_when_an_item_is_deleted_or_changed(deal, rep_user):
    first = _item(deal, rep_user)
    second = _item(deal, rep_user, name="Support", unit_price=D("100"))
    services.line_item_delete(line_item=first, user=rep_user)
    services.line_item_update(line_item=second, user=rep_user, quantity=D("1"))
    deal.refresh_from_db()
    assert (deal.list_total, deal.net_total, deal.cost_total) == (D("100"), D("100"), D("30"))


def test_pricing_refresh_with_nothing_priced_gives_zero_and_no_percentages(deal):
    services.pricing_refresh(deal_id=deal.id)
    deal.refresh_from_db()
    assert deal.list_total == 0 and deal.net_total == 0 and deal.cost_total == 0
    assert deal.discount_pct is None and deal.margin_pct is None


WRITES = {
    "line item": lambda deal, user: _item(deal, user),
    "disclosure": lambda deal, user: services.disclosure_add(
        deal=deal, user=user, kind="risk", description="Beta API"
    ),
    "deal update": lambda deal, user: services.deal_update(deal=deal, user=user, title="X"),
    "milestone": lambda deal, user: services.milestone_create(deal=deal, user=user, title="Pilot"),
    "commitment": lambda deal, user: services.commitment_add(
        deal=deal, user=user, description="Training"
    ),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_write_queues_one_health_recompute(
    deal, rep_user, django_capture_on_commit_callbacks, write
):
    with (
        mock.patch("deals.tasks.health_recompute_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        write(deal, rep_user)
        write(deal, rep_user)  # two writes in one transaction: still one recompute
    assert [c.args for c in delay.call_args_list] == [(deal.id,)]


@pytest.mark.parametrize(
    "field,value",
    [("quantity", D("0")), ("quantity", D("-1")), ("unit_price", D("-0.01")),
     ("unit_list_price", D("-5")), ("unit_cost", D("-1"))],
)  # fmt: skip
def test_line_item_rejects_non_positive_quantity_and_negative_money(deal, rep_user, field, value):
    with pytest.raises(ValidationError) as exc:
        _item(deal, rep_user, **{field: value})
    assert field in exc.value.message_dict
    assert not deal.line_items.exists()


def test_line_item_cannot_serve_a_need_of_another_prospect(deal, rep_user):
    own = f.NeedFactory(deal=deal)
    foreign = f.NeedFactory()
    with pytest.raises(ValidationError) as exc:
        _item(deal, rep_user, need_ids=[own.id, foreign.id])
    assert exc.value.message_dict["needs"] == [
        f"Need {foreign.id} is not a need of this deal's prospect."
    ]
    item = _item(deal, rep_user, need_ids=[own.id])
    assert list(item.needs.values_list("id", flat=True)) == [own.id]


# --- stage rules ---------------------------------------------------------------------------


def test_closing_lost_needs_a_reason(deal, rep_user):
    with pytest.raises(ValidationError) as exc:
        services.deal_change_stage(deal=deal, user=rep_user, stage="closed_lost", lost_reason=" ")
    assert "lost_reason" in exc.value.message_dict
    deal.refresh_from_db()
    assert deal.stage == "proposal" and deal.version == 1

    services.deal_change_stage(
        deal=deal, user=rep_user, stage="closed_lost", lost_reason="Chose a cheaper tool"
    )
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason, deal.version) == (
        "closed_lost",
        "Chose a cheaper tool",
        2,
    )
    assert deal.closed_at is not None


def test_closing_won_needs_a_line_item_and_creates_the_handoff(deal, rep_user):
    with pytest.raises(ValidationError) as exc:
        services.deal_change_stage(deal=deal, user=rep_user, stage="closed_won")
    assert exc.value.message_dict["stage"] == [
        "Add at least one proposal item before closing the deal as won."
    ]
    _item(deal, rep_user)
    with mock.patch("handoff.services.handoff_create_for_deal") as create:
        services.deal_change_stage(
            deal=deal, user=rep_user, stage="closed_won", confirm=True, reason="Signed today"
        )
    create.assert_called_once_with(deal=deal, user=rep_user)
    deal.refresh_from_db()
    assert deal.stage == "closed_won"


def test_a_closed_deal_moves_again_only_through_reopen(deal, rep_user):
    services.deal_change_stage(deal=deal, user=rep_user, stage="closed_lost", lost_reason="Budget")
    with pytest.raises(ValidationError) as exc:
        services.deal_change_stage(deal=deal, user=rep_user, stage="negotiation")
    assert "Reopen it first" in exc.value.message_dict["stage"][0]
    with pytest.raises(ValidationError):
        services.deal_update(deal=deal, user=rep_user, stage="proposal")

    services.deal_reopen(deal=deal, user=rep_user, confirm=True, reason="Buyer is back")
    deal.refresh_from_db()
    assert (deal.stage, deal.closed_at, deal.lost_reason) == ("negotiation", None, "")


def test_reopening_an_open_deal_is_refused(deal, rep_user):
    with pytest.raises(ValidationError):
        services.deal_reopen(deal=deal, user=rep_user)


def test_unknown_stage_is_a_validation_error(deal, rep_user):
    with pytest.raises(ValidationError) as exc:
        services.deal_change_stage(deal=deal, user=rep_user, stage="won-ish")
    assert "stage" in exc.value.message_dict


# --- optimistic locking --------------------------------------------------------------------


def test_stale_version_is_refused_and_changes_nothing(deal, rep_user):
    services.deal_update(deal=deal, user=rep_user, version=1, title="Renamed once")
    stale = Deal.objects.get(pk=deal.pk)
    stale.version = 1  # what a second browser tab still holds
    with pytest.raises(services.DealVersionConflict) as exc:
        services.deal_update(deal=stale, user=rep_user, version=1, title="Overwrite")
    assert exc.value.current_version == 2
    deal.refresh_from_db()
    assert (deal.title, deal.version) == ("Renamed once", 2)


def test_version_grows_by_one_per_successful_update(deal, rep_user):
    for expected in (1, 2, 3):
        services.deal_update(deal=deal, user=rep_user, version=expected, title=f"v{expected}")
    deal.refresh_from_db()
    assert deal.version == 4
    assert deal.history.count() == 4  # created + three changes


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writers_with_the_same_version_cannot_both_win(transactional_db):
    if connection.vendor == "sqlite":
        pytest.skip("needs a server database with row locks (runs on PostgreSQL in CI)")
    owner = f.rep(f.TeamFactory())
    deal = f.DealFactory(owner=owner, team=owner.teams.first())
    results = []
    barrier = threading.Barrier(2)

    def write(title):
        from django.db import connection as conn

        try:
            barrier.wait()
            copy = Deal.objects.get(pk=deal.pk)
            services.deal_update(deal=copy, user=owner, version=1, title=title)
            results.append("won")
        except services.DealVersionConflict:
            results.append("conflict")
        finally:
            conn.close()

    threads = [threading.Thread(target=write, args=(t,)) for t in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "won"]
    assert Deal.objects.get(pk=deal.pk).version == 2


# --- permissions ---------------------------------------------------------------------------


def test_only_the_owner_may_change_a_deal(deal, other_rep, manager_user):
    for user in (other_rep, manager_user):
        with pytest.raises(PermissionDenied):
            services.deal_update(deal=deal, user=user, title="Mine now")
        with pytest.raises(PermissionDenied):
            services.activity_log(
                deal=deal, user=user, kind="call", initiated_by="rep", occurred_at=timezone.now()
            )
    deal.refresh_from_db()
    assert deal.title != "Mine now" and not deal.activities.exists()


def test_deal_create_owner_is_the_rep_and_team_is_the_prospects(rep_user, team):
    prospect = f.ProspectFactory(team=team)
    deal = services.deal_create(user=rep_user, prospect=prospect, title="Pilot")
    assert (deal.owner, deal.team, deal.stage, deal.version) == (rep_user, team, "discovery", 1)


def test_deal_create_for_another_teams_prospect_is_refused(rep_user, other_team):
    prospect = f.ProspectFactory(team=other_team)
    with pytest.raises(ValidationError) as exc:
        services.deal_create(user=rep_user, prospect=prospect, title="Poach")
    assert "prospect" in exc.value.message_dict


def test_delivery_may_close_a_commitment_only_after_acceptance(deal, rep_user, delivery_user,
                                                               delivery_team):  # fmt: skip
    commitment = services.commitment_add(deal=deal, user=rep_user, description="Data migration")
    handoff = f.HandoffFactory(deal=deal, delivery_team=delivery_team, status="claimed")
    Deal.objects.filter(pk=deal.pk).update(stage="closed_won")
    commitment.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.commitment_set_status(commitment=commitment, user=delivery_user, status="done")
    handoff.status = "accepted"
    handoff.save()
    commitment = type(commitment).objects.select_related("deal__handoff").get(pk=commitment.pk)
    services.commitment_set_status(commitment=commitment, user=delivery_user, status="done")
    commitment.refresh_from_db()
    assert commitment.status == "done" and commitment.completed_at is not None


# --- activities ----------------------------------------------------------------------------


def test_buyer_activity_moves_last_buyer_contact_and_rep_activity_does_not(deal, rep_user):
    now = timezone.now()
    services.activity_log(
        deal=deal, user=rep_user, kind="email", initiated_by="buyer",
        occurred_at=now - dt.timedelta(days=3),
    )  # fmt: skip
    services.activity_log(
        deal=deal, user=rep_user, kind="call", initiated_by="rep", occurred_at=now
    )
    deal.refresh_from_db()
    assert deal.last_buyer_contact_at == now - dt.timedelta(days=3)
    latest = services.activity_log(
        deal=deal, user=rep_user, kind="meeting", initiated_by="buyer",
        occurred_at=now - dt.timedelta(hours=1),
    )  # fmt: skip
    deal.refresh_from_db()
    assert deal.last_buyer_contact_at == now - dt.timedelta(hours=1)
    services.activity_delete(activity=latest, user=rep_user)
    deal.refresh_from_db()
    assert deal.last_buyer_contact_at == now - dt.timedelta(days=3)


def test_unknown_activity_kind_is_a_validation_error(deal, rep_user):
    with pytest.raises(ValidationError) as exc:
        services.activity_log(
            deal=deal, user=rep_user, kind="carrier_pigeon", initiated_by="rep",
            occurred_at=timezone.now(),
        )  # fmt: skip
    assert "kind" in exc.value.message_dict
    assert not Activity.objects.exists()


# --- discovery calls -----------------------------------------------------------------------


def test_discovery_call_creates_its_needs_and_milestones_together(deal, rep_user):
    contact = f.ContactFactory(prospect=deal.prospect)
    call = services.discovery_call_create(
        deal=deal, user=rep_user, held_at=timezone.now(), summary="Intro",
        attendee_ids=[contact.id],
        needs=[
            {"kind": "problem", "statement": "Slow onboarding", "importance": 5},
            {"kind": "goal", "statement": "Self-serve", "importance": 3,
             "confirmed_by_buyer": True},
        ],
        milestones=[{"title": "Security review", "required_for_decision": True}],
    )  # fmt: skip
    assert list(call.attendees.all()) == [contact]
    assert sorted(call.needs.values_list("statement", "prospect_id")) == [
        ("Self-serve", deal.prospect_id), ("Slow onboarding", deal.prospect_id)
    ]  # fmt: skip
    assert list(call.milestones.values_list("title", "deal_id")) == [("Security review", deal.id)]


def test_discovery_call_with_one_bad_need_writes_nothing(deal, rep_user):
    with pytest.raises(ValidationError) as exc:
        services.discovery_call_create(
            deal=deal, user=rep_user, held_at=timezone.now(),
            needs=[
                {"kind": "problem", "statement": "Slow onboarding", "importance": 5},
                {"kind": "problem", "statement": "Too important", "importance": 9},
            ],
            milestones=[{"title": "Legal review", "side": "nobody"}],
        )  # fmt: skip
    errors = exc.value.message_dict
    assert set(errors) == {"needs[1].importance", "milestones[0].side"}
    assert not DiscoveryCall.objects.exists()
    assert not Need.objects.exists()
    assert not BuyerMilestone.objects.exists()


def test_discovery_call_attendee_of_another_prospect_is_refused(deal, rep_user):
    stranger = f.ContactFactory()
    with pytest.raises(ValidationError) as exc:
        services.discovery_call_create(
            deal=deal, user=rep_user, held_at=timezone.now(), attendee_ids=[stranger.id]
        )
    assert "attendee_ids" in exc.value.message_dict
    assert not DiscoveryCall.objects.exists()


def test_milestone_completion_sets_and_clears_the_date(deal, rep_user):
    milestone = services.milestone_create(deal=deal, user=rep_user, title="Pilot sign-off")
    services.milestone_set_completed(milestone=milestone, user=rep_user, completed=True)
    assert milestone.completed_at is not None
    services.milestone_set_completed(milestone=milestone, user=rep_user, completed=False)
    milestone.refresh_from_db()
    assert milestone.completed_at is None


def test_history_records_who_changed_the_deal(deal, rep_user):
    services.deal_update(deal=deal, user=rep_user, title="New title")
    latest = deal.history.first()
    assert (latest.history_user, latest.title, latest.history_type) == (rep_user, "New title", "~")


def test_a_line_item_that_would_overflow_the_deal_total_is_refused_and_nothing_changes(db):
    from decimal import Decimal

    from django.core.exceptions import ValidationError as DjangoValidationError

    from deals import services
    from deals.models import Deal, LineItem
    from tests import factories

    deal = factories.DealFactory()
    item = services.line_item_create(
        deal=deal,
        user=deal.owner,
        name="Licence",
        quantity=Decimal("2"),
        unit_list_price=Decimal("100"),
        unit_price=Decimal("100"),
    )
    with pytest.raises(DjangoValidationError, match="larger than"):
        services.line_item_update(
            line_item=item,
            user=deal.owner,
            quantity=Decimal("9999999999"),
            unit_list_price=Decimal("999999999999"),
        )
    item.refresh_from_db()
    assert item.quantity == Decimal("2")
    assert Deal.objects.get(pk=deal.pk).list_total == Decimal("200.00")
    assert LineItem.objects.filter(deal=deal).count() == 1
