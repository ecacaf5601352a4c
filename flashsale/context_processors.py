"""What every page's template gets: the site's name and the links of its header, resolved once."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse

SITE_NAME = "FlashSale"


@functools.cache
def site_links() -> dict[str, str]:
    """The header's URLs: the same for every request, so reversed once per process, not per page."""
    return {
        "home": reverse("home"),
        "login": reverse("login"),
        "signup": reverse("signup"),
        "logout": reverse("logout"),
        "mine": reverse("reservations-mine"),
        "admin": reverse("admin:index"),
        "css": static("css/site.css"),
    }


def site(request: Any) -> dict[str, Any]:
    # ``brand`` is what the header and titles show: Django's auth views put the request's host in
    # ``site_name`` (their mails use it), which must not become the brand of their pages.
    return {"site_name": SITE_NAME, "brand": SITE_NAME, "debug": settings.DEBUG, "links": site_links()}
