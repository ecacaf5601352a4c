"""Let the operators group view transactions (granted once: later grants and removals by hand stay)."""

from django.db import migrations


def grant(apps, schema_editor):
    from plans.permissions import grant_operator_permissions

    grant_operator_permissions(apps, using=schema_editor.connection.alias, app_labels=("reservations",))


class Migration(migrations.Migration):
    dependencies = [
        ("reservations", "0001_initial"),
        ("plans", "0003_operators_group"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
