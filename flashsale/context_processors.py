from django.conf import settings

SITE_NAME = "FlashSale"


def site(request):
    return {"site_name": SITE_NAME, "debug": settings.DEBUG}
