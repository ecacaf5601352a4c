from django.urls import include, path

from reservations import views

# Names carry a "reservations-" prefix instead of a namespace so that "home" stays un-namespaced.
urlpatterns = [
    # The reserve request first: patterns are tried in order and it is the hottest route.
    path(
        "sessions/<int:session_id>/items/<int:item_id>/reserve/",
        views.reserve,
        name="reservations-reserve",
    ),
    path("sessions/<int:session_id>/reserve/", views.reserve_chosen, name="reservations-reserve-chosen"),
    path("", views.home, name="home"),
    path("sessions/<int:session_id>/", views.sale, name="reservations-sale"),
    path("sessions/<int:session_id>/stock.json", views.stock_json, name="reservations-stock"),
    path("sessions/<int:session_id>/mine.json", views.mine_json, name="reservations-mine-counts"),
    path("sessions/<int:session_id>/location/", views.set_location, name="reservations-location"),
    path("sessions/<int:session_id>/captcha/", views.captcha, name="reservations-captcha"),
    path("me/reservations/", views.my_reservations, name="reservations-mine"),
    path(
        "me/reservations/<int:session_id>/<slug:txn_id>/cancel/",
        views.cancel_reservation,
        name="reservations-cancel",
    ),
    path("", include("reservations.waiting_urls")),
]
