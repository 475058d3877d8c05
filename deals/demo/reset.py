"""Deleting the demo: every deal and prospect the generator wrote, table by table."""

from __future__ import annotations

from django.db import transaction

from deals.models import Deal, Prospect

from .vocabulary import DEMO_PREFIX


def _raw_delete(model, queryset, seen=None) -> None:
    """Delete `queryset` and everything that hangs off it, table by table, without loading
    rows (a cascade through the ORM would load 100,000 deals and write a history row per
    deleted object). Runs inside the caller's transaction; foreign keys are deferred."""
    pks = queryset.values("pk")
    for rel in model._meta.related_objects:
        child = rel.related_model
        if rel.many_to_many:
            through = rel.through
            fk = next(f for f in through._meta.fields if f.related_model is model)
            through.objects.filter(**{f"{fk.name}__in": pks})._raw_delete(through.objects.db)
            continue
        child_qs = child._base_manager.filter(**{f"{rel.field.name}__in": pks})
        on_delete = rel.on_delete.__name__
        if on_delete in ("CASCADE", "PROTECT"):
            _raw_delete(child, child_qs)
        elif on_delete == "SET_NULL":
            child_qs.update(**{rel.field.name: None})
    for m2m in model._meta.many_to_many:
        through = m2m.remote_field.through
        fk = next(f for f in through._meta.fields if f.related_model is model)
        through.objects.filter(**{f"{fk.name}__in": pks})._raw_delete(through.objects.db)
    history = getattr(model, "history", None)
    if history is not None and hasattr(history, "model"):
        historical = history.model
        _raw_delete(historical, historical._base_manager.filter(id__in=pks))
    queryset._raw_delete(queryset.db)


@transaction.atomic
def demo_reset() -> None:
    """Delete every deal and prospect the generator wrote (users and teams stay)."""
    _raw_delete(Deal, Deal._base_manager.filter(external_id__startswith=DEMO_PREFIX))
    _raw_delete(Prospect, Prospect._base_manager.filter(external_id__startswith=DEMO_PREFIX))
