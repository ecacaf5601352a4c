"""Password reset: Django's own views and tokens, in the site's pages, links built from FLASHSALE_SITE_URL.

The reset mail goes out through the mail backend ``EMAIL_URL`` configures. Asking for it is limited
per client address and per address asked for (``FLASHSALE_PASSWORD_RESET_RATE``), so the form
cannot be used to flood someone's inbox. Whether an account exists is never said.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path
from django_ratelimit.core import is_ratelimited

from flashsale.context_processors import SITE_NAME


class PasswordResetView(auth_views.PasswordResetView):
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    @property  # read per request: tests and deployments set the site's URL
    def extra_email_context(self) -> dict[str, str]:
        return {"site_name": SITE_NAME, "site_url": settings.FLASHSALE_SITE_URL}

    def post(self, request, *args, **kwargs):
        rate = settings.FLASHSALE_PASSWORD_RESET_RATE
        by_ip = is_ratelimited(request, group="password-reset:ip", key="ip", rate=rate, increment=True)
        by_address = is_ratelimited(
            request,
            group="password-reset:email",
            key=lambda _group, req: req.POST.get("email", "").strip().lower(),
            rate=rate,
            increment=True,
        )
        if by_ip or by_address:
            from flashsale.views import ratelimited

            return ratelimited(request)
        return super().post(request, *args, **kwargs)


urlpatterns = [
    path("accounts/password-reset/", PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
