"""/healthz is liveness (touches no store); /readyz checks every dependency and hides error texts
from the public. The same checks with the dependencies really stopped: test_readiness_processes.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from flashsale.store import keys
from flashsale.tasks import stamp_heartbeat
from reservations import drain
from reservations.holds import reserve_units
from tests.factories import load_live_session, make_staff
from tests.support.redis_monitor import commands_during


@pytest.fixture
def heartbeat(redis_conn):
    stamp_heartbeat()


def test_healthz_is_liveness_and_touches_no_store(client, redis_conn):
    # No database access is allowed in this test: a query would raise.
    responses = []
    sent = commands_during(redis_conn, lambda: responses.append(client.get(reverse("healthz"))))
    assert sent == []
    response = responses[0]
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_readyz_ok_when_every_dependency_answers(client, heartbeat):
    response = client.get(reverse("readyz"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {name: "ok" for name in ("database", "redis", "sale_redis", "broker", "beat", "drain")}
    assert "details" not in body


@pytest.mark.django_db(transaction=True)
def test_readyz_503_without_a_heartbeat_names_beat_but_shows_no_details(client, redis_conn):
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["beat"]
    assert body["checks"]["beat"] == "down"
    assert "details" not in body
    assert "beat or the workers" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_old_heartbeat_is_down_and_a_fresh_one_ok(client, redis_conn, settings):
    import time

    stamp_heartbeat(now=time.time() - settings.FLASHSALE_BEAT_HEARTBEAT_MAX_AGE_SECONDS - 5)
    assert client.get(reverse("readyz")).json()["checks"]["beat"] == "down"
    stamp_heartbeat()
    assert client.get(reverse("readyz")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_staff_and_the_metrics_token_see_the_details(client, redis_conn, settings):
    settings.FLASHSALE_METRICS_TOKEN = "probe-token"
    public = client.get(reverse("readyz")).json()
    assert "details" not in public
    with_token = client.get(reverse("readyz"), HTTP_AUTHORIZATION="Bearer probe-token").json()
    assert with_token["details"]["beat"]["detail"] == "no heartbeat: beat or the workers are not running"
    assert with_token["details"]["database"]["detail"] == "ok"
    wrong = client.get(reverse("readyz"), HTTP_AUTHORIZATION="Bearer not-it").json()
    assert "details" not in wrong
    client.force_login(make_staff("probe-staff"))
    assert "details" in client.get(reverse("readyz")).json()


@pytest.mark.django_db(transaction=True)
def test_drain_lag_past_the_limit_is_not_ready_until_the_drainer_catches_up(client, heartbeat, settings, redis_conn):
    settings.FLASHSALE_READINESS_MAX_DRAIN_LAG_SECONDS = 0
    session, item, _ = load_live_session()
    user = _user()
    reserve_units(session.pk, item.pk, user_id=user.pk, quantity=1, txn_id="01JDRAINLAG0000000000000001", now=_now())
    assert redis_conn.xlen(keys.stream(session.pk)) == 1
    # Some time passes in Redis's own clock before the probe: the event is older than 0 seconds.
    response = _wait_for_status(client, 503)
    assert response.json()["failing"] == ["drain"]
    assert drain.drain_session(session.pk) == 1
    assert client.get(reverse("readyz")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_web_scope_leaves_out_beat_broker_and_drain(client, redis_conn):
    response = client.get(reverse("readyz") + "?scope=web")
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database", "redis", "sale_redis"}


def test_a_check_that_hangs_is_down_at_the_deadline(settings, monkeypatch):
    import threading

    from flashsale import readiness

    release = threading.Event()
    monkeypatch.setitem(readiness.CHECKS, "redis", lambda: release.wait(5))
    try:
        (result,) = readiness.run_checks(("redis",), timeout=0.2)
    finally:
        release.set()
    assert not result.ok
    assert result.detail == "no answer within 0.2s"


def _user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username="lagging")


def _now():
    from flashsale import clock

    return clock.now()


def _wait_for_status(client, status: int):
    from tests.support.polling import wait_until

    responses = []

    def answered() -> bool:
        responses.append(client.get(reverse("readyz")))
        return responses[-1].status_code == status

    wait_until(answered, what=f"/readyz to answer {status}")
    return responses[-1]
