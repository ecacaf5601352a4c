"""How many Redis commands one reserve request costs, counted with MONITOR on the test database."""

from __future__ import annotations

from django.urls import reverse

from tests.support.passes import give_pass
from tests.support.redis_monitor import commands_during


def test_a_reserve_request_costs_one_command(shopper, load_sale, redis_conn, clock):
    sale = load_sale(quantities=[5, 5], limit=2)
    give_pass(shopper, sale.id, now=clock.now())
    shopper.get(reverse("reservations-sale", args=[sale.id]))  # mints the TransactionID, writes the ticket
    first = reverse("reservations-reserve", args=[sale.id, sale.items[0].pk])
    second = reverse("reservations-reserve", args=[sale.id, sale.items[1].pk])

    reserved = commands_during(redis_conn, lambda: shopper.post(first, {"quantity": "1"}))
    again = commands_during(redis_conn, lambda: shopper.post(second, {"quantity": "1"}))
    refused = commands_during(redis_conn, lambda: shopper.post(second, {"quantity": "2"}))

    # One script reads the ticket, rate-limits and decides: no session read, no session write.
    assert reserved == again == ["EVALSHA"]
    assert refused[0] == "EVALSHA" and "EVALSHA" not in refused[1:]


def test_without_a_ticket_the_session_decides_and_stores_one(shopper, load_sale, redis_conn, clock):
    sale = load_sale(quantities=[5, 5], limit=2)
    give_pass(shopper, sale.id, now=clock.now())
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    redis_conn.delete(*redis_conn.keys(f"*{{s:{sale.id}}}:ticket:*"))
    first = reverse("reservations-reserve", args=[sale.id, sale.items[0].pk])
    second = reverse("reservations-reserve", args=[sale.id, sale.items[1].pk])

    slow = commands_during(redis_conn, lambda: shopper.post(first, {"quantity": "1"}))
    fast = commands_during(redis_conn, lambda: shopper.post(second, {"quantity": "1"}))

    # The script says "no ticket", the session is read, the second script call stores the ticket.
    assert slow == ["EVALSHA", "GET", "EVALSHA"]
    assert fast == ["EVALSHA"]


def test_the_token_names_the_product_and_the_sale_at_no_extra_command(shopper, load_sale, redis_conn, clock):
    """The names come from the display data this process keeps since it showed the sale page."""
    from urllib.parse import parse_qs, urlsplit

    from reservations.tokens import verify_for_site

    sale = load_sale(quantities=[5])
    give_pass(shopper, sale.id, now=clock.now())
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    url = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    responses = []
    commands = commands_during(redis_conn, lambda: responses.append(shopper.post(url, {"quantity": "1"})))

    assert commands == ["EVALSHA"]
    token = parse_qs(urlsplit(responses[0]["Location"]).query)["token"][0]
    claims = verify_for_site(token, now=clock.now().timestamp())
    assert (claims.item_name, claims.session_name) == (sale.item.product.name, sale.session.name)
