"""Create the "operators" staff group with the catalog and plans permissions.

Later apps (reservations, reconciliation) are added by ``plans.permissions.sync_operator_group``,
which runs after every migrate.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MANAGE = ("add", "change", "delete", "view")
MANAGED = {
    "catalog": {"provider", "product", "syncrun"},
    "plans": {"salesession", "saleitem", "adjustment"},
}


def create_group(apps, schema_editor):
    using = schema_editor.connection.alias
    # Permissions are normally created after all migrations; create them now to grant them.
    for label in MANAGED:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(using).get_or_create(name="operators")
    for label, managed in MANAGED.items():
        for model in apps.get_app_config(label).get_models():
            name = model._meta.model_name
            actions = MANAGE if name in managed else ("view",)
            codenames = [f"{action}_{name}" for action in actions]
            group.permissions.add(
                *Permission.objects.using(using).filter(content_type__app_label=label, codename__in=codenames)
            )


def drop_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name="operators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0001_initial"),
        ("plans", "0002_final_counts_and_expiry"),
    ]

    operations = [migrations.RunPython(create_group, drop_group)]
