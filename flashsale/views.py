from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from flashsale.health import check_database, check_redis


@never_cache
@require_GET
def healthz(request):
    checks = {"database": check_database(), "redis": check_redis()}
    body = {name: ("ok" if error is None else f"down: {error}") for name, error in checks.items()}
    failing = [name for name, error in checks.items() if error is not None]
    body["status"] = "ok" if not failing else "unavailable: " + ", ".join(failing)
    return JsonResponse(body, status=200 if not failing else 503)


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined]  # the stubs do not declare Meta
        fields = ("username", "email")


def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


def ratelimited(request, exception=None):
    return render(
        request,
        "error.html",
        {
            "title": "Slow down",
            "message": "Too many requests from you in a short time. Wait a few seconds and try again.",
        },
        status=429,
    )
