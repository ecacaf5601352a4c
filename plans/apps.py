from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PlansConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "plans"
    verbose_name = "Sale plans"

    def ready(self) -> None:
        from plans.permissions import sync_after_migrate

        post_migrate.connect(sync_after_migrate, dispatch_uid="plans.sync_operator_group")
