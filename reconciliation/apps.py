from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reconciliation"

    def ready(self) -> None:
        from django.conf import settings

        from reconciliation import checks  # noqa: F401 - registers the system checks
        from reconciliation.gateway import checkout_url
        from reservations.checkout import use_checkout_url

        # The reserve redirect goes through the gateway interface; reservations cannot import us.
        use_checkout_url(checkout_url)
        if settings.FLASHSALE_GATEWAY == "stripe":
            # The stripe package takes ~0.2 s to import: at start-up, not on a shopper's first reserve.
            import reconciliation.stripe_gateway  # noqa: F401
