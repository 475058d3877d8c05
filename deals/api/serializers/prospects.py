"""Prospects and contacts."""

from __future__ import annotations

from django.db.models import QuerySet

from deals import selectors, visibility
from deals.api.serializers.base import DocumentedModelSerializer
from deals.models import Contact, Prospect
from deals.visibility import Viewer
from winwin_crm.accounts.models import Team


def _prospect_teams(*, user: Viewer) -> QuerySet[Team]:
    return visibility.prospect_teams(user)


class ProspectSerializer(DocumentedModelSerializer):
    scoped_fields = {"team": _prospect_teams}

    class Meta:
        model = Prospect
        fields = [
            "id", "name", "team", "industry", "size", "website", "notes", "external_id",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]
        create_only_fields = ["team"]
        extra_kwargs = {"team": {"required": False}}
        help_texts = {
            "team": "Id of the owning sales team; defaults to your own sales team.",
            "industry": "The prospect's industry, e.g. Software, Retail.",
            "size": "Company size band.",
            "website": "The prospect's website URL.",
            "notes": "Free-text notes about the organisation.",
        }


class ContactSerializer(DocumentedModelSerializer):
    scoped_fields = {"prospect": selectors.prospect_list}

    class Meta:
        model = Contact
        fields = [
            "id", "prospect", "name", "title", "email", "phone", "buying_role", "notes",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]
        create_only_fields = ["prospect"]
        help_texts = {
            "prospect": "Id of the prospect this person works at.",
            "name": "The person's full name.",
            "email": "Work email address.",
            "phone": "Phone number.",
            "buying_role": "Their role in the buying decision.",
        }
