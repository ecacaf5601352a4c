"""The settings of what people see and receive: mail, the CAPTCHA, how times are written, root files.

Read from the environment like the rest (``flashsale/settings.py`` takes them with one
``vars().update``, which keeps that module under 500 lines); each has a default that works on one
machine, listed in the README.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import dj_email_url

from flashsale.env import env_int


def mail_settings(*, production: bool) -> dict[str, Any]:
    """``EMAIL_URL`` as Django's settings, with the sender (``DEFAULT_FROM_EMAIL``, also ``SERVER_EMAIL``).

    ``smtp://user:password@host:587/?tls=True``, or ``console://`` (prints every mail: the development
    default). Production defaults to Django's own: SMTP on localhost:25.
    """
    url = os.environ.get("EMAIL_URL", "").strip() or ("smtp://localhost:25" if production else "console://")
    sender = os.environ.get("DEFAULT_FROM_EMAIL", "FlashSale <no-reply@localhost>")
    return {**dj_email_url.parse(url), "DEFAULT_FROM_EMAIL": sender, "SERVER_EMAIL": sender}


def page_settings(*, production: bool, base_dir: Path) -> dict[str, Any]:
    return {
        **mail_settings(production=production),
        # Minutes a CAPTCHA challenge lasts (the sale page asks for a new one before it expires).
        "CAPTCHA_TIMEOUT": env_int("CAPTCHA_TIMEOUT", 5),
        # Readable on a phone (the library's 22 px drew an 80 x 29 picture).
        "CAPTCHA_FONT_SIZE": env_int("CAPTCHA_FONT_SIZE", 42),
        # The audio challenge speaks through Debian's flite; without it no audio is offered.
        "CAPTCHA_FLITE_PATH": os.environ.get("CAPTCHA_FLITE_PATH", "").strip() or shutil.which("flite"),
        # One way of writing a time everywhere: "2026-11-30 10:23:45" (flashsale/formats/en/formats.py).
        "FORMAT_MODULE_PATH": ["flashsale.formats"],
        # Files served at the site's root, such as /favicon.ico.
        "WHITENOISE_ROOT": base_dir / "public",
    }
