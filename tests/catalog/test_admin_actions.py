"""Operators trigger a pull ("sync now") and issue API keys from the provider changelist."""

import re

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse

from catalog.keys import key_matches
from catalog.models import Product, Provider, SyncRun
from tests.factories import make_provider
from tests.support.product_records import as_json, product_record


def test_sync_now_pulls_the_selected_pull_providers(admin_client, feed_server, celery_eager):
    puller = make_provider("puller", delivery="pull", feed_url=feed_server.put("/p.json", as_json([product_record(1)])))
    pusher = make_provider("pusher")

    response = admin_client.post(
        reverse("admin:catalog_provider_changelist"),
        {"action": "sync_now", ACTION_CHECKBOX_NAME: [puller.pk, pusher.pk]},
        follow=True,
    )

    assert response.status_code == 200
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Queued a pull for puller" in t for t in texts)
    assert any("Skipped 1 push provider" in t for t in texts)
    run = SyncRun.objects.get()
    assert (run.provider, run.trigger, run.status) == (puller, "operator", "ok")
    assert Product.objects.get().provider == puller


def test_issue_key_asks_for_confirmation_then_shows_the_key_once(admin_client):
    provider = make_provider("partner")
    url = reverse("admin:catalog_provider_changelist")
    data = {"action": "issue_api_key", ACTION_CHECKBOX_NAME: [provider.pk]}

    confirm = admin_client.post(url, data)
    assert confirm.status_code == 200
    assert b"Yes, issue new keys" in confirm.content
    assert Provider.objects.get().api_key_hash == ""

    done = admin_client.post(url, {**data, "confirmed": "yes"}, follow=True)
    message = next(str(m) for m in get_messages(done.wsgi_request) if "New API key" in str(m))
    key = re.search(r"(fsk_\S+)$", message).group(1)
    assert key_matches(Provider.objects.get(), key)
