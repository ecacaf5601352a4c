from django.urls import path

from reconciliation import views

urlpatterns = [
    path("payments/webhook/", views.webhook, name="payment_webhook"),
    path("payments/return/", views.payment_return, name="payment_return"),
    path("payments/stripe/pay/", views.stripe_pay, name="stripe_pay"),
    path("payments/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
