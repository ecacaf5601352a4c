"""“Repair stock from PostgreSQL” asks first, puts the list right, records an Adjustment, says what
it did, and refuses clearly while another repair runs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from flashsale.store import keys
from plans.models import Adjustment
from reservations.audit import REPAIR_REASON_PREFIX, audit_session, drifting_sessions
from tests.support.admin_actions import run_action

pytestmark = pytest.mark.django_db


@pytest.fixture
def drifting(live_session, inject_extra_unit):
    inject_extra_unit(live_session, live_session.test_items[0])
    assert not audit_session(live_session.pk).ok
    return live_session


def test_repair_asks_first(operator_client, drifting, redis_conn):
    item = drifting.test_items[0]
    page = run_action(operator_client, "repair_stock", [drifting], confirm=False)

    assert "Repair these sessions’ stock lists from PostgreSQL" in page.content.decode()
    assert redis_conn.llen(keys.stock(drifting.pk, item.pk)) == 11
    assert not Adjustment.objects.exists()


def test_repair_fixes_the_list_and_records_an_adjustment(operator_client, operator, drifting, redis_conn):
    item = drifting.test_items[0]

    response = run_action(operator_client, "repair_stock", [drifting], confirm=True)

    assert redis_conn.llen(keys.stock(drifting.pk, item.pk)) == 10
    adjustment = Adjustment.objects.get()
    assert (adjustment.item_id, adjustment.delta, adjustment.created_by) == (item.pk, -1, operator)
    assert adjustment.reason.startswith(REPAIR_REASON_PREFIX)
    page = response.content.decode()
    assert f"Repaired Live now: {item.product.name}: list 11 → 10 (pushed 0, trimmed 1" in page
    assert f"recorded as adjustment #{adjustment.pk}" in page
    assert "Audit after the repair: now balanced." in page
    assert drifting_sessions() == []
    listing = operator_client.get(reverse("admin:plans_salesession_changelist")).content.decode()
    assert "Stock drift in" not in listing


def test_repair_of_a_balanced_session_changes_nothing(operator_client, live_session):
    page = run_action(operator_client, "repair_stock", [live_session], confirm=True).content.decode()

    assert "Repaired Live now: nothing to repair. Audit after the repair: now balanced." in page
    assert not Adjustment.objects.exists()


def test_repair_refuses_while_another_runs(operator_client, drifting, redis_conn):
    item = drifting.test_items[0]
    redis_conn.set(keys.audit_lock(drifting.pk), "1")

    page = run_action(operator_client, "repair_stock", [drifting], confirm=True).content.decode()

    assert "Live now: another repair of this session is running; nothing was changed." in page
    assert redis_conn.llen(keys.stock(drifting.pk, item.pk)) == 11
    assert not Adjustment.objects.exists()


def test_the_live_page_repairs_after_a_confirmation_and_comes_back(operator_client, drifting, redis_conn):
    item = drifting.test_items[0]
    url = reverse("admin:plans_salesession_repair", args=[drifting.pk])
    live = reverse("admin:plans_salesession_live", args=[drifting.pk])

    asked = operator_client.get(url)
    assert asked.status_code == 200 and "Yes, repair the stock" in asked.content.decode()
    assert redis_conn.llen(keys.stock(drifting.pk, item.pk)) == 11  # nothing changed yet

    done = operator_client.post(url, follow=True)

    assert done.redirect_chain == [(live, 302)]
    assert f"Repaired {drifting.name}" in done.content.decode() and "now balanced" in done.content.decode()
    assert redis_conn.llen(keys.stock(drifting.pk, item.pk)) == 10
    assert not drifting_sessions()


def test_only_operators_who_may_repair_see_or_use_it(client, drifting, redis_conn):
    from tests.factories import make_staff

    viewer = make_staff("viewer")
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_salesession"))
    client.force_login(viewer)
    live = client.get(reverse("admin:plans_salesession_live", args=[drifting.pk])).content.decode()
    assert reverse("admin:plans_salesession_repair", args=[drifting.pk]) not in live
    assert client.post(reverse("admin:plans_salesession_repair", args=[drifting.pk])).status_code == 403
    assert redis_conn.llen(keys.stock(drifting.pk, drifting.test_items[0].pk)) == 11
