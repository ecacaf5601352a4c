from django.urls import include, path

from bench import views

urlpatterns = [
    path("bench/floor/", views.floor, name="bench-floor"),
    path("bench/peer/<int:stock_id>/reserve/", views.peer_reserve, name="bench-peer-reserve"),
    path("", include("flashsale.urls")),
]
