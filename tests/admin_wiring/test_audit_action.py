"""“Audit stock now” asks first, then audits in the request and says balanced or drifting, with numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reservations.audit import drifting_sessions, latest_report
from tests.factories import make_item, make_session
from tests.support.admin_actions import run_action

pytestmark = pytest.mark.django_db


def test_audit_asks_first_and_changes_nothing_until_confirmed(operator_client, live_session):
    page = run_action(operator_client, "audit_stock_now", [live_session], confirm=False)

    assert page.status_code == 200
    assert "Yes, I’m sure" in page.content.decode()
    assert latest_report(live_session.pk) is None


def test_audit_reports_a_balanced_session(operator_client, live_session):
    page = run_action(operator_client, "audit_stock_now", [live_session], confirm=True).content.decode()

    assert "Live now: balanced (2 products and 0 shoppers&#x27; counts checked)." in page
    assert latest_report(live_session.pk).ok


def test_audit_finds_an_injected_extra_unit(operator_client, live_session, inject_extra_unit, clock):
    first = live_session.test_items[0]
    inject_extra_unit(live_session, first)
    draft = make_session(opens_in=timedelta(hours=2), name="Still a draft")
    make_item(draft)

    page = run_action(operator_client, "audit_stock_now", [live_session, draft], confirm=True).content.decode()

    assert "Live now: drift found." in page
    # In the operators' words: the product by name, how many units, once.
    assert f"{first.product.name}: 1 unit too many could sell (11 accounted for, 10 expected)" in page
    assert "list 11 + held 0" not in page
    assert "Still a draft is draft: only a loaded or live session can be audited." in page
    assert drifting_sessions() == [live_session.pk]
    report = latest_report(live_session.pk)
    assert [item.item_id for item in report.drifting_items] == [first.pk]
