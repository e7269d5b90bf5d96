from rest_framework.routers import SimpleRouter

from inspections.api import views

router = SimpleRouter()
router.register("inspections", views.InspectionViewSet, basename="inspection")

urlpatterns = router.urls
