"""Settings for the benchmark: the site's own settings plus the ``bench`` app and URLconf.

The site runs exactly as in production (same middleware, sessions and cache in Redis) with DEBUG
off; the only additions are the floor and peer views and a middleware that counts SQL queries
(on every route, the hot routes' shorter list included).
"""

from flashsale.settings import *  # noqa: F403
from flashsale.settings import FLASHSALE_HOT_ROUTE_PATTERN, INSTALLED_APPS, LOGGING, MIDDLEWARE

DEBUG = False
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
# Outermost, so the queries of every other middleware (sessions, auth) are counted too.
MIDDLEWARE = ["bench.middleware.SqlQueryCounter", *MIDDLEWARE]
# The floor_hot scenario: the floor view through the hot routes' shorter middleware list.
FLASHSALE_HOT_ROUTE_PATTERN = rf"{FLASHSALE_HOT_ROUTE_PATTERN}|^/bench/hot/"
LOGGING = {**LOGGING, "root": {**LOGGING["root"], "level": "WARNING"}}
