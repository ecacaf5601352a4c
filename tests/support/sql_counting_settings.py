"""The site's settings with the benchmark's SQL counter as the outermost middleware (``tests.support.sql_counts``)."""

from flashsale.settings import *  # noqa: F403
from flashsale.settings import MIDDLEWARE

MIDDLEWARE = ["bench.middleware.SqlQueryCounter", *MIDDLEWARE]
