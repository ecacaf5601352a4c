"""Shoppers pay while our site is down: the gateway's retries deliver later; what never arrives, reconciliation finds.

Our site runs under gunicorn, the sandbox gateway as its own process; shoppers reserve over HTTP,
follow the 303 to the gateway's checkout and press Pay. The site is stopped before the gateway
can deliver, so every delivery fails; once the site is back the retries land. One order's
webhook is dropped by an injected fault: reconciliation of the day reports it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from reconciliation.matching import reconcile_day
from reconciliation.models import Discrepancy
from reservations.drain import drain_session
from reservations.models import Transaction
from tests.support.processes import GUNICORN_PORTS, free_port, wait_for
from tests.support.sales import assert_stock_invariant
from tests.support.shoppers import make_shoppers, open_sale, reserve_over_http

PAY_FORM = re.compile(
    r'<form method="post" action="(?P<action>/checkout/[^"]+/pay)">\s*'
    r'<input type="hidden" name="nonce" value="(?P<nonce>[^"]+)">'
)

pytestmark = pytest.mark.postgres


@pytest.mark.slow
def test_payments_made_while_the_site_is_down_are_delivered_later_and_a_lost_one_is_reconciled(
    transactional_db, processes, site_redis_url, redis_conn, settings
):
    sale = open_sale(quantities=(10,), limit=1, price=Decimal("25.00"))
    shoppers = make_shoppers(4, sale_ids=[sale.id])
    port = free_port(GUNICORN_PORTS)
    gateway = processes.sandbox(site_url=f"http://127.0.0.1:{port}")
    site = processes.gunicorn(redis_url=site_redis_url, workers=2, gateway_url=gateway.url, port=port)
    settings.FLASHSALE_GATEWAY_URL = gateway.url

    checkouts = []
    for customer in shoppers:
        browser = customer.browser()
        attempt = reserve_over_http(browser, site.url, sale.id, sale.item.pk, user_id=customer.user_id)
        assert attempt.status == 303, attempt
        location = browser.post(
            f"{site.url}/sessions/{sale.id}/items/{sale.item.pk}/reserve/",
            data={"quantity": "1"},
            allow_redirects=False,
        ).headers["Location"]  # a double submit: the same reservation, the same checkout link
        assert location.startswith(f"{gateway.url}/checkout/?token=")
        page = requests.get(location, timeout=5)
        assert page.status_code == 200, page.text
        form = PAY_FORM.search(page.text)
        checkouts.append((attempt.txn_id, form["action"], form["nonce"]))
    lost_txn = checkouts[-1][0]
    gateway.add_fault("drop_webhook", txn_id=lost_txn)

    site.stop()  # our site goes down before any payment is announced
    for _, action, nonce in checkouts:
        paid = requests.post(f"{gateway.url}{action}", data={"nonce": nonce}, allow_redirects=False, timeout=5)
        assert paid.status_code == 303, paid.text
    wait_for(
        lambda: (
            (d := gateway.deliveries()) and len(d) == 3 and all(x["attempts"] >= 2 and not x["delivered_at"] for x in d)
        ),
        what="every delivery to fail at least twice while the site is down",
    )

    site.start()
    deliveries = wait_for(
        lambda: (d := gateway.deliveries()) and all(x["delivered_at"] for x in d) and d,
        what="the retries to deliver once the site is back",
    )
    # 409 is our "already have this event": an attempt that timed out while the restarted workers were
    # still booting had been applied, and its retry was refused as a replay (which ends the delivery).
    assert {x["last_status"] for x in deliveries} <= {200, 409}, deliveries

    drain_session(sale.id)
    rows = {t.txn_id: t for t in Transaction.objects.filter(session=sale.session)}
    assert set(rows) == {txn for txn, _, _ in checkouts}
    assert {t: r.status for t, r in rows.items() if t != lost_txn} == dict.fromkeys(set(rows) - {lost_txn}, "paid")
    assert rows[lost_txn].status == "reserved"  # we never heard of its payment
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["paid"], figures["held"]) == (3, 1)

    day = datetime.now(UTC).date()
    taken = [order for order in gateway.orders_on(day) if order["status"] == "paid"]
    assert len(taken) == 4
    run = reconcile_day(day)
    found = list(run.discrepancies.values_list("kind", "txn_id"))
    assert found == [(Discrepancy.Kind.MISSING_HERE, lost_txn)]
    # Every payment the gateway took ends paid here or flagged by reconciliation.
    flagged = {txn for _, txn in found}
    for order in taken:
        assert rows[order["txn_id"]].status == "paid" or order["txn_id"] in flagged, order
