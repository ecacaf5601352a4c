"""The site's URLs plus the waiting room's, included the way the lead includes them."""

from django.urls import include, path

from flashsale.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("", include("reservations.waiting_urls")),
    *site_urlpatterns,
]
