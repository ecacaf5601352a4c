"""Settings for the benchmark: the site's own settings plus the ``bench`` app and URLconf.

The site runs exactly as in production (same middleware, sessions and cache in Redis) with DEBUG
off; the only additions are the floor and peer views. The SQL queries of every request are counted
around the whole WSGI application (``bench.wsgi``, what the bench's gunicorn serves).
"""

from flashsale.settings import *  # noqa: F403
from flashsale.settings import FLASHSALE_HOT_ROUTE_PATTERN, INSTALLED_APPS, LOGGING

DEBUG = False
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
# The floor_hot scenario: the floor view through the hot routes' shorter middleware list.
FLASHSALE_HOT_ROUTE_PATTERN = rf"{FLASHSALE_HOT_ROUTE_PATTERN}|^/bench/hot/"
LOGGING = {**LOGGING, "root": {**LOGGING["root"], "level": "WARNING"}}
