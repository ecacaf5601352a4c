"""The "operators" staff group: exactly the permissions operators need, kept in step with the apps."""

from __future__ import annotations

from django.apps import apps as global_apps

OPERATORS_GROUP = "operators"
MANAGE = ("add", "change", "delete", "view")
VIEW = ("view",)

# Models operators manage; every other model of these apps is view-only for them.
MANAGED_MODELS = {
    "catalog": {"provider", "product", "syncrun"},
    "plans": {"salesession", "saleitem", "adjustment"},
}
# Apps whose models operators may look at, when the app is installed.
VIEW_ONLY_APPS = ("reservations", "reconciliation")


def operator_permission_codenames(*, apps=global_apps) -> set[tuple[str, str]]:
    """(app label, codename) pairs the operators group holds, for the models installed now."""
    wanted: set[tuple[str, str]] = set()
    for app_label in (*MANAGED_MODELS, *VIEW_ONLY_APPS):
        try:
            app_config = apps.get_app_config(app_label)
        except LookupError:
            continue
        for model in app_config.get_models():
            model_name = model._meta.model_name
            actions = MANAGE if model_name in MANAGED_MODELS.get(app_label, ()) else VIEW
            wanted.update((app_label, f"{action}_{model_name}") for action in actions)
    return wanted


def sync_operator_group(*, apps=global_apps, using: str = "default") -> int:
    """Create or update the operators group so it holds exactly the operator permissions.

    Permissions not created yet (an app migrated later) are picked up on the next call; the
    post_migrate handler calls this after every migrate. Returns the number of permissions held.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = operator_permission_codenames(apps=apps)
    group, _ = Group.objects.using(using).get_or_create(name=OPERATORS_GROUP)
    labels = {label for label, _ in wanted}
    candidates = (
        Permission.objects.using(using).filter(content_type__app_label__in=labels).select_related("content_type")
    )
    permissions = [p for p in candidates if (p.content_type.app_label, p.codename) in wanted]
    group.permissions.set(permissions)
    return len(permissions)


def sync_after_migrate(sender, *, using: str = "default", **kwargs) -> None:
    # post_migrate fires once per app that has a models module, in order; the permissions of
    # every app exist only after the last one.
    configs = [config for config in global_apps.get_app_configs() if config.models_module is not None]
    if not configs or sender is not configs[-1]:
        return
    sync_operator_group(using=using)
