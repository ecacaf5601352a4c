"""Bundled demo catalog: four providers' products in twelve European cities.

``generate.py`` writes the data files deterministically; ``seed.py`` delivers them through the
real push and pull paths.
"""

from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent
FEED_DIR = DEMO_DIR / "feeds"
PUSH_DIR = DEMO_DIR / "push"
MANIFEST = DEMO_DIR / "providers.json"
