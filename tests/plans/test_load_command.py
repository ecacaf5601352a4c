"""``manage.py load_session ID`` loads from the shell and says what it did."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from flashsale.store import keys
from tests.factories import make_item, make_session

pytestmark = pytest.mark.django_db


def test_command_loads_and_reports(clock, redis_conn):
    session = make_session(opens_in=timedelta(hours=1))
    item = make_item(session, quantity=25)
    out = StringIO()

    call_command("load_session", str(session.pk), stdout=out)
    call_command("load_session", str(session.pk), stdout=out)

    lines = out.getvalue().splitlines()
    assert "pushed 25 units for 1 items" in lines[0]
    assert "pushed 0 units" in lines[1] and "1 items already loaded" in lines[1]
    assert redis_conn.llen(keys.stock(session.pk, item.pk)) == 25


def test_command_explains_refusals(clock):
    with pytest.raises(CommandError, match="No sale session"):
        call_command("load_session", "999999")
    empty = make_session(opens_in=timedelta(hours=1))
    with pytest.raises(CommandError, match="at least one item"):
        call_command("load_session", str(empty.pk))
