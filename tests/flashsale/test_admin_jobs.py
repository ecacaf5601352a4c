"""The back office lists Celery beat's periodic tasks to superusers only, and its four schedule models to nobody."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import make_staff


def test_superusers_see_one_entry_for_the_periodic_tasks(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:django_celery_beat_periodictask_changelist") in html
    for model in ("intervalschedule", "crontabschedule", "solarschedule", "clockedschedule"):
        assert reverse(f"admin:django_celery_beat_{model}_changelist") not in html, model
    # Still there for whoever needs them, from a task's form or by address.
    assert admin_client.get(reverse("admin:django_celery_beat_intervalschedule_changelist")).status_code == 200


def test_staff_who_are_not_superusers_never_see_them(client, db):
    staff = make_staff("scheduler")
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="django_celery_beat"))
    client.force_login(staff)
    html = client.get(reverse("admin:index")).content.decode()
    assert "django_celery_beat" not in html and "Periodic" not in html
