from rest_framework.routers import SimpleRouter

from batches.api import views

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register("batches", views.BatchViewSet, basename="batch")

urlpatterns = router.urls
