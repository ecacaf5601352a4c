"""No public pages: operators work in the admin (``plans/admin.py``); shoppers read sessions from Redis."""
