"""Helpers of the browser journeys: where Chromium is, screenshots, distances."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Every journey module carries these marks: skipped, with the reason, where no Chromium is installed.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="no Chromium at /usr/bin/chromium or on PATH (apt-get install chromium)"
    ),
]

# Ports of this suite: the live server takes the first free one of its range (a port of the
# previous run may still be in TIME_WAIT), the sandbox gateway the first free one of its own.
LIVE_SERVER_PORTS = range(18801, 18810)
GATEWAY_PORTS = range(18810, 18820)

# Redis GEO's earth radius, so the distances computed here match the site's to the metre.
EARTH_RADIUS_KM = 6372.797560856


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), the formula Redis GEOSEARCH uses."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def artifacts_dir() -> Path:
    return Path(os.environ.get("FLASHSALE_ARTIFACTS_DIR", "artifacts"))


class Screenshots:
    """Numbered full-page screenshots of one journey: ``<artifacts>/screenshots/<journey>/NN-<page>.png``."""

    def __init__(self, journey: str):
        self.folder = artifacts_dir() / "screenshots" / journey
        self.folder.mkdir(parents=True, exist_ok=True)
        # A journey's folder shows its latest run only, so stale pictures never mislead.
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0
        self.taken: list[Path] = []

    def __call__(self, page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        # From the top, so sticky parts (admin's sidebar) sit where a reader expects them.
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


# --- what a page must be to a person: inside the screen, big enough to press, accessible ------------

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
TOUCH_TARGET_PX = 44


def overflow(page, selector: str = "html") -> int:
    """How many pixels ``selector``'s content is wider than its box (0: nothing runs off or hides)."""
    return page.evaluate(
        "s => { const e = document.querySelector(s); return e ? Math.max(0, e.scrollWidth - e.clientWidth) : 0; }",
        selector,
    )


def small_targets(page, within: str = "main") -> list[str]:
    """Visible buttons, links styled as buttons, selects and text inputs in ``within`` smaller than 44 x 44 px.

    Links inside running text are left out (WCAG's own exception for inline targets).
    """
    return page.evaluate(
        """([within, least]) => {
          const found = [];
          document.querySelectorAll(within + " :is(button, .button, select, input[type=text], input[type=email], input[type=password], summary)")
            .forEach(el => {
              const box = el.getBoundingClientRect();
              if (!box.width || !box.height || getComputedStyle(el).visibility === "hidden") return;
              if (box.height < least || box.width < least) {
                found.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.name || "").trim().slice(0, 30)}" ${Math.round(box.width)}x${Math.round(box.height)}`);
              }
            });
          return found;
        }""",
        [within, TOUCH_TARGET_PX],
    )


def serious_accessibility_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (rule, impact, first places)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes'][:3]]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
