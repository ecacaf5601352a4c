from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from catalog import views

urlpatterns = [
    path("api/providers/<slug:slug>/products/", views.ProductPushView.as_view(), name="catalog-push-products"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("demo/feeds/<str:name>", views.demo_feed, name="catalog-demo-feed"),
]
