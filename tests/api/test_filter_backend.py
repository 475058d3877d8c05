"""The API's filter backend skips django-filter when no filter parameter is given; that is
only right while every FilterSet, given no parameters, leaves its queryset as it is."""

import pytest
from django.urls import get_resolver

from tests import factories as f

pytestmark = pytest.mark.django_db


def _filtersets():
    """Every FilterSet class of a routed API view."""
    found = {}

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
                continue
            view = getattr(pattern.callback, "cls", None)
            filterset_class = getattr(view, "filterset_class", None)
            if filterset_class is not None:
                found[filterset_class.__name__] = filterset_class

    walk(get_resolver().url_patterns)
    return found


def test_every_api_list_has_its_filterset_checked():
    assert {"DealFilter", "FlagFilter", "HandoffFilter", "ProspectFilter"} <= set(_filtersets())


@pytest.mark.parametrize("name", sorted(_filtersets()))
def test_a_filterset_given_no_parameters_filters_nothing(name):
    filterset_class = _filtersets()[name]
    model = filterset_class._meta.model
    deal = f.DealFactory()
    f.FlagFactory(deal=deal)
    f.HandoffFactory()
    f.NeedFactory(deal=deal)
    queryset = model._default_manager.all()
    filtered = filterset_class(data={}, queryset=queryset).qs
    assert sorted(filtered.values_list("pk", flat=True)) == sorted(
        queryset.values_list("pk", flat=True)
    )
