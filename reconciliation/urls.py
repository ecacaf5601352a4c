from django.urls import path

from reconciliation import views

urlpatterns = [
    path("payments/webhook/", views.webhook, name="payment_webhook"),
    path("payments/return/", views.payment_return, name="payment_return"),
]
