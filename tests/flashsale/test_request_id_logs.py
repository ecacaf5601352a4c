"""JSON log lines carry one request id from the view to the Celery task the view queued: the site under
gunicorn and a real Celery worker, both logging JSON lines, with the test's Redis as the broker."""

from __future__ import annotations

import json
import sys

import pytest
import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cache import SessionStore
from django.utils.crypto import get_random_string

from catalog.models import Provider
from tests.factories import make_provider, make_staff
from tests.support.polling import wait_until
from tests.support.processes import site_environment

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REQUEST_ID = "req-from-the-operator-0001"


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def logged_in_browser(user) -> requests.Session:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    csrf = get_random_string(32)
    browser = requests.Session()
    browser.cookies.set(settings.SESSION_COOKIE_NAME, store.session_key)
    browser.cookies.set(settings.CSRF_COOKIE_NAME, csrf)
    browser.headers["X-CSRFToken"] = csrf
    return browser


def test_the_request_id_travels_from_the_view_to_the_task(processes, transactional_db, tmp_path):
    json_logs = {"FLASHSALE_LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "CATALOG_FEED_RETRIES": "0"}
    site = processes.gunicorn(redis_url=settings.REDIS_URL, workers=1, **json_logs)
    provider = make_provider(
        "log-feed", delivery=Provider.Delivery.PULL, feed_url="http://127.0.0.1:1/feed.json", feed_format="json"
    )
    browser = logged_in_browser(make_staff("log-operator", is_superuser=True))

    response = browser.post(
        f"{site.url}/admin/catalog/provider/",
        data={
            "action": "sync_now",
            "_selected_action": str(provider.pk),
            "csrfmiddlewaretoken": browser.headers["X-CSRFToken"],
        },
        headers={"X-Request-ID": REQUEST_ID, "Referer": f"{site.url}/admin/catalog/provider/"},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:500]
    assert response.headers["X-Request-ID"] == REQUEST_ID

    worker = processes.popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "flashsale",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=site_environment(redis_url=settings.REDIS_URL, **json_logs),
        name="worker",
    )
    worker_log = tmp_path / "worker.log"

    def task_line() -> dict | None:
        assert worker.poll() is None, worker_log.read_text()[-3000:]
        return next(
            (
                line
                for line in json_lines(worker_log.read_text())
                if line.get("logger") == "catalog.tasks" and "finished" in line.get("message", "")
            ),
            None,
        )

    line = wait_until(task_line, what="the worker to log the pull it was queued for", timeout=60)
    assert line["request_id"] == REQUEST_ID
    assert line["task_name"] == "catalog.tasks.sync_provider" and line["task_id"]
    # Every line the task logged carries it: the failed fetch's warning too.
    task_lines = [entry for entry in json_lines(worker_log.read_text()) if entry.get("task_id") == line["task_id"]]
    assert {entry["request_id"] for entry in task_lines} == {REQUEST_ID}
    assert any(entry["logger"] == "catalog.sync" for entry in task_lines)

    view_lines = [entry for entry in json_lines(site.log_text()) if entry.get("request_id") == REQUEST_ID]
    assert any(
        entry["logger"] == "catalog.admin" and "queued a pull of log-feed" in entry["message"] for entry in view_lines
    )
