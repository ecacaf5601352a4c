from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reconciliation"

    def ready(self) -> None:
        from reconciliation import checks  # noqa: F401 - registers the system checks
