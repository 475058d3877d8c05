"""A small world for captured mail: Northwind sells to Acme.

Fixture files (tests/mail/fixtures/) are written for these addresses: rita@ and
sam@northwind.example are reps, victor@northwind.example is a senior seller, and
ann.lee@ and bob@acme.example are Acme's contacts.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest

from deals.models import Deal
from tests import factories as f

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class World:
    team: object
    rita: object
    sam: object
    victor: object
    acme: object
    ann: object
    bob: object
    deal: object  # Rita's open deal with Acme


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.MAIL_DROP_DOMAIN = "mail.winwin.test"
    settings.MAIL_DROP_ALLOWED_DOMAINS = ["northwind.example"]
    settings.MAIL_DROP_SECRET = "test-mail-secret"
    settings.MAIL_WEBHOOK_SECRET = "test-webhook-secret"
    settings.MAIL_DROP_AUTH_REQUIRE_TLS = False


@pytest.fixture
def world(db) -> World:
    team = f.TeamFactory(name="Northwind sales")
    rita = f.rep(team, username="rita", email="rita@northwind.example")
    sam = f.rep(team, username="sam", email="sam@northwind.example")
    victor = f.rep(team, username="victor", email="victor@northwind.example", senior=True)
    acme = f.ProspectFactory(name="Acme", team=team, website="https://www.acme.example/")
    ann = f.ContactFactory(prospect=acme, name="Ann Lee", email="ann.lee@acme.example")
    bob = f.ContactFactory(prospect=acme, name="Bob Kowalski", email="bob@acme.example")
    deal = f.DealFactory(
        team=team, prospect=acme, owner=rita, title="Acme analytics", stage=Deal.Stage.PROPOSAL
    )
    return World(team, rita, sam, victor, acme, ann, bob, deal)
