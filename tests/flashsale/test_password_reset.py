"""Password reset with Django's views: the mail arrives over real SMTP, its link sets a new password once."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from tests.support.smtp import body_of


def _reset_link(message, site_url: str) -> str:
    match = re.search(re.escape(site_url) + r"(/accounts/reset/\S+/)", body_of(message))
    assert match, body_of(message)
    return match.group(1)


def test_a_shopper_resets_a_forgotten_password(client, make_user, smtp_server, settings):
    settings.FLASHSALE_SITE_URL = "https://shop.example"
    make_user("nora", password="the-old-one-4821", email="nora@example.com")
    elsewhere = Client()
    assert elsewhere.login(username="nora", password="the-old-one-4821")

    assert "Forgot your password?" in client.get(reverse("login")).content.decode()
    sent = client.post(reverse("password_reset"), {"email": "nora@example.com"})
    assert sent.status_code == 302 and sent["Location"] == reverse("password_reset_done")

    (mail,) = smtp_server.wait_for("nora@example.com", subject_contains="Reset your FlashSale password")
    link = _reset_link(mail, "https://shop.example")
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "brand-new-7733", "new_password2": "brand-new-7733"}
    )
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")

    assert Client().login(username="nora", password="brand-new-7733")
    assert not Client().login(username="nora", password="the-old-one-4821")
    # Every other session of hers ended with the change.
    assert elsewhere.get(reverse("reservations-mine")).status_code == 302
    # The link works once.
    assert "This link no longer works" in client.get(link, follow=True).content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, db, smtp_server):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert smtp_server.received == []


def test_asking_again_and_again_is_limited(client, make_user, smtp_server, settings):
    settings.FLASHSALE_PASSWORD_RESET_RATE = "2/h"
    make_user("olga", email="olga@example.com")
    answers = [client.post(reverse("password_reset"), {"email": "olga@example.com"}).status_code for _ in range(3)]
    assert answers == [302, 302, 429]
    assert len(smtp_server.to("olga@example.com")) == 2
