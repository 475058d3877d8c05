"""Health routes under /api/v1/: deals/{id}/health/, flags, health-policies."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from deals.health import api

router = SimpleRouter()
router.register("flags", api.FlagViewSet, basename="flag")
router.register("health-policies", api.HealthPolicyViewSet, basename="health-policy")

urlpatterns = [
    path("deals/<int:pk>/health/", api.DealHealthView.as_view(), name="deal-health"),
    path(
        "deals/<int:pk>/health/recompute/",
        api.DealHealthRecomputeView.as_view(),
        name="deal-health-recompute",
    ),
    *router.urls,
]
