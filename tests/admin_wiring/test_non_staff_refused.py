"""Shoppers never reach the controls; a staff user without the rights cannot use them either."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse

from flashsale.store import keys
from plans.models import Adjustment
from reservations.audit import latest_report
from reservations.waiting_room import waiting_room_stats

pytestmark = pytest.mark.django_db

ACTIONS = ["audit_stock_now", "repair_stock", "pause_admissions_action", "resume_admissions_action"]


@pytest.fixture
def shopper_client(client, make_user):
    client.force_login(make_user())
    return client


@pytest.mark.parametrize("name", ["live", "live_data"])
def test_shopper_cannot_see_the_live_figures(shopper_client, live_session, name):
    response = shopper_client.get(reverse(f"admin:plans_salesession_{name}", args=[live_session.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_shopper_cannot_set_the_rate(shopper_client, live_session):
    url = reverse("admin:plans_salesession_admission_rate", args=[live_session.pk])

    response = shopper_client.post(url, {"rate": "50"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert waiting_room_stats(live_session.pk)["rate"] is None


@pytest.mark.parametrize("action", ACTIONS)
def test_shopper_cannot_run_the_actions(shopper_client, live_session, inject_extra_unit, redis_conn, action):
    item = live_session.test_items[0]
    inject_extra_unit(live_session, item)
    data = {"action": action, ACTION_CHECKBOX_NAME: [live_session.pk], "post": "yes"}

    response = shopper_client.post(reverse("admin:plans_salesession_changelist"), data)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert latest_report(live_session.pk) is None
    assert redis_conn.llen(keys.stock(live_session.pk, item.pk)) == 11
    assert waiting_room_stats(live_session.pk)["paused"] is False
    assert not Adjustment.objects.exists()


@pytest.fixture
def viewer_client(client, django_user_model):
    viewer = django_user_model.objects.create(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_salesession"))
    client.force_login(viewer)
    return client


def test_view_only_staff_sees_no_controls(viewer_client, live_session):
    listing = viewer_client.get(reverse("admin:plans_salesession_changelist"))
    live = viewer_client.get(reverse("admin:plans_salesession_live", args=[live_session.pk]))

    assert listing.status_code == 200
    # With no action it may run, the list offers no action form at all.
    assert listing.context["action_form"] is None
    assert 'id="admission-rate-form"' not in live.content.decode()


def test_view_only_staff_cannot_set_the_rate(viewer_client, live_session):
    url = reverse("admin:plans_salesession_admission_rate", args=[live_session.pk])

    assert viewer_client.post(url, {"rate": "50"}).status_code == 403
    assert waiting_room_stats(live_session.pk)["rate"] is None


def test_staff_without_adjustment_rights_cannot_repair(client, django_user_model, live_session, inject_extra_unit):
    user = django_user_model.objects.create(username="changer", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_salesession", "change_salesession"]))
    client.force_login(user)

    listing = client.get(reverse("admin:plans_salesession_changelist"))

    offered = {choice for choice, _ in listing.context["action_form"].fields["action"].choices}
    assert "audit_stock_now" in offered
    assert "repair_stock" not in offered
