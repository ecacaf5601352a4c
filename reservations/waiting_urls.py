"""URLs of the waiting room; included by ``reservations/urls.py`` (names follow its prefix)."""

from django.urls import path

from reservations import waiting_views

urlpatterns = [
    path("sessions/<int:session_id>/waiting/", waiting_views.waiting_room, name="reservations-waiting"),
    path(
        "sessions/<int:session_id>/waiting/status.json",
        waiting_views.waiting_room_status,
        name="reservations-waiting-status",
    ),
]
