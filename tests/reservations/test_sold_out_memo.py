"""The sold-out memo: clicks on an item a process saw sold out are refused from memory, never reserved."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from flashsale.store import keys
from flashsale.store.replies import user_txn_ids
from plans.adjusting import adjust_stock
from reservations.holds import release_hold, reserve_units
from tests.support.passes import give_pass
from tests.support.redis_monitor import commands_during
from tests.support.sales import assert_stock_invariant


def _ready_shopper(make_user, sale, clock) -> Client:
    """A logged-in, verified, admitted shopper who opened the sale page (so holds a reserve ticket)."""
    client = Client()
    client.force_login(make_user())
    give_pass(client, sale.id, now=clock.now())
    assert client.get(reverse("reservations-sale", args=[sale.id])).status_code == 200
    return client


def _reserve(client, sale):
    return client.post(reverse("reservations-reserve", args=[sale.id, sale.item.pk]), {"quantity": "1"})


def test_after_a_sold_out_answer_clicks_are_refused_without_redis_or_session(load_sale, make_user, clock, redis_conn):
    sale = load_sale(quantities=[1])
    first, second, third = (_ready_shopper(make_user, sale, clock) for _ in range(3))
    assert _reserve(first, sale).status_code == 303
    learnt = _reserve(second, sale)  # Redis says sold out: the process remembers
    assert learnt.status_code == 409

    answered = []
    commands = commands_during(redis_conn, lambda: answered.append(_reserve(third, sale)))

    assert commands == []  # no EVALSHA, no session GET: memory answered
    assert answered[0].status_code == 409 and answered[0].content == learnt.content
    assert "Sold out" in answered[0].content.decode()
    # An anonymous click gets the same answer: sold out comes before "log in".
    anonymous = _reserve(Client(), sale)
    assert anonymous.status_code == 409 and anonymous.content == learnt.content


def test_the_memo_lasts_a_second_then_redis_decides_again(load_sale, make_user, clock, redis_conn, settings):
    settings.FLASHSALE_SOLD_OUT_MEMO_SECONDS = 1.0
    sale = load_sale(quantities=[1])
    buyer, late = _ready_shopper(make_user, sale, clock), _ready_shopper(make_user, sale, clock)
    assert _reserve(buyer, sale).status_code == 303
    assert _reserve(late, sale).status_code == 409
    clock.advance(seconds=1)
    commands = commands_during(redis_conn, lambda: _reserve(late, sale))
    assert commands == ["EVALSHA"]  # expired: asked Redis again (still sold out)


def test_memory_never_reserves_and_units_that_come_back_are_on_sale_within_a_second(
    load_sale, make_user, clock, redis_conn
):
    sale = load_sale(quantities=[1], limit=1)
    buyer, waiting = _ready_shopper(make_user, sale, clock), _ready_shopper(make_user, sale, clock)
    assert _reserve(buyer, sale).status_code == 303
    assert _reserve(waiting, sale).status_code == 409

    # The hold is cancelled: its unit is back in Redis, but this process still remembers "sold out".
    buyer_id = int(buyer.session["_auth_user_id"])
    (txn_id,) = user_txn_ids(redis_conn.hgetall(keys.user(sale.id, buyer_id)))
    assert release_hold(sale.id, txn_id, reason="cancelled", now=clock.now())
    before = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert before["remaining"] == 1
    assert _reserve(waiting, sale).status_code == 409  # refused from memory...
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk) == before  # ...and nothing taken

    clock.advance(seconds=1)
    assert _reserve(waiting, sale).status_code == 303  # on sale again
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["remaining"] == 0


def test_a_snapshot_showing_units_again_clears_the_memo(load_sale, make_user, clock, redis_conn, settings):
    settings.FLASHSALE_SOLD_OUT_MEMO_SECONDS = 60.0  # long: only the snapshot can clear it here
    sale = load_sale(quantities=[1], limit=1)
    buyer, waiting = _ready_shopper(make_user, sale, clock), _ready_shopper(make_user, sale, clock)
    assert _reserve(buyer, sale).status_code == 303
    assert _reserve(waiting, sale).status_code == 409
    adjust_stock(sale.item, delta=1, reason="found one more")
    assert _reserve(waiting, sale).status_code == 409  # the memo still holds
    clock.advance(seconds=1)
    # The shared poll reads a fresh snapshot: it shows a unit, so the memo is dropped.
    assert Client().get(reverse("reservations-stock", args=[sale.id])).json()["items"] == {str(sale.item.pk): 1}
    assert _reserve(waiting, sale).status_code == 303


def test_a_snapshot_showing_zero_teaches_the_memo(load_sale, make_user, clock, redis_conn):
    sale = load_sale(quantities=[1], limit=1)
    reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id="A" * 26, now=clock.now())
    late = _ready_shopper(make_user, sale, clock)  # its sale page read the snapshot: 0 left
    assert commands_during(redis_conn, lambda: _reserve(late, sale)) == []


def test_a_refusal_from_memory_is_counted_for_metrics(load_sale, make_user, clock, redis_conn):
    from prometheus_client import REGISTRY

    sale = load_sale(quantities=[1])
    first, second, third = (_ready_shopper(make_user, sale, clock) for _ in range(3))
    labels = {"session": str(sale.id), "item": str(sale.item.pk)}

    def from_memory() -> float:
        return REGISTRY.get_sample_value("flashsale_sale_refusals_from_memory_total", labels) or 0.0

    assert _reserve(first, sale).status_code == 303
    before = from_memory()
    assert _reserve(second, sale).status_code == 409  # Redis refused it: counted there, not here
    assert from_memory() == before
    commands = commands_during(redis_conn, lambda: _reserve(third, sale))
    assert commands == []  # counting it added no Redis command
    assert from_memory() == before + 1
