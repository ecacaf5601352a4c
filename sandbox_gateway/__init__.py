"""A sandbox payment gateway that stands in for the third party in the demo and the tests.

It runs as its own process (``python -m sandbox_gateway``), keeps its own SQLite storage and
talks to the site over HTTP only: checkout pages, signed webhooks, an order API and fault
injection. It never imports the site's apps; only the pure token functions of
``reservations.tokens`` are shared, as a real gateway would implement the published format.
"""
