"""Django admin for handoffs: lists load, and an admin can reassign the delivery team."""

import pytest
from django.urls import reverse

from handoff.models import CheckIn, ChecklistTemplateItem, Handoff, HandoffEvent, HandoffMessage

pytestmark = pytest.mark.django_db


def _form_data(response):
    """The change form's current values, inlines included, as POST data."""
    data = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is not None:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for subform in formset.initial_forms:
            for name, field in subform.fields.items():
                value = subform.initial.get(name, field.initial)
                if hasattr(value, "pk"):
                    value = value.pk
                if value is not None and value is not False:
                    data[subform.add_prefix(name)] = value
    return data


def test_an_admin_reassigns_the_delivery_team_in_admin(
    client, admin_user, claimed, outsider_delivery
):
    new_team = outsider_delivery.teams.get()
    client.force_login(admin_user)
    url = reverse("admin:handoff_handoff_change", args=[claimed.pk])
    page = client.get(url)
    assert page.status_code == 200

    data = _form_data(page)
    data["delivery_team"] = new_team.pk
    response = client.post(url, data)

    assert response.status_code == 302
    claimed.refresh_from_db()
    assert claimed.delivery_team == new_team
    assert claimed.status == Handoff.Status.SUBMITTED and claimed.assignee is None
    event = claimed.events.last()
    assert event.actor == admin_user and "Gamma delivery" in event.note


@pytest.mark.parametrize(
    "model", [Handoff, ChecklistTemplateItem, HandoffEvent, HandoffMessage, CheckIn]
)
def test_admin_lists_load(client, admin_user, accepted, model):
    client.force_login(admin_user)
    opts = model._meta
    response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200


def test_handoffs_are_not_added_by_hand_in_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:handoff_handoff_add")).status_code == 403
