"""The site's WSGI application (``flashsale.wsgi``) with each request's SQL queries counted.

What the bench's gunicorn serves (``bench.sql_counting``), and the tests that count SQL over HTTP.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from bench.sql_counting import SqlCountingApplication  # noqa: E402
from flashsale.wsgi import application as site  # noqa: E402  (sets Django up)

application = SqlCountingApplication(site)
