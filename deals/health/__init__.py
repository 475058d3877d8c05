"""The deal health engine (facts → rules → scores → stored flags)."""

from .queue import health_recompute_on_commit


def health_recompute(*, deal_id: int):
    """Placeholder until the engine lands: recompute one deal's health."""
    return None


def health_sweep():
    return None


__all__ = ["health_recompute", "health_recompute_on_commit", "health_sweep"]
