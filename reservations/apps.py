from django.apps import AppConfig


class ReservationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reservations"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from reservations.shopper import remember_username

        user_logged_in.connect(remember_username, dispatch_uid="reservations.shopper.remember_username")
