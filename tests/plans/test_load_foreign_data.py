"""A load recognises another database's session left in Redis under the same id, and says what it does with it.

The scenario: the database was recreated (a restore, a fresh install on an old Redis) and a new
session 1 with an item 1 was planned, while Redis still holds the old session 1 and its buyers.
Without a stamp the load found "1 item already loaded", pushed 0 units, and shoppers who never
bought were refused "Limit reached".
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from flashsale.store import keys
from plans.exceptions import SessionNotLoadable
from plans.loading import load_session_into_redis
from plans.models import SaleItem, SaleSession
from reservations.holds import reserve_units
from reservations.refusals import LimitReached
from tests.factories import make_item, make_session

pytestmark = pytest.mark.django_db


def _recreated(old: SaleSession, clock, **window) -> SaleSession:
    """Drop the old rows and plan a new session with the same session and item ids (a new database's 1 and 1)."""
    ids = (old.pk, [item.pk for item in old.items.order_by("pk")], old.items.first().product)
    # As a recreated database has it: the rows are simply gone (the model refuses to delete a loaded session).
    SaleItem.objects.filter(session_id=old.pk).delete()
    SaleSession.objects.filter(pk=old.pk).delete()
    clock.advance(seconds=1)  # the new database creates its rows later
    session = make_session(pk=ids[0], **window)
    for item_id in ids[1]:
        make_item(session, ids[2], pk=item_id, quantity=5, per_user_limit=1)
    return session


def _sold_one(clock) -> tuple[SaleSession, int]:
    old = make_session(lasts=timedelta(hours=1))
    item = make_item(old, quantity=5, per_user_limit=1)
    load_session_into_redis(old)
    reserve_units(old.pk, item.pk, user_id=7, quantity=1, txn_id="A" * 26, now=clock.now())
    return old, item.pk


def test_another_databases_live_session_is_refused_saying_so(redis_conn, clock):
    old, item_id = _sold_one(clock)
    new = _recreated(old, clock)

    with pytest.raises(SessionNotLoadable) as refused:
        load_session_into_redis(new)

    assert "another database's session" in refused.value.message and "--replace-foreign" in refused.value.message
    assert redis_conn.llen(keys.stock(new.pk, item_id)) == 4  # nothing changed
    new.refresh_from_db()
    assert new.loaded_at is None
    with pytest.raises(CommandError, match="may still be live"):
        call_command("load_session", str(new.pk))


def test_replacing_it_on_request_gives_the_new_session_its_own_stock_and_buyers(redis_conn, clock):
    old, item_id = _sold_one(clock)
    new = _recreated(old, clock)

    result = load_session_into_redis(new, replace_foreign=True)

    assert (result.items_pushed, result.units_pushed) == (1, 5)
    assert "another database's session" in result.replaced and "replaced" in result.describe()
    assert redis_conn.llen(keys.stock(new.pk, item_id)) == 5
    # The old database's buyer is a stranger to the new session: not "Limit reached".
    assert reserve_units(new.pk, item_id, user_id=7, quantity=1, txn_id="B" * 26, now=clock.now()).units


def test_another_databases_session_whose_window_is_over_is_replaced_on_its_own(redis_conn, clock):
    old, item_id = _sold_one(clock)
    clock.advance(hours=2)  # the old session is over; the new database plans one now
    new = _recreated(old, clock, lasts=timedelta(hours=1))

    result = load_session_into_redis(new)

    assert result.units_pushed == 5 and result.replaced
    assert redis_conn.llen(keys.stock(new.pk, item_id)) == 5


def test_this_databases_session_loads_again_without_pushing_anything(redis_conn, clock):
    old, item_id = _sold_one(clock)
    again = load_session_into_redis(old)
    assert (again.units_pushed, again.replaced) == (0, "")
    with pytest.raises(LimitReached):
        reserve_units(old.pk, item_id, user_id=7, quantity=1, txn_id="C" * 26, now=clock.now())


def test_a_session_loaded_before_stamps_existed_is_kept_as_ours(redis_conn, clock):
    old, item_id = _sold_one(clock)
    redis_conn.delete(keys.stamp(old.pk))  # as a load by the previous release left it
    old.refresh_from_db()
    assert old.loaded_at is not None

    again = load_session_into_redis(old)

    assert (again.units_pushed, again.replaced) == (0, "")
    assert redis_conn.llen(keys.stock(old.pk, item_id)) == 4
    assert redis_conn.exists(keys.stamp(old.pk))
