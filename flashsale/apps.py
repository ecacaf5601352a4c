from django.apps import AppConfig


class FlashsaleConfig(AppConfig):
    name = "flashsale"
    verbose_name = "Flash sale"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from flashsale import accounts, auth, checks, rate_limits
        from flashsale.request_context import connect_celery_signals

        checks.register()
        auth.connect_signals()
        accounts.connect_signals()
        user_login_failed.connect(rate_limits.count_failed_login, dispatch_uid="flashsale.rate_limits.failed_login")
        connect_celery_signals()
