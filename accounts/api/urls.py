from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import views

router = SimpleRouter()
router.register("auth/sessions", views.SessionViewSet, basename="session")
router.register("users", views.UserViewSet, basename="user")

urlpatterns = [
    path("auth/token/", views.LoginView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", views.RefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("auth/password/change/", views.PasswordChangeView.as_view(), name="password-change"),
    path("auth/profile/", views.ProfileView.as_view(), name="profile"),
    path("auth/profile/update/", views.ProfileUpdateView.as_view(), name="profile-update"),
    *router.urls,
]
