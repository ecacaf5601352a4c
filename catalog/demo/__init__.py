"""Bundled demo catalog: four providers' products in twelve European cities, with their pictures.

``generate.py`` writes the data files and one picture per category (``static/demo/<category>.svg``,
served by the site itself, so a demo needs no outside photo host) deterministically; ``seed.py``
delivers them through the real push and pull paths. The files name the pictures with ``{site}``
in place of the site's address, filled in with ``FLASHSALE_SITE_URL`` when they are delivered.
"""

from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent
FEED_DIR = DEMO_DIR / "feeds"
PUSH_DIR = DEMO_DIR / "push"
MANIFEST = DEMO_DIR / "providers.json"
IMAGE_DIR = DEMO_DIR.parent.parent / "static" / "demo"
SITE_PLACEHOLDER = "{site}"


def with_site_url(content: bytes) -> bytes:
    """A demo file as delivered: its pictures' addresses on this site (``FLASHSALE_SITE_URL``)."""
    from django.conf import settings

    return content.replace(SITE_PLACEHOLDER.encode(), settings.FLASHSALE_SITE_URL.encode())
