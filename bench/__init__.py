"""The benchmark behind ``make bench``: bursts of real HTTP traffic against gunicorn, PostgreSQL and Redis.

The product carries no bench code: this package adds its own settings, URLconf and a ``bench`` app
(the floor view and the select_for_update peer) on top of the site, and measures the apps' own
components (ingest, session load, reconciliation, waiting room) from here.
"""
