"""Mails sent to shoppers, recorded so that each is sent once."""

from django.db import migrations, models


def operators_may_see_them(apps, schema_editor):
    from plans.permissions import grant_operator_permissions

    grant_operator_permissions(apps, using=schema_editor.connection.alias, app_labels=("reservations",))


class Migration(migrations.Migration):

    dependencies = [
        ('reservations', '0003_refused_and_refund_due_statuses'),
        ('plans', '0003_operators_group'),
    ]

    operations = [
        migrations.CreateModel(
            name='SentMail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('reserved', 'Reservation made'), ('paid', 'Payment confirmed'), ('refunded', 'Refund made'), ('turn', 'It is your turn')], max_length=10)),
                ('key', models.CharField(help_text='What the mail is about: a TransactionID, or session:user:instant.', max_length=100)),
                ('to', models.EmailField(max_length=254)),
                ('sent_at', models.DateTimeField()),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('kind', 'key'), name='reservations_sent_mail_once')],
            },
        ),
        migrations.RunPython(operators_may_see_them, migrations.RunPython.noop),
    ]
