"""One fixture world for the security tests: team A's deals with every child object, and
the outsiders who must not reach them.

Everything team A owns carries MARKER in its text, so a list endpoint that leaks it is
caught even when it does not show ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from knox.models import AuthToken

from deals import models as m
from handoff import models as hm
from handoff.services import handoff_create_for_deal
from tests import factories as f

MARKER = "ZQXSECRETA"

# The outsiders of the matrix: who they are relative to team A's deals.
OUTSIDER_ROLES = ("rep_other_team", "rep_same_team", "manager_other_team", "delivery_other_team")
ROLES = OUTSIDER_ROLES + ("anonymous",)


@dataclass
class World:
    users: dict = field(default_factory=dict)
    objs: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["objs"][name]
        except KeyError:
            raise AttributeError(name) from None


def build_world() -> World:
    w = World()
    team_a = f.TeamFactory(name="Alpha sales")
    team_b = f.TeamFactory(name="Beta sales")
    delivery_a = f.DeliveryTeamFactory(name="Alpha delivery")
    delivery_b = f.DeliveryTeamFactory(name="Beta delivery")
    team_a.default_delivery_team = delivery_a
    team_a.save(update_fields=["default_delivery_team"])
    team_b.default_delivery_team = delivery_b
    team_b.save(update_fields=["default_delivery_team"])

    w.users = {
        "owner": f.rep(team_a, username="rita_rep"),
        "rep_same_team": f.rep(team_a, username="oscar_rep"),
        "manager": f.manager(team_a, username="mona_manager"),
        "delivery": f.delivery(delivery_a, username="dana_delivery"),
        "rep_other_team": f.rep(team_b, username="bob_rep"),
        "manager_other_team": f.manager(team_b, username="mike_manager"),
        "delivery_other_team": f.delivery(delivery_b, username="dora_delivery"),
        "admin": f.UserFactory(username="ada_admin", is_superuser=True, is_staff=True),
    }
    owner = w.users["owner"]
    o = w.objs
    # The owner's API token: outsiders can neither list nor revoke it.
    o["owner_token_key"] = AuthToken.objects.create(user=owner)[1][:15]
    o["team_a"], o["team_b"], o["delivery_team_a"] = team_a, team_b, delivery_a

    o["prospect"] = f.ProspectFactory(team=team_a, name=f"{MARKER} Prospect")
    o["contact"] = f.ContactFactory(prospect=o["prospect"], name=f"{MARKER} Contact")

    deal = f.DealFactory(
        team=team_a, prospect=o["prospect"], owner=owner, title=f"{MARKER} open deal"
    )
    o["deal"] = deal
    o["discovery_call"] = f.DiscoveryCallFactory(deal=deal, summary=f"{MARKER} call")
    o["discovery_call"].attendees.add(o["contact"])
    o["need"] = f.NeedFactory(deal=deal, statement=f"{MARKER} need", importance=5)
    o["line_item"] = f.LineItemFactory(deal=deal, name=f"{MARKER} item", needs=[o["need"]])
    o["milestone"] = f.BuyerMilestoneFactory(deal=deal, title=f"{MARKER} milestone")
    o["activity"] = f.ActivityFactory(deal=deal, notes=f"{MARKER} activity")
    # Captured mail (deals/mail/): one logged on the deal, one waiting in the inbox.
    o["mail_activity"] = f.ActivityFactory(
        deal=deal, kind="email", source="email", message_id="<w@a>", notes=f"{MARKER} mail"
    )
    o["captured_mail"] = m.CapturedMail.objects.create(
        user=owner, activity=o["mail_activity"], status="assigned", channel="api",
        message_id="<w@a>", subject=f"{MARKER} mail", text=f"{MARKER} mail",
        sent_at=timezone.now(),
    )  # fmt: skip
    o["inbox_mail"] = m.CapturedMail.objects.create(
        user=owner, status="inbox", channel="api", message_id="<w@b>",
        subject=f"{MARKER} inbox", text=f"{MARKER} inbox", sent_at=timezone.now(),
    )  # fmt: skip
    o["concession"] = f.ConcessionFactory(deal=deal, description=f"{MARKER} concession")
    o["commitment"] = f.CommitmentFactory(deal=deal, description=f"{MARKER} commitment")
    o["disclosure"] = f.DisclosureFactory(deal=deal, description=f"{MARKER} disclosure")
    o["flag"] = f.FlagFactory(deal=deal, code="PRESSURE_CHASING", message=f"{MARKER} flag")

    won = f.DealFactory(
        team=team_a,
        prospect=o["prospect"],
        owner=owner,
        title=f"{MARKER} won deal",
        stage=m.Deal.Stage.CLOSED_WON,
        closed_at=timezone.now() - dt.timedelta(days=40),
    )
    o["won_deal"] = won
    o["won_commitment"] = f.CommitmentFactory(deal=won, description=f"{MARKER} won commitment")
    o["won_flag"] = f.FlagFactory(deal=won, code="HANDOFF_OVERDUE", message=f"{MARKER} won flag")
    handoff = handoff_create_for_deal(deal=won, user=owner)
    now = timezone.now()
    hm.Handoff.objects.filter(pk=handoff.pk).update(
        status=hm.Handoff.Status.ACCEPTED,
        assignee=w.users["delivery"],
        submitted_at=now - dt.timedelta(days=35),
        claimed_at=now - dt.timedelta(days=34),
        accepted_at=now - dt.timedelta(days=33),
        notes_for_delivery=f"{MARKER} notes",
    )
    handoff.refresh_from_db()
    o["handoff"] = handoff
    o["checklist_item"] = handoff.checklist.first()
    o["check_in"] = hm.CheckIn.objects.create(
        handoff=handoff, day_offset=30, due_date=timezone.localdate() - dt.timedelta(days=3)
    )
    hm.HandoffMessage.objects.create(
        handoff=handoff, kind="question", author=w.users["delivery"], body=f"{MARKER} question"
    )

    # The owner's own notification: nobody else may open or mark it.
    from winwin_crm.notifications.models import Notification

    o["notification"] = Notification.objects.create(
        recipient=owner, kind="flag_raised", title=f"{MARKER} notification", url="/deals/"
    )

    o["import_job"] = m.ImportJob.objects.create(
        kind=m.ImportJob.Kind.PROSPECTS,
        team=team_a,
        created_by=w.users["manager"],
        file_name=f"{MARKER}.csv",
        content=f"name,industry\n{MARKER} Imported,Software\n",
        column_mapping={"name": "name", "industry": "industry"},
        total_rows=1,
        status=m.ImportJob.Status.VALIDATED,
        report={"rows": 1, "valid": 1, "errors": []},
    )
    o["policy"] = m.HealthPolicy.objects.create(team=team_a, discount_max_pct=Decimal("10"))
    from deals.buyer_room.services import buyer_share_create

    o["buyer_share"], _token = buyer_share_create(
        deal=o["deal"], contact=o["contact"], user=o["deal"].owner, send_email=False
    )
    return w
