"""Refused payments and late payments become statuses of their own (both mean: refund due).

A late payment used to keep the status its hold ended with (expired or cancelled) plus the
``paid_after_expiry`` flag; it now reads ``paid_after_expiry`` until it is refunded. The flag stays:
it records that a payment came late, also after the refund.
"""

from django.db import migrations, models


def late_payments_get_their_status(apps, schema_editor):
    Transaction = apps.get_model("reservations", "Transaction")
    Transaction.objects.filter(paid_after_expiry=True, status__in=["expired", "cancelled"]).update(
        status="paid_after_expiry"
    )


def back_to_the_flag_alone(apps, schema_editor):
    Transaction = apps.get_model("reservations", "Transaction")
    Transaction.objects.filter(status__in=["paid_after_expiry", "refused"]).update(status="expired")


class Migration(migrations.Migration):
    dependencies = [
        ("reservations", "0002_operators_view"),
    ]

    operations = [
        migrations.AlterField(
            model_name="transaction",
            name="status",
            field=models.CharField(
                choices=[
                    ("reserved", "Reserved, awaiting payment"),
                    ("paid", "Paid"),
                    ("expired", "Expired unpaid"),
                    ("cancelled", "Cancelled"),
                    ("refused", "Payment refused, refund due"),
                    ("paid_after_expiry", "Paid after the hold ended, refund due"),
                    ("refunded", "Refunded"),
                ],
                db_index=True,
                default="reserved",
                max_length=20,
            ),
        ),
        migrations.RunPython(late_payments_get_their_status, back_to_the_flag_alone),
    ]
