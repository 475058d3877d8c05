from rest_framework.routers import SimpleRouter

from .api import BuyerShareViewSet

router = SimpleRouter()
router.register("buyer-shares", BuyerShareViewSet, basename="buyer-share")
urlpatterns = router.urls
