"""WSGI entry point (gunicorn ``flashsale.wsgi``).

Reserve requests and stock polls run a shorter middleware list than the rest of the site
(``flashsale.hot_routes``); a chunked request body is read and given a length first
(``flashsale.chunked_bodies``).
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flashsale.settings")
django.setup(set_prefix=False)

from flashsale.checks import refuse_unsafe_start  # noqa: E402  (needs the apps loaded)
from flashsale.chunked_bodies import ChunkedBodies  # noqa: E402
from flashsale.hot_routes import HotRouteApplication  # noqa: E402

refuse_unsafe_start()
application = ChunkedBodies(HotRouteApplication())
