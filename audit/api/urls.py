from rest_framework.routers import SimpleRouter

from audit.api import views

router = SimpleRouter()
router.register("audit-logs", views.AuditLogViewSet, basename="audit-log")

urlpatterns = router.urls
