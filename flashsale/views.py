from __future__ import annotations

from functools import wraps

from captcha.fields import CaptchaField
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from flashsale import metrics, rate_limits, readiness


@never_cache
@require_GET
def healthz(request):
    """Liveness: this process answers. It touches no store, so a Redis or database outage never
    gets healthy processes restarted; whether the site can serve is /readyz's question."""
    return JsonResponse({"status": "ok"})


def _sees_details(request) -> bool:
    """Staff and the metrics token see why a check failed; the public only sees which."""
    if metrics.bearer_token_matches(request):
        return True
    try:
        return bool(request.user.is_staff)
    except Exception:  # the session store may be the thing that is down
        return False


@never_cache
@require_GET
def readyz(request):
    """Readiness: 200 when every check passes, else 503 naming the failing checks.

    ``?scope=web`` checks only what a web node needs to answer shoppers (database, redis, sale_redis).
    """
    names = readiness.WEB_CHECKS if request.GET.get("scope") == "web" else None
    results = readiness.run_checks(names)
    failing = [result.name for result in results if not result.ok]
    body: dict[str, object] = {
        "status": "ok" if not failing else "unavailable",
        "checks": {result.name: "ok" if result.ok else "down" for result in results},
    }
    if failing:
        body["failing"] = failing
    if _sees_details(request):
        body["details"] = {
            result.name: {"detail": result.detail, "value": result.value, "seconds": round(result.seconds, 4)}
            for result in results
        }
    response = JsonResponse(body, status=200 if not failing else 503)
    # A probe polls every few seconds: its 503s are in /metrics, not an error log line each.
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django's own flag (django.utils.log.log_response)
    return response


@never_cache
@require_GET
def metrics_view(request):
    """Prometheus text format: this server's request metrics and the business figures, read now."""
    if not settings.FLASHSALE_METRICS_TOKEN:
        if settings.PRODUCTION:
            raise Http404  # not exposed until a token is configured
    elif not metrics.bearer_token_matches(request):
        response = HttpResponse("A valid bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(metrics.scrape_sources()), content_type=CONTENT_TYPE_LATEST)


class SignupForm(UserCreationForm):
    # Fresh accounts would bypass the per-user purchase limits: each one costs a human a CAPTCHA.
    captcha = CaptchaField(label="Type the characters you see")

    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined]  # the stubs do not declare Meta
        fields = ("username", "email")


def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    if request.method == "POST" and (wait := rate_limits.signup_wait(request)):
        return ratelimited(request, retry_after=wait)
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


def login_limited(view):
    """Refuse a log-in POST with 429 while its address or username has failed too often (``rate_limits``).

    The failures themselves are counted by the ``user_login_failed`` signal, whichever view failed.
    Refused before the password is checked, so a limited guess learns nothing.
    """

    @wraps(view)
    def limited(request, *args, **kwargs):
        if request.method == "POST" and (wait := rate_limits.login_wait(request, request.POST.get("username", ""))):
            return ratelimited(request, retry_after=wait)
        return view(request, *args, **kwargs)

    return limited


# Retry-After of a 429 whose limit does not say when its window ends (django-ratelimit's decorator).
DEFAULT_RETRY_AFTER_SECONDS = 60


def ratelimited(request, exception=None, *, retry_after: int | None = None) -> HttpResponse:
    """Every rate-limited answer: 429, ``Retry-After`` in seconds, HTML or JSON as the client prefers."""
    seconds = max(1, int(retry_after or DEFAULT_RETRY_AFTER_SECONDS))
    message = f"Too many requests from you in a short time. Try again in {_duration(seconds)}."
    response: HttpResponse
    if request.get_preferred_type(["text/html", "application/json"]) == "application/json":
        response = JsonResponse({"error": "rate_limited", "message": message, "retry_after": seconds}, status=429)
    else:
        response = render(request, "error.html", {"title": "Slow down", "message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{round(seconds / 60)} minutes"
