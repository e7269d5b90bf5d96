from rest_framework.routers import SimpleRouter

from webhooks.api import views

router = SimpleRouter()
router.register("webhooks", views.SubscriptionViewSet, basename="webhook")

urlpatterns = router.urls
