from django.urls import path

from bench import views
from flashsale.urls import urlpatterns as site_routes

urlpatterns = [
    path("bench/floor/", views.floor, name="bench-floor"),
    # Served through the hot routes' middleware list (bench.settings adds it to their pattern).
    path("bench/hot/floor/", views.floor, name="bench-floor-hot"),
    path("bench/hot/round-trip/", views.floor_redis, name="bench-floor-redis"),
    path("bench/peer/<int:stock_id>/reserve/", views.peer_reserve, name="bench-peer-reserve"),
    # Spliced in, not include()d, so the site's routes resolve at the depth they have in production.
    *site_routes,
]
