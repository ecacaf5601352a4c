from django.conf import settings


def site(request):
    return {"site_name": "FlashSale", "debug": settings.DEBUG}
