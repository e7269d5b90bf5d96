from django.urls import path
from rest_framework.routers import SimpleRouter

from inspections.api import views

router = SimpleRouter()
router.register("inspections", views.InspectionViewSet, basename="inspection")

urlpatterns = [
    path("products/<uuid:pk>/trends/", views.ProductTrendView.as_view(), name="product-trends"),
    *router.urls,
]
