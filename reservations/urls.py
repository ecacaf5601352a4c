from django.urls import path

from reservations import views

urlpatterns = [
    path("", views.home, name="home"),
]
