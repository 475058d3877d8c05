"""factory_boy factories for every model; build realistic, valid objects by default."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from deals import models as m
from handoff import models as hm
from winwin_crm.accounts.models import Team, User
from winwin_crm.accounts.roles import DELIVERY, MANAGER, REP

PASSWORD = "s3cret-pass-123"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Sales team {n}")
    kind = Team.Kind.SALES


class DeliveryTeamFactory(TeamFactory):
    name = factory.Sequence(lambda n: f"Delivery team {n}")
    kind = Team.Kind.DELIVERY


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()

    @classmethod
    def with_role(cls, role: str, team: Team | None = None, **kwargs) -> User:
        user = cls(**kwargs)
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        if team is not None:
            team.members.add(user)
            if role == MANAGER and team.manager_id is None:
                team.manager = user
                team.save(update_fields=["manager"])
        return user


def rep(team=None, **kwargs):
    return UserFactory.with_role(REP, team or TeamFactory(), **kwargs)


def manager(team=None, **kwargs):
    return UserFactory.with_role(MANAGER, team or TeamFactory(), **kwargs)


def delivery(team=None, **kwargs):
    return UserFactory.with_role(DELIVERY, team or DeliveryTeamFactory(), **kwargs)


class ProspectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Prospect

    name = factory.Faker("company")
    team = factory.SubFactory(TeamFactory)
    industry = "Software"
    size = m.Prospect.Size.MEDIUM


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Contact

    prospect = factory.SubFactory(ProspectFactory)
    name = factory.Faker("name")
    title = "Head of Operations"
    email = factory.Sequence(lambda n: f"contact{n}@buyer.example.com")
    buying_role = m.Contact.BuyingRole.CHAMPION


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Deal

    team = factory.SubFactory(TeamFactory)
    prospect = factory.SubFactory(ProspectFactory, team=factory.SelfAttribute("..team"))
    owner = factory.LazyAttribute(lambda d: rep(d.team))
    title = factory.Sequence(lambda n: f"Deal {n}")
    stage = m.Deal.Stage.DISCOVERY
    currency = "USD"
    expected_close_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=45))


class DiscoveryCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.DiscoveryCall

    deal = factory.SubFactory(DealFactory)
    held_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=10))
    summary = "Walked through their onboarding process."
    next_step = "They will share the security questionnaire."


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Need

    deal = factory.SubFactory(DealFactory)
    prospect = factory.LazyAttribute(lambda n: n.deal.prospect if n.deal else ProspectFactory())
    kind = m.Need.Kind.PROBLEM
    statement = "Onboarding new customers takes three weeks."
    importance = 4
    confirmed_by_buyer = True


class LineItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.LineItem
        skip_postgeneration_save = True

    deal = factory.SubFactory(DealFactory)
    name = "Platform licence"
    quantity = Decimal("10")
    unit_list_price = Decimal("100.00")
    unit_price = Decimal("100.00")
    unit_cost = Decimal("40.00")

    @factory.post_generation
    def needs(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.needs.set(extracted)


class BuyerMilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.BuyerMilestone

    deal = factory.SubFactory(DealFactory)
    title = "Security review"
    side = m.BuyerMilestone.Side.BUYER
    required_for_decision = True
    due_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=14))


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Activity

    deal = factory.SubFactory(DealFactory)
    kind = m.Activity.Kind.CALL
    initiated_by = m.Activity.InitiatedBy.REP
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    notes = "Follow-up call."


class ConcessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Concession

    deal = factory.SubFactory(DealFactory)
    kind = m.Concession.Kind.VALUE_ADD
    description = "6 extra months of support"
    amount = Decimal("3000.00")
    cost_to_seller = Decimal("600.00")
    in_exchange_for = "Two-year term"


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Commitment

    deal = factory.SubFactory(DealFactory)
    description = "Migrate their historical data"
    due_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))


class DisclosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Disclosure

    deal = factory.SubFactory(DealFactory)
    kind = m.Disclosure.Kind.LIMITATION
    description = "No on-premise deployment."
    disclosed_at = factory.LazyFunction(timezone.now)


class FlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Flag

    deal = factory.SubFactory(DealFactory)
    code = "PRESSURE_CHASING"
    side = m.Side.RELATIONSHIP
    severity = m.Severity.WARNING
    message = "Four follow-ups in a week with no reply."
    evidence = factory.LazyFunction(dict)
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)


class HandoffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = hm.Handoff

    deal = factory.SubFactory(DealFactory, stage=m.Deal.Stage.CLOSED_WON)
    delivery_team = factory.SubFactory(DeliveryTeamFactory)
    rep = factory.LazyAttribute(lambda h: h.deal.owner)
    status = hm.Handoff.Status.DRAFT
