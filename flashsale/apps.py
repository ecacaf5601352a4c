from django.apps import AppConfig


class FlashsaleConfig(AppConfig):
    name = "flashsale"
    verbose_name = "Flash sale"

    def ready(self) -> None:
        from flashsale.auth import connect_signals

        connect_signals()
