"""What every page shows of the site: its name (never the server's address), an icon, its own 404 page."""

from __future__ import annotations

from django.urls import reverse


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and body[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_the_login_page_names_the_site_not_its_host(client, db):
    html = client.get(reverse("login"), HTTP_HOST="127.0.0.1").content.decode()
    assert "<title>Log in · FlashSale</title>" in html
    assert "⚡ FlashSale</a>" in html and "127.0.0.1" not in html


def test_an_unknown_sale_is_the_sites_own_404_in_development_too(client, db, settings):
    settings.DEBUG = True
    response = client.get(reverse("reservations-sale", args=[999]))
    html = response.content.decode()
    assert response.status_code == 404
    assert "No such sale" in html and "Back to today's sales" in html
    assert "Technical" not in html and "URLconf" not in html  # not Django's debug page


def test_an_unknown_address_is_the_sites_404_page(client, db, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and "Page not found" in response.content.decode()
    assert "⚡ FlashSale" in response.content.decode()
