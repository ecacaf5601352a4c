"""An operator's day in Django admin, in headless Chromium.

Log in, plan a session for today with two products picked through the autocomplete, load it into
Redis, watch its live page count a shopper's reservation and payment without reloading, then
reconcile the day against the sandbox gateway and read the report.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from ulid import ULID

from flashsale import clock
from plans.models import SaleItem, SaleSession
from reservations.checkout import checkout_url_for
from reservations.drain import drain_session
from reservations.holds import reserve_units
from tests.factories import make_product, make_provider
from tests.support.browser import BROWSER_MARKS, Screenshots, overflow

pytestmark = BROWSER_MARKS

SESSION_NAME = "Lunchtime outdoor deals"
PASSWORD = "Sale-journey-2931"
LIVE_COLUMNS = ("product", "place", "allocated", "adjusted", "remaining", "held", "paid", "returned", "rejected")


@pytest.fixture
def catalog(transactional_db):
    """What the providers delivered: the products the operator puts on sale."""
    provider = make_provider("alpine-outfitters")
    shoes = make_product(provider, city="Lyon", name="Trail running shoes", list_price=Decimal("120.00"))
    tent = make_product(provider, city="Berlin", name="Two-person tent", list_price=Decimal("240.00"))
    make_product(provider, city="Paris", name="Trail mix, 1 kg", list_price=Decimal("12.00"))
    return shoes, tent


@pytest.fixture
def fast_live_page(settings):
    # The live page's poll interval; shorter than the 3 s default so the journey waits less.
    settings.FLASHSALE_LIVE_POLL_MS = 400


def live_row(page, product_name: str) -> dict[str, str]:
    cells = page.locator("#live-table tbody").get_by_role("row", name=re.compile(product_name))
    return dict(zip(LIVE_COLUMNS, cells.get_by_role("cell").all_inner_texts(), strict=True))


def expect_live_counts(page, product_name: str, **counts: int) -> None:
    """Wait (the page polls) until the product's row shows ``counts``, e.g. ``held=1``."""
    row = page.locator("#live-table tbody").get_by_role("row", name=re.compile(product_name))
    for column, value in counts.items():
        expect(row.get_by_role("cell").nth(LIVE_COLUMNS.index(column))).to_have_text(str(value))


def pick_product(page, row, search: str, option: str) -> None:
    """Django admin's autocomplete (select2): open it, type in its search box, pick the result."""
    row.get_by_role("combobox").click()
    # The dropdown is appended to <body>; only the open one is there.
    dropdown = page.locator(".select2-dropdown")
    dropdown.get_by_role("searchbox").fill(search)
    dropdown.get_by_role("option", name=option).click()


def test_operator_plans_loads_watches_live_stock_and_reconciles_the_day(
    live_server, gateway, catalog, admin_user, make_user, new_context, eager_celery, fast_live_page, csp_violations
):
    shoes, _ = catalog
    shots = Screenshots("operator")
    now = clock.now().replace(microsecond=0)
    midnight = now.replace(hour=0, minute=0, second=0)
    # Today, opened a minute ago (or at midnight, just after it), for two hours.
    starts_at = max(now - timedelta(minutes=1), midnight)
    ends_at = now + timedelta(hours=2)

    operator = new_context()
    page = operator.new_page()
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    # The schedule models of Celery beat are not listed; their periodic tasks once, for superusers.
    expect(page.locator("#content-main").get_by_role("link", name="Periodic tasks").first).to_be_visible()
    for schedule in ("Intervals", "Crontabs", "Solar events", "Clocked"):
        expect(page.locator("#content-main").get_by_role("link", name=schedule)).to_have_count(0)
    shots(page, "admin-index")
    # The lists fit beside the navigation and the filters at 1280 px: nothing clipped or scrolled away.
    page.goto(f"{live_server.url}/admin/catalog/product/")
    assert overflow(page, ".results") == 0 and overflow(page) == 0
    shots(page, "products")
    page.goto(f"{live_server.url}/admin/")

    # Plan the session: name and window, then two items picked through the product autocomplete.
    page.get_by_role("link", name="Sale sessions").first.click()
    page.get_by_role("link", name="Add sale session").click()
    page.get_by_label("Name").fill(SESSION_NAME)
    fill_datetime(page, "starts_at", starts_at)
    fill_datetime(page, "ends_at", ends_at)
    rows = page.locator("tr.form-row.dynamic-items")
    pick_product(page, rows.nth(0), "trail", "Trail running shoes (Lyon)")
    rows.nth(0).locator("[name$=-quantity]").fill("5")
    rows.nth(0).locator("[name$=-sale_price]").fill("79.00")
    pick_product(page, rows.nth(1), "tent", "Two-person tent (Berlin)")
    rows.nth(1).locator("[name$=-quantity]").fill("3")
    rows.nth(1).locator("[name$=-sale_price]").fill("149.00")
    rows.nth(1).locator("[name$=-per_user_limit]").fill("2")
    shots(page, "session-form")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    session = SaleSession.objects.get(name=SESSION_NAME)
    assert session.state == SaleSession.State.DRAFT
    assert session.starts_at == starts_at and session.ends_at == ends_at
    assert sorted(session.items.values_list("product__name", "quantity", "sale_price", "per_user_limit")) == [
        ("Trail running shoes", 5, Decimal("79.00"), 1),
        ("Two-person tent", 3, Decimal("149.00"), 2),
    ]
    listed = page.get_by_role("row", name=re.compile(SESSION_NAME))
    expect(listed).to_contain_text("Draft")
    shots(page, "session-saved")

    # Load it into Redis now: the action asks first, then reports what it loaded.
    listed.get_by_role("checkbox").check()
    page.get_by_role("combobox", name=re.compile("^Action:")).select_option(
        label="Load selected sessions into Redis now"
    )
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_text("Load these sessions into Redis now?")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text=SESSION_NAME)).to_be_visible()
    shots(page, "load-confirmation")
    page.get_by_role("button", name="Yes, I’m sure").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Loaded: session {session.pk}: 2 items, 8 units allocated; pushed 8 units for 2 items; state live"
    )
    listed = page.get_by_role("row", name=re.compile(SESSION_NAME))
    expect(listed).to_contain_text("Live")
    cells = listed.get_by_role("cell")
    # name, window, state, items, allocated, remaining, held, paid, live
    expect(cells.nth(3)).to_have_text("2")
    expect(cells.nth(4)).to_have_text("8")
    expect(cells.nth(5)).to_have_text("8")
    expect(cells.nth(8)).to_have_text("live")  # the last column is whole, not clipped to "l"
    assert overflow(page, ".results") == 0 and overflow(page) == 0
    shots(page, "session-loaded")

    # A loaded session's window and quantities show as text, with the reason, instead of failing on save.
    listed.get_by_role("link", name=SESSION_NAME).click()
    expect(page.get_by_text("its window, products and quantities are locked")).to_be_visible()
    expect(page.locator("[name=starts_at_0]")).to_have_count(0)
    expect(page.locator("[name$=-quantity]")).to_have_count(0)
    expect(page.locator("[name$=-sale_price]").first).to_be_editable()
    shots(page, "session-locked")
    page.go_back()
    listed = page.get_by_role("row", name=re.compile(SESSION_NAME))

    # The live page: everything on sale, nothing held yet.
    listed.get_by_role("link", name="live").click()
    expect(page.get_by_role("heading", name=f"Live: {SESSION_NAME}")).to_be_visible()
    assert live_row(page, "Trail running shoes") == {
        "product": "Trail running shoes",
        "place": "Lyon",
        "allocated": "5",
        "adjusted": "0",
        "remaining": "5",
        "held": "0",
        "paid": "0",
        "returned": "0",
        "rejected": "0",
    }
    expect(page.get_by_text("No reservations yet")).to_be_visible()
    # One time zone, named once, and the server's words for where the figures come from.
    expect(page.locator(".live-status")).to_contain_text("times in UTC")
    expect(page.locator(".live-status")).to_contain_text("live figures, updated")
    expect(page.locator(".live-status")).not_to_contain_text("redis")
    shots(page, "live-before")
    page.evaluate("window.notReloaded = true")

    # A shopper reserves one pair of shoes: the open page shows it held by itself.
    shopper = make_user("camille", password=PASSWORD)
    item = SaleItem.objects.get(session=session, product=shoes)
    held = reserve_units(session.pk, item.pk, user_id=shopper.pk, quantity=1, txn_id=str(ULID()), now=clock.now())
    expect_live_counts(page, "Trail running shoes", remaining=4, held=1, paid=0)
    expect_live_counts(page, "Two-person tent", remaining=3, held=0, paid=0)
    # The per-minute chart counts what the drainer persisted (it runs continuously in production).
    drain_session(session.pk)
    expect(page.get_by_text("No reservations yet")).to_have_count(0)
    shots(page, "live-held")

    # The shopper pays on the gateway; the webhook turns the hold into a payment on the live page.
    buyer = new_context().new_page()
    buyer.goto(f"{live_server.url}/accounts/login/")
    buyer.get_by_label("Username").fill("camille")
    buyer.get_by_label("Password").fill(PASSWORD)
    buyer.get_by_role("button", name="Log in").click()
    expect(buyer.get_by_role("heading", name="Today's flash sales")).to_be_visible()
    buyer.goto(checkout_url_for(held))
    expect(buyer.get_by_role("heading", name="Confirm your payment")).to_be_visible()
    expect(buyer.get_by_role("table")).to_contain_text("79.00 EUR")
    buyer.get_by_role("button", name="Pay").click()
    expect(buyer.get_by_role("heading", name="Payment confirmed")).to_be_visible(timeout=15_000)

    expect_live_counts(page, "Trail running shoes", remaining=4, held=0, paid=1)
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator("#funnel tr[data-step=paid] td").nth(1)).to_have_text("1")
    expect(page.locator("#revenue")).to_contain_text("79.00 EUR")
    shots(page, "live-paid")

    # Reconcile today: our paid transaction against the gateway's order.
    drain_session(session.pk)
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Reconciliation runs").first.click()
    page.get_by_role("link", name="Run now for a date").click()
    day = clock.now().date()
    page.get_by_label("Day (UTC)").fill(day.isoformat())
    shots(page, "reconciliation-run-now")
    page.get_by_role("button", name="Run reconciliation").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Reconciliation of {day} is queued")
    run_row = page.get_by_role("row", name=re.compile("Clean"))
    expect(run_row).to_have_count(1)
    assert overflow(page, ".results") == 0 and overflow(page) == 0
    shots(page, "reconciliation-runs")

    run_row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=f"Reconciliation of {day}")).to_be_visible()
    expect(page.get_by_text("Clean", exact=True)).to_be_visible()
    # Listed and paid on each side, matched, in discrepancies: one paid order of 79.00 EUR, matched.
    assert report_totals(page) == {
        "Ours": ["1", "1", "79.00"],
        "Gateway (sandbox)": ["1", "1", "79.00"],
        "Matched": ["", "1", "79.00"],
        "In discrepancies": ["", "0", "0.00"],
    }
    expect(page.get_by_text("No discrepancies.")).to_be_visible()
    assert overflow(page) == 0  # the report fits the window too
    shots(page, "reconciliation-report")

    # Every admin page above ran under the Content-Security-Policy without breaking it once.
    assert csp_violations == []


def report_totals(page) -> dict[str, list[str]]:
    """The report's totals table: row heading -> its cells (listed, paid, paid amount)."""
    table = page.locator("table.recon-totals tbody")
    totals = {}
    for row in table.get_by_role("row").all():
        heading, *cells = row.locator("th, td").all_inner_texts()
        totals[heading.strip()] = [cell.strip() for cell in cells]
    return totals


def fill_datetime(page, field: str, when: datetime) -> None:
    """Admin's split date/time widget (its inputs are named ``<field>_0`` and ``<field>_1``)."""
    page.locator(f"[name={field}_0]").fill(when.strftime("%Y-%m-%d"))
    page.locator(f"[name={field}_1]").fill(when.strftime("%H:%M:%S"))
