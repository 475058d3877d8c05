from rest_framework.routers import SimpleRouter

from .api import CheckInViewSet, ChecklistItemViewSet, HandoffViewSet

router = SimpleRouter()
router.register("handoffs", HandoffViewSet, basename="handoff")
router.register("handoff-checklist-items", ChecklistItemViewSet, basename="handoff-checklist-item")
router.register("check-ins", CheckInViewSet, basename="check-in")

urlpatterns = router.urls
