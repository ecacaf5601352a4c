"""The operators group holds exactly the permissions to run sales, and they are enough for the admin pages."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from plans.permissions import OPERATORS_GROUP

pytestmark = pytest.mark.django_db

MANAGED = {
    "catalog": ["provider", "product", "syncrun"],
    "plans": ["salesession", "saleitem", "adjustment"],
}
VIEW_ONLY = {"catalog": ["syncrejection"], "plans": ["itemfinalcounts"]}


def _held() -> set[str]:
    group = Group.objects.get(name=OPERATORS_GROUP)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def _expected() -> set[str]:
    expected = set()
    for app, models in MANAGED.items():
        expected |= {f"{app}.{action}_{model}" for model in models for action in ("add", "change", "delete", "view")}
    for app, models in VIEW_ONLY.items():
        expected |= {f"{app}.view_{model}" for model in models}
    for app in ("reservations", "reconciliation"):
        expected |= {
            f"{app}.{p.codename}"
            for p in Permission.objects.filter(content_type__app_label=app, codename__startswith="view_")
        }
    return expected


def test_operators_group_has_exactly_the_expected_permissions():
    assert _held() == _expected()
    assert "reservations.view_transaction" in _held()
    assert not any(perm.startswith("auth.") for perm in _held())
    assert not any(perm.split(".")[1].split("_")[0] != "view" for perm in _held() if perm.startswith("reservations."))


def test_migrate_leaves_grants_made_by_hand_alone():
    group = Group.objects.get(name=OPERATORS_GROUP)
    group.permissions.add(Permission.objects.get(codename="view_user"))
    group.permissions.remove(Permission.objects.get(codename="delete_salesession"))
    by_hand = _held()

    call_command("migrate", verbosity=0)
    call_command("migrate", verbosity=0)

    assert _held() == by_hand
    assert "auth.view_user" in _held() and "plans.delete_salesession" not in _held()


def test_the_reset_command_restores_the_defaults_on_request():
    group = Group.objects.get(name=OPERATORS_GROUP)
    group.permissions.add(Permission.objects.get(codename="delete_user"))
    group.permissions.remove(Permission.objects.get(codename="change_salesession"))

    out = StringIO()
    call_command("reset_operator_group", stdout=out)

    assert _held() == _expected()
    assert f"{len(_expected())} permissions" in out.getvalue()


def test_the_grant_migrations_add_to_an_existing_group_and_create_a_missing_one():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from plans.permissions import grant_operator_permissions

    state = MigrationExecutor(connection).loader.project_state()
    apps = state.apps
    Group.objects.filter(name=OPERATORS_GROUP).delete()
    grant_operator_permissions(apps, using=connection.alias, app_labels=("reconciliation",))
    held = _held()
    assert "reconciliation.view_compensation" in held and not any(p.startswith("plans.") for p in held)


def test_an_operator_can_use_the_sessions_admin(client, operator, live_session):
    session, item, _ = live_session
    client.force_login(operator)
    assert client.get(reverse("admin:plans_salesession_changelist")).status_code == 200
    assert client.get(reverse("admin:plans_salesession_live", args=[session.pk])).status_code == 200
    assert client.get(reverse("admin:plans_salesession_adjust", args=[session.pk])).status_code == 200
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_staff_without_the_group_cannot_see_sessions(client, make_user, live_session):
    session, _, _ = live_session
    client.force_login(make_user("intern", is_staff=True))
    assert client.get(reverse("admin:plans_salesession_live_data", args=[session.pk])).status_code == 403
