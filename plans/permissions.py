"""The "operators" staff group: the permissions operators need, granted once by migrations.

Each app's data migration grants its own models' permissions (``grant_operator_permissions``):
plans 0003 for catalog and plans, reservations 0002, reconciliation 0003. After that ``migrate``
never touches the group, so grants an administrator adds or removes by hand stay. A new model
gets its grant from a new migration that calls the helper; ``manage.py reset_operator_group``
puts the group back to exactly the defaults when an administrator asks for it.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

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


def _wanted(app_config) -> set[tuple[str, str]]:
    label = app_config.label
    wanted: set[tuple[str, str]] = set()
    for model in app_config.get_models():
        model_name = model._meta.model_name
        actions = MANAGE if model_name in MANAGED_MODELS.get(label, ()) else VIEW
        wanted.update((label, f"{action}_{model_name}") for action in actions)
    return wanted


def operator_permission_codenames(*, apps=global_apps) -> set[tuple[str, str]]:
    """(app label, codename) pairs the operators group holds by default, for the models installed now."""
    wanted: set[tuple[str, str]] = set()
    for app_label in (*MANAGED_MODELS, *VIEW_ONLY_APPS):
        try:
            wanted |= _wanted(apps.get_app_config(app_label))
        except LookupError:
            continue
    return wanted


def _permissions(Permission, using: str, wanted: set[tuple[str, str]]) -> list:
    labels = {label for label, _ in wanted}
    candidates = (
        Permission.objects.using(using).filter(content_type__app_label__in=labels).select_related("content_type")
    )
    return [p for p in candidates if (p.content_type.app_label, p.codename) in wanted]


def grant_operator_permissions(apps, *, using: str, app_labels: tuple[str, ...]) -> None:
    """Add the default operator permissions of ``app_labels``' models to the group (created if missing).

    For data migrations (``apps`` is the migration state, ``using`` the schema editor's
    connection alias). Only adds: what the group already holds, granted by hand or not, is left alone.
    """
    wanted = set()
    for label in app_labels:
        app_config = apps.get_app_config(label)
        # Permissions are normally created after all migrations (post_migrate); create them now.
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = None
        wanted |= _wanted(app_config)
    group, _ = apps.get_model("auth", "Group").objects.using(using).get_or_create(name=OPERATORS_GROUP)
    group.permissions.add(*_permissions(apps.get_model("auth", "Permission"), using, wanted))


def sync_operator_group(*, apps=global_apps, using: str = "default") -> int:
    """Reset the operators group to exactly the default permissions (drops grants made by hand).

    Only on request (``manage.py reset_operator_group``), never on ``migrate``. Returns the number
    of permissions held.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(using).get_or_create(name=OPERATORS_GROUP)
    permissions = _permissions(Permission, using, operator_permission_codenames(apps=apps))
    group.permissions.set(permissions)
    return len(permissions)
