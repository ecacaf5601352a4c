"""The operators group holds exactly the permissions to run sales, and they are enough for the admin pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from plans.permissions import OPERATORS_GROUP, sync_operator_group

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


def test_sync_restores_the_group_exactly():
    group = Group.objects.get(name=OPERATORS_GROUP)
    group.permissions.add(Permission.objects.get(codename="delete_user"))
    group.permissions.remove(Permission.objects.get(codename="change_salesession"))

    sync_operator_group()

    assert _held() == _expected()


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
