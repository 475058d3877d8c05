"""Every URL of the project, tried by everyone who must not reach team A's objects.

MATRIX says, for each URL name, how to build its kwargs from the fixture world, which
methods to try and with what payload. Outsiders get 404 (or 403) from object URLs and
never see team A's objects in lists; anonymous users get 401/403 from the API and a
redirect to the login page from pages; nothing changes in the database either way.
A URL pattern with no entry fails `test_every_url_pattern_has_a_matrix_entry`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from deals import models as m
from deals.buyer_room.models import BuyerRoomEvent, BuyerShare
from handoff import models as hm
from tests.security.world import MARKER, OUTSIDER_ROLES, ROLES, World, build_world

# Not object or team data: covered by tests/foundation (auth, schema, health check).
SKIPPED_PREFIXES = ("admin/", "static/", "api/schema/", "api/docs/")
SKIPPED_NAMES = {"healthz", "login", "logout", "api-token"}
# The buyer's own pages: no account, the link's token is the credential; bad, expired,
# revoked and other deals' tokens and ids are tested in tests/buyer_room/test_security.py.
SKIPPED_NAMES |= {
    f"buyer_room:{name}"
    for name in (
        "room",
        "need_add",
        "need_confirm",
        "need_change",
        "milestone_tick",
        "milestone_date",
        "question",
        "pulse",
        "check_in",
    )
}

OBJECT = "object"  # the URL names one of team A's objects: outsiders get 404/403
LIST = "list"  # no object in the URL: outsiders may get 200, but never team A's data
ALL = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


def _now() -> str:
    return timezone.now().isoformat()


def _pk(name: str) -> Callable[[World], dict]:
    return lambda w: {"pk": w.objs[name].pk}


def _none(w: World) -> dict:
    return {}


@dataclass(frozen=True)
class Entry:
    kwargs: Callable[[World], dict]
    methods: tuple[str, ...]
    kind: str = OBJECT
    payload: Callable[[World], dict] = field(default=lambda w: {})
    # outsider role -> methods that are legitimate for them (team-shared prospects etc.)
    exempt: dict = field(default_factory=dict)
    # who may GET an OBJECT entry: proves the kwargs point at a real, reachable object
    insider: str = "owner"


# Prospects and contacts belong to the sales team: every rep of it reads them and may add a
# prospect, but only a rep with an open deal at a prospect changes it and its contacts.
TEAM_SHARED_READ = {"rep_same_team": frozenset({"GET"})}
TEAM_SHARED_ADD = {"rep_same_team": frozenset({"GET", "POST"})}


def _deal_child(
    resource: str, obj: str, payload, detail_methods=("GET", "PUT", "PATCH", "DELETE")
) -> dict[str, Entry]:
    """The list + detail pair of a child resource of team A's open deal."""
    return {
        f"{resource}-list": Entry(_none, ("GET", "POST"), LIST, payload),
        f"{resource}-detail": Entry(_pk(obj), detail_methods, payload=payload),
    }


def _deal_page(url_kwargs, methods=("POST",), payload=lambda w: {}, deal="deal") -> Entry:
    def kwargs(w):
        return {"pk": w.objs[deal].pk, **{k: w.objs[v].pk for k, v in url_kwargs.items()}}

    return Entry(kwargs, methods, payload=payload)


def _handoff_page(methods=("POST",), payload=lambda w: {}, **url_kwargs) -> Entry:
    def kwargs(w):
        return {"pk": w.handoff.pk, **{k: w.objs[v].pk for k, v in url_kwargs.items()}}

    return Entry(kwargs, methods, payload=payload, insider="delivery")


MATRIX: dict[str, Entry] = {
    # --- API: sales resources --------------------------------------------------------
    "prospect-list": Entry(
        _none,
        ("GET", "POST"),
        LIST,
        lambda w: {"name": "Hijacked", "team": w.team_a.pk},
        exempt=TEAM_SHARED_ADD,
    ),
    "prospect-detail": Entry(
        _pk("prospect"),
        ("GET", "PUT", "PATCH"),
        payload=lambda w: {"name": "Hijacked"},
        exempt=TEAM_SHARED_READ,
    ),
    "contact-list": Entry(
        _none,
        ("GET", "POST"),
        LIST,
        lambda w: {"prospect": w.prospect.pk, "name": "Hijacked", "buying_role": "champion"},
        exempt=TEAM_SHARED_READ,
    ),
    "contact-detail": Entry(
        _pk("contact"),
        ("GET", "PUT", "PATCH", "DELETE"),
        payload=lambda w: {"prospect": w.prospect.pk, "name": "Hijacked"},
        exempt=TEAM_SHARED_READ,
    ),
    # --- API: tokens (each user's own; team A's owner's token is the object) ------------
    "api-tokens": Entry(_none, ("GET",), LIST),
    "api-token-revoke": Entry(lambda w: {"token_key": w.objs["owner_token_key"]}, ("DELETE",)),
    "api-logout-all": Entry(_none, ("POST",), LIST),
    **_deal_child(
        "need",
        "need",
        lambda w: {
            "deal": w.deal.pk,
            "prospect": w.prospect.pk,
            "kind": "goal",
            "statement": "Hijacked",
            "importance": 3,
        },
    ),
    **_deal_child(
        "discovery-call",
        "discovery_call",
        lambda w: {"deal": w.deal.pk, "held_at": _now(), "summary": "Hijacked"},
    ),
    "deal-list": Entry(
        _none,
        ("GET", "POST"),
        LIST,
        lambda w: {"prospect": w.prospect.pk, "title": "Hijacked"},
        # A team member may open a deal on the team's prospect (their own deal).
        exempt={"rep_same_team": frozenset({"POST"})},
    ),
    "deal-detail": Entry(
        _pk("deal"),
        ("GET", "PUT", "PATCH"),
        payload=lambda w: {"prospect": w.prospect.pk, "title": "Hijacked", "version": 1},
    ),
    "deal-history": Entry(_pk("deal"), ("GET",)),
    "deal-reopen": Entry(_pk("won_deal"), ("POST",), payload=lambda w: {"stage": "proposal"}),
    "deal-stage": Entry(
        _pk("deal"), ("POST",), payload=lambda w: {"stage": "qualification", "version": 1}
    ),
    **_deal_child(
        "line-item",
        "line_item",
        lambda w: {
            "deal": w.deal.pk,
            "name": "Hijacked",
            "quantity": "1",
            "unit_list_price": "1.00",
            "unit_price": "1.00",
        },
    ),
    **_deal_child(
        "milestone",
        "milestone",
        lambda w: {"deal": w.deal.pk, "title": "Hijacked", "side": "buyer"},
    ),
    **_deal_child(
        "activity",
        "activity",
        lambda w: {
            "deal": w.deal.pk,
            "kind": "call",
            "initiated_by": "rep",
            "occurred_at": _now(),
            "notes": "Hijacked",
        },
    ),
    **_deal_child(
        "concession",
        "concession",
        lambda w: {"deal": w.deal.pk, "kind": "price", "description": "Hijacked", "amount": "1"},
    ),
    **_deal_child(
        "commitment",
        "commitment",
        lambda w: {"deal": w.deal.pk, "description": "Hijacked", "status": "done"},
        ("GET", "PUT", "PATCH"),  # commitments are never deleted: they travel into handoffs
    ),
    **_deal_child(
        "disclosure",
        "disclosure",
        lambda w: {"deal": w.deal.pk, "kind": "risk", "description": "Hijacked"},
    ),
    # --- API: health -----------------------------------------------------------------
    "deal-health": Entry(_pk("deal"), ("GET",)),
    "deal-health-recompute": Entry(_pk("deal"), ("POST",)),
    "flag-list": Entry(_none, ("GET",), LIST),
    "flag-detail": Entry(_pk("flag"), ("GET",)),
    "flag-acknowledge": Entry(_pk("flag"), ("POST",), payload=lambda w: {"note": "Hijacked"}),
    "health-policy-list": Entry(
        _none, ("GET", "POST"), LIST, lambda w: {"team": w.team_a.pk, "discount_max_pct": "50"}
    ),
    "health-policy-detail": Entry(
        _pk("policy"),
        ("GET", "PUT", "PATCH"),
        payload=lambda w: {"team": w.team_a.pk, "discount_max_pct": "50"},
        insider="manager",
    ),
    # --- API: dashboard and exports (aggregates: must not count team A) ---------------
    "dashboard-balance": Entry(_none, ("GET",), LIST),
    "dashboard-quadrant": Entry(_none, ("GET",), LIST),
    "dashboard-trends": Entry(_none, ("GET",), LIST),
    "dashboard-reps": Entry(_none, ("GET",), LIST),
    "dashboard-outcomes": Entry(_none, ("GET",), LIST),
    "dashboard-calibration": Entry(_none, ("GET",), LIST),
    "dashboard-forecast": Entry(_none, ("GET",), LIST),
    "dashboard-export": Entry(_none, ("GET",), LIST),
    "export-deals": Entry(_none, ("GET",), LIST),
    "export-prospects": Entry(_none, ("GET",), LIST, exempt=TEAM_SHARED_READ),
    "export-contacts": Entry(_none, ("GET",), LIST, exempt=TEAM_SHARED_READ),
    # --- API: imports (managers of the team and admins only) ---------------------------
    "import-list": Entry(
        _none,
        ("GET", "POST"),
        LIST,
        lambda w: {
            "kind": "prospects",
            "team": w.team_a.pk,
            "file_name": "x.csv",
            "content": "name\nHijacked\n",
        },
    ),
    "import-detail": Entry(_pk("import_job"), ("GET",), insider="manager"),
    "import-validate": Entry(_pk("import_job"), ("POST",), insider="manager"),
    "import-commit": Entry(_pk("import_job"), ("POST",), insider="manager"),
    # --- API: handoff ------------------------------------------------------------------
    "handoff-list": Entry(_none, ("GET",), LIST),
    "handoff-detail": Entry(_pk("handoff"), ("GET",), insider="delivery"),
    "handoff-submit": Entry(_pk("handoff"), ("POST",)),
    "handoff-claim": Entry(_pk("handoff"), ("POST",)),
    "handoff-ask": Entry(_pk("handoff"), ("POST",), payload=lambda w: {"question": "Hijacked"}),
    "handoff-answer": Entry(_pk("handoff"), ("POST",), payload=lambda w: {"answer": "Hijacked"}),
    "handoff-accept": Entry(_pk("handoff"), ("POST",)),
    "handoff-commitment-status": Entry(
        _pk("handoff"),
        ("POST",),
        payload=lambda w: {"commitment": w.won_commitment.pk, "status": "done"},
    ),
    "handoff-checklist-item-list": Entry(_none, ("GET",), LIST),
    "handoff-checklist-item-detail": Entry(
        _pk("checklist_item"), ("GET", "PATCH"), payload=lambda w: {"checked": True}
    ),
    "check-in-list": Entry(_none, ("GET",), LIST),
    "check-in-detail": Entry(
        _pk("check_in"),
        ("GET", "PATCH"),
        payload=lambda w: {"customer_value": 1, "account_health": "churned"},
        insider="delivery",
    ),
    # --- pages -------------------------------------------------------------------------
    "home": Entry(_none, ("GET",), LIST),
    "deals:deal_list": Entry(_none, ("GET",), LIST),
    "deals:deal_create": Entry(
        _none,
        ("GET", "POST"),
        LIST,
        lambda w: {"prospect": w.prospect.pk, "title": "Hijacked", "currency": "USD"},
        # A team member may open a deal on the team's prospects, so the form lists them.
        exempt={"rep_same_team": frozenset({"GET", "POST"})},
    ),
    "deals:deal_detail": _deal_page({}, ("GET",)),
    "deals:discovery_call_create": _deal_page(
        {},
        ("GET", "POST"),
        lambda w: {"held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "summary": "x"},
    ),
    "deals:deal_summary": _deal_page({}, ("GET",)),
    "deals:deal_section": Entry(lambda w: {"pk": w.deal.pk, "section": "needs"}, ("GET",)),
    "deals:deal_edit": _deal_page({}, ("GET", "POST"), lambda w: {"title": "Hijacked"}),
    "deals:deal_stage": _deal_page({}, payload=lambda w: {"stage": "qualification"}),
    "deals:need_add": _deal_page(
        {}, payload=lambda w: {"kind": "goal", "statement": "Hijacked", "importance": 3}
    ),
    "deals:need_edit": _deal_page(
        {"need_id": "need"},
        ("GET", "POST"),
        lambda w: {"kind": "goal", "statement": "Hijacked", "importance": 3},
    ),
    "deals:line_item_add": _deal_page(
        {},
        payload=lambda w: {
            "name": "Hijacked",
            "quantity": "1",
            "unit_list_price": "1",
            "unit_price": "1",
            "unit_cost": "0",
        },
    ),
    "deals:line_item_edit": _deal_page(
        {"item_id": "line_item"},
        ("GET", "POST"),
        lambda w: {"name": "Hijacked", "quantity": "1", "unit_list_price": "1", "unit_price": "1"},
    ),
    "deals:line_item_delete": _deal_page({"item_id": "line_item"}),
    "deals:milestone_add": _deal_page({}, payload=lambda w: {"title": "Hijacked", "side": "buyer"}),
    "deals:milestone_toggle": _deal_page({"milestone_id": "milestone"}),
    "deals:activity_add": _deal_page(
        {},
        payload=lambda w: {
            "kind": "call",
            "initiated_by": "rep",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "notes": "Hijacked",
        },
    ),
    "deals:concession_add": _deal_page(
        {}, payload=lambda w: {"kind": "price", "description": "Hijacked", "amount": "1"}
    ),
    "deals:commitment_add": _deal_page({}, payload=lambda w: {"description": "Hijacked"}),
    "deals:commitment_status": _deal_page(
        {"commitment_id": "commitment"}, payload=lambda w: {"status": "done"}
    ),
    "deals:disclosure_add": _deal_page(
        {}, payload=lambda w: {"kind": "risk", "description": "Hijacked"}
    ),
    "dashboard:index": Entry(_none, ("GET",), LIST),
    "dashboard:flags": Entry(_none, ("GET",), LIST),
    "dashboard:reps": Entry(_none, ("GET",), LIST),
    "dashboard:outcomes": Entry(_none, ("GET",), LIST),
    "dashboard:calibration": Entry(_none, ("GET",), LIST),
    "dashboard:forecast": Entry(_none, ("GET",), LIST),
    "dashboard:flag_bulk_acknowledge": Entry(
        _none, ("POST",), LIST, lambda w: {"flags": [w.flag.pk], "note": "Hijacked"}
    ),
    "dashboard:flag_acknowledge": Entry(
        _pk("flag"), ("POST",), payload=lambda w: {"note": "Hijacked"}, insider="manager"
    ),
    "imports:index": Entry(
        _none,
        ("GET", "POST"),
        LIST,
        lambda w: {"kind": "prospects", "team": w.team_a.pk, "on_error": "abort"},
    ),
    "imports:mapping": Entry(_pk("import_job"), ("GET", "POST"), insider="manager"),
    "imports:report": Entry(_pk("import_job"), ("GET",), insider="manager"),
    "imports:commit": Entry(_pk("import_job"), ("POST",), insider="manager"),
    "imports:progress": Entry(_pk("import_job"), ("GET",), insider="manager"),
    "notifications:inbox": Entry(_none, ("GET",), LIST),
    "notifications:bell": Entry(_none, ("GET",), LIST),
    "notifications:preferences": Entry(_none, ("GET",), LIST),
    "notifications:mark_all_read": Entry(_none, ("POST",), LIST),
    "notifications:open": Entry(_pk("notification"), ("GET",)),
    "notifications:mark_read": Entry(_pk("notification"), ("POST",)),
    # --- captured mail (deals/mail/) ----------------------------------------------------
    "mail-capture": Entry(_none, ("POST",), LIST),
    "mail:inbox": Entry(_none, ("GET",), LIST),
    "mail:activity_mail": Entry(lambda w: {"activity_id": w.objs["mail_activity"].pk}, ("GET",)),
    "mail:activity_mail_delete": Entry(
        lambda w: {"activity_id": w.objs["mail_activity"].pk}, ("POST",)
    ),
    "mail:assign": Entry(
        _pk("inbox_mail"),
        ("POST",),
        payload=lambda w: {f"m{w.objs['inbox_mail'].pk}-deal": w.objs["deal"].pk},
    ),
    "mail:discard": Entry(_pk("inbox_mail"), ("POST",)),
    "mail:upload": _deal_page({}),
    "handoff:queue": Entry(_none, ("GET",), LIST),
    "handoff:detail": _handoff_page(("GET",)),
    "handoff:submit": _handoff_page(),
    "handoff:notes": _handoff_page(payload=lambda w: {"notes_for_delivery": "Hijacked"}),
    "handoff:claim": _handoff_page(),
    "handoff:ask": _handoff_page(payload=lambda w: {"question": "Hijacked"}),
    "handoff:answer": _handoff_page(payload=lambda w: {"answer": "Hijacked"}),
    "handoff:accept": _handoff_page(),
    "handoff:checklist_toggle": _handoff_page(item_id="checklist_item"),
    "handoff:commitment_status": _handoff_page(
        payload=lambda w: {"status": "done"}, commitment_id="won_commitment"
    ),
    # --- the buyer room's staff side ------------------------------------------------------
    "buyer-share-list": Entry(
        _none, ("GET", "POST"), LIST, lambda w: {"deal": w.deal.pk, "contact": w.contact.pk}
    ),
    "buyer-share-detail": Entry(_pk("buyer_share"), ("GET",)),
    "buyer-share-revoke": Entry(_pk("buyer_share"), ("POST",)),
    "buyer-share-resend": Entry(_pk("buyer_share"), ("POST",)),
    "buyer_room:share_create": _deal_page({}, payload=lambda w: {"contact": w.contact.pk}),
    "buyer_room:share_resend": _deal_page({"share_id": "buyer_share"}),
    "buyer_room:share_revoke": _deal_page({"share_id": "buyer_share"}),
    "buyer_room:check_in_send": Entry(
        lambda w: {"check_in_id": w.check_in.pk},
        ("POST",),
        payload=lambda w: {"contact": w.contact.pk},
        insider="delivery",
    ),
    "handoff:check_in_record": _handoff_page(
        payload=lambda w: {"customer_value": 1, "account_health": "churned"},
        check_in_id="check_in",
    ),
}


def project_url_names() -> dict[str, str]:
    """Every named URL pattern of the project (namespace:name -> route), minus the skipped."""
    found: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str | None):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                ns = namespace
                if pattern.namespace:
                    ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, route, ns)
            elif isinstance(pattern, URLPattern):
                if route.startswith(SKIPPED_PREFIXES) or pattern.name in SKIPPED_NAMES:
                    continue
                name = pattern.name or f"<unnamed {route}>"
                full = f"{namespace}:{name}" if namespace else name
                if full in SKIPPED_NAMES:
                    continue
                found[full] = route

    walk(get_resolver().url_patterns, "", None)
    return found


def test_every_url_pattern_has_a_matrix_entry():
    urls = project_url_names()
    missing = sorted(f"{name} ({route})" for name, route in urls.items() if name not in MATRIX)
    assert not missing, (
        "URL patterns without an entry in tests/security/test_permission_matrix.py MATRIX "
        "(say who must not reach them): " + ", ".join(missing)
    )
    stale = sorted(set(MATRIX) - set(urls))
    assert not stale, f"MATRIX entries for URLs that no longer exist: {stale}"


# --- the fixture world, built once for the module ----------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Team A's objects, built once; each test runs in a savepoint rolled back after it."""
    fast_hashing = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), fast_hashing, transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


SNAPSHOT_MODELS = [
    m.Prospect,
    m.Contact,
    m.Deal,
    m.DiscoveryCall,
    m.Need,
    m.LineItem,
    m.BuyerMilestone,
    m.Activity,
    m.Concession,
    m.Commitment,
    m.Disclosure,
    m.Flag,
    m.HealthPolicy,
    m.HealthSnapshot,
    m.ImportJob,
    hm.Handoff,
    hm.HandoffChecklistItem,
    hm.HandoffMessage,
    hm.HandoffEvent,
    hm.CheckIn,
    m.Deal.history.model,
    m.LineItem.history.model,
    m.Prospect.history.model,
    m.Contact.history.model,
    AuthToken,
    BuyerShare,
    BuyerRoomEvent,
]


def database_fingerprint() -> str:
    """A digest of every row an outsider could try to change (raw SQL: this runs twice
    per case, and the ORM's per-query overhead would dominate the module's run time)."""
    digest = hashlib.sha256()
    tables = [model._meta.db_table for model in SNAPSHOT_MODELS]
    tables.append(m.LineItem.needs.through._meta.db_table)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")
            digest.update(table.encode())
            digest.update(repr(cursor.fetchall()).encode())
    return digest.hexdigest()


def client_for(world: World, role: str) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


def send(client: APIClient, url: str, method: str, payload: dict):
    is_api = url.startswith("/api/")
    call = getattr(client, method.lower())
    if method == "GET":
        response = call(url)
    elif is_api:
        response = call(url, payload, format="json")
    else:
        response = call(url, payload)  # a form post, as the browser sends it
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    return response, body.decode("utf-8", "replace")


def forbidden_ids(world: World) -> set[int]:
    names = [
        "deal", "won_deal", "discovery_call", "need", "line_item", "milestone", "activity",
        "concession", "commitment", "won_commitment", "disclosure", "flag", "won_flag",
        "handoff", "checklist_item", "check_in", "import_job", "buyer_share",
    ]  # fmt: skip
    return {world.objs[n].pk for n in names}


def result_ids(data) -> set[int]:
    rows = data.get("results", []) if isinstance(data, dict) else data
    ids = set()
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and isinstance(row.get("id"), int):
            ids.add(row["id"])
    return ids


CASES = [
    pytest.param(name, role, id=f"{name}-{role}")
    for name, entry in MATRIX.items()
    for role in ROLES
    if set(entry.methods) - entry.exempt.get(role, frozenset())
]


@pytest.mark.parametrize("url_name,role", CASES)
def test_outsiders_cannot_reach_team_a_objects(world, db, url_name, role):
    entry = MATRIX[url_name]
    url = reverse(url_name, kwargs=entry.kwargs(world))
    is_api = url.startswith("/api/")
    client = client_for(world, role)
    before = database_fingerprint()
    for method in entry.methods:
        if method in entry.exempt.get(role, frozenset()):
            continue
        cache.clear()  # throttling counts requests; this test is about permissions
        response, body = send(client, url, method, entry.payload(world))
        status = response.status_code
        where = f"{role} {method} {url} -> {status}: {body[:300]}"
        if role == "anonymous":
            if is_api:
                assert status in (401, 403), where
            else:
                assert status == 302, where
                assert response["Location"].startswith("/accounts/login/"), where
        elif entry.kind == OBJECT:
            assert status in (403, 404), where
        else:
            assert status < 500, where
            assert status not in (201, 202), where
            assert MARKER not in body, f"team A's data leaked: {where}"
    assert database_fingerprint() == before, f"something changed: {role} {entry.methods} {url}"


# --- the matrix is not vacuous: insiders reach every object it names ---------------------


OBJECT_GETS = [
    pytest.param(name, id=name)
    for name, entry in MATRIX.items()
    if entry.kind == OBJECT and "GET" in entry.methods
]


@pytest.mark.parametrize("url_name", OBJECT_GETS)
def test_insiders_reach_the_objects_the_matrix_names(world, db, url_name):
    entry = MATRIX[url_name]
    url = reverse(url_name, kwargs=entry.kwargs(world))
    cache.clear()
    response, body = send(client_for(world, entry.insider), url, "GET", {})
    # Opening a notification marks it read and follows its link (a redirect).
    reached = 302 if url_name == "notifications:open" else 200
    assert response.status_code == reached, f"{entry.insider} GET {url}: {body[:300]}"


@pytest.mark.parametrize("role", OUTSIDER_ROLES)
def test_list_endpoints_never_show_team_a_objects(world, db, role):
    """Every list and aggregate, as each outsider: neither the ids nor the text of team A's
    deals and their children appear."""
    client = client_for(world, role)
    ids_by_resource = {
        "prospect-list": {world.prospect.pk},
        "contact-list": {world.contact.pk},
        "deal-list": {world.deal.pk, world.won_deal.pk},
        "need-list": {world.need.pk},
        "discovery-call-list": {world.discovery_call.pk},
        "line-item-list": {world.line_item.pk},
        "milestone-list": {world.milestone.pk},
        "activity-list": {world.activity.pk},
        "concession-list": {world.concession.pk},
        "commitment-list": {world.commitment.pk, world.won_commitment.pk},
        "disclosure-list": {world.disclosure.pk},
        "flag-list": {world.flag.pk, world.won_flag.pk},
        "health-policy-list": {world.policy.pk},
        "import-list": {world.import_job.pk},
        "handoff-list": {world.handoff.pk},
        "handoff-checklist-item-list": {world.checklist_item.pk},
        "check-in-list": {world.check_in.pk},
        "buyer-share-list": {world.buyer_share.pk},
    }
    assert set(ids_by_resource) == {
        n for n, e in MATRIX.items() if e.kind == LIST and n.endswith("-list")
    }
    checked = 0
    for name, ids in ids_by_resource.items():
        if "GET" in MATRIX[name].exempt.get(role, frozenset()) or (
            role == "rep_same_team" and name in ("prospect-list", "contact-list")
        ):
            continue
        cache.clear()
        response = client.get(reverse(name), {"page_size": 500})
        if response.status_code == 403:
            continue
        assert response.status_code == 200, (name, response.status_code)
        assert not result_ids(response.json()) & ids, f"{role} sees team A's {name}"
        assert MARKER not in response.content.decode(), f"{role} sees team A's {name}"
        checked += 1
        # Filtering by team A's deal must not reveal it either.
        response = client.get(reverse(name), {"deal": world.deal.pk})
        if response.status_code == 200:
            assert not result_ids(response.json()) & ids, f"{role} ?deal= on {name}"
    assert checked >= 3, f"{role}: fewer list endpoints answered than expected ({checked})"


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_list_endpoints_show_team_a_objects_to_team_a(world, db, role):
    """The leak check above would pass on empty lists; team A's own people see the rows."""
    client = client_for(world, role)
    for name, pk in [
        ("deal-list", world.deal.pk),
        ("line-item-list", world.line_item.pk),
        ("flag-list", world.flag.pk),
        ("commitment-list", world.commitment.pk),
    ]:
        cache.clear()
        response = client.get(reverse(name), {"page_size": 500})
        assert pk in result_ids(response.json()), (role, name)
