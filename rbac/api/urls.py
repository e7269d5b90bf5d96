from rest_framework.routers import SimpleRouter

from rbac.api import views

router = SimpleRouter()
router.register("permissions", views.PermissionViewSet, basename="permission")
router.register("roles", views.RoleViewSet, basename="role")
router.register("role-assignments", views.RoleAssignmentViewSet, basename="role-assignment")

urlpatterns = [
    *router.urls,
]
