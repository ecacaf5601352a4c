from django.apps import AppConfig


class FlashsaleConfig(AppConfig):
    name = "flashsale"
    verbose_name = "Flash sale"

    def ready(self) -> None:
        from flashsale import checks  # noqa: F401  (registers the system checks)
        from flashsale.auth import connect_signals
        from flashsale.request_context import connect_celery_signals

        connect_signals()
        connect_celery_signals()
