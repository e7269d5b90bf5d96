from rest_framework.routers import SimpleRouter

from notifications.api import views

router = SimpleRouter()
router.register("notifications", views.BroadcastViewSet, basename="notification")

urlpatterns = router.urls
