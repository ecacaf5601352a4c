from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from flashsale import views
from reservations.urls import urlpatterns as shopper_routes

# The shopper routes come first: URL resolution tries patterns in order, and the reserve request
# is the hottest one. Spliced in, not include()d: an include is one more resolver level that every
# request would walk through (the reserve request resolves in one step).
urlpatterns = [
    *shopper_routes,
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics_view, name="metrics"),
    path("accounts/signup/", views.signup, name="signup"),
    path(
        "accounts/login/",
        views.login_limited(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Admin's own log-in, under the same limits (this pattern comes before admin's and wins).
    path("admin/login/", views.login_limited(admin.site.login)),
    path("", include("flashsale.password_reset")),
    path("admin/", admin.site.urls),
    path("captcha/", include("captcha.urls")),
    path("", include("catalog.urls")),
    path("", include("plans.urls")),
    path("", include("reconciliation.urls")),
]
