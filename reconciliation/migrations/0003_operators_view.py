"""Let the operators group view reconciliation runs, discrepancies and compensations (granted once)."""

from django.db import migrations


def grant(apps, schema_editor):
    from plans.permissions import grant_operator_permissions

    grant_operator_permissions(apps, using=schema_editor.connection.alias, app_labels=("reconciliation",))


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0002_refund_retries"),
        ("plans", "0003_operators_group"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
