from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from catalog import views

urlpatterns = [
    path("api/providers/<slug:slug>/products/", views.ProductPushView.as_view(), name="catalog-push-products"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="catalog/swagger_ui.html"),
        name="api-docs",
    ),
    path("demo/feeds/<str:name>", views.demo_feed, name="catalog-demo-feed"),
]
