"""REST routes of the sales side under /api/v1/."""

from rest_framework.routers import SimpleRouter

from deals.api import views

router = SimpleRouter()
router.register("prospects", views.ProspectViewSet, basename="prospect")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("needs", views.NeedViewSet, basename="need")
router.register("discovery-calls", views.DiscoveryCallViewSet, basename="discovery-call")
router.register("deals", views.DealViewSet, basename="deal")
router.register("line-items", views.LineItemViewSet, basename="line-item")
router.register("milestones", views.MilestoneViewSet, basename="milestone")
router.register("activities", views.ActivityViewSet, basename="activity")
router.register("concessions", views.ConcessionViewSet, basename="concession")
router.register("commitments", views.CommitmentViewSet, basename="commitment")
router.register("disclosures", views.DisclosureViewSet, basename="disclosure")

urlpatterns = router.urls
