"""Discrepancies keep our transaction's status, whose longest value is now 17 characters."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reconciliation', '0003_operators_view'),
    ]

    operations = [
        migrations.AlterField(
            model_name='discrepancy',
            name='our_status',
            field=models.CharField(blank=True, help_text="Our transaction's status ('' if absent).", max_length=20),
        ),
    ]
