"""Where the site's mail goes: Django's EMAIL_* settings from ``EMAIL_URL`` (dj-email-url)."""

from __future__ import annotations

import os
from typing import Any

import dj_email_url


def mail_settings(*, production: bool) -> dict[str, Any]:
    """``EMAIL_URL`` as Django's settings, with the sender (``DEFAULT_FROM_EMAIL``, also ``SERVER_EMAIL``).

    ``smtp://user:password@host:587/?tls=True``, or ``console://`` (prints every mail: the development
    default). Production defaults to Django's own: SMTP on localhost:25.
    """
    url = os.environ.get("EMAIL_URL", "").strip() or ("smtp://localhost:25" if production else "console://")
    sender = os.environ.get("DEFAULT_FROM_EMAIL", "FlashSale <no-reply@localhost>")
    return {**dj_email_url.parse(url), "DEFAULT_FROM_EMAIL": sender, "SERVER_EMAIL": sender}
