"""Items pick their product with autocomplete once the catalog's ProductAdmin is searchable."""

from __future__ import annotations

import pytest
from django.contrib import admin

from catalog.models import Product
from plans.admin import SaleItemInline, SaleSessionAdmin
from plans.models import SaleSession
from tests.factories import make_product


def _inline(site: admin.AdminSite) -> SaleItemInline:
    site.register(SaleSession, SaleSessionAdmin)
    return SaleItemInline(SaleSession, site)


def test_autocomplete_when_products_are_searchable(rf):
    site = admin.AdminSite(name="picker-searchable")
    site.register(Product, type("SearchableProductAdmin", (admin.ModelAdmin,), {"search_fields": ["name", "place"]}))
    inline = _inline(site)
    request = rf.get("/")
    assert inline.get_autocomplete_fields(request) == ("product",)
    assert inline.get_raw_id_fields(request) == ()


def test_raw_id_until_products_are_searchable(rf):
    inline = _inline(admin.AdminSite(name="picker-bare"))
    request = rf.get("/")
    assert inline.get_autocomplete_fields(request) == ()
    assert inline.get_raw_id_fields(request) == ("product",)


@pytest.mark.django_db
def test_autocomplete_finds_products_by_place(admin_client):
    lyon = make_product(city="Lyon", name="Bike")
    make_product(city="Berlin", name="Lamp")
    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "plans", "model_name": "saleitem", "field_name": "product", "term": "Lyon"},
    )
    assert response.status_code == 200
    assert [result["id"] for result in response.json()["results"]] == [str(lyon.pk)]
