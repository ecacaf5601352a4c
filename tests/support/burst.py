"""A burst of reserve clicks from threads, one thread per shopper, with a hook at a chosen point."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.support.shoppers import Attempt, Shopper, reserve_over_http


def run_burst(
    shoppers: list[Shopper],
    *,
    base_urls: list[str],
    sale_id: int,
    item_id: int,
    clicks_each: int,
    at_response: int | None = None,
    action: Callable[[], None] | None = None,
) -> list[Attempt]:
    """Every shopper clicks "reserve" ``clicks_each`` times in a row (a browser waits for each answer).

    Shopper ``n`` talks to ``base_urls[n % len(base_urls)]`` for their first click and alternates
    between the URLs after that. ``action`` runs once, in this thread, when ``at_response`` answers
    have arrived, while the other shoppers keep clicking.
    """
    attempts: list[Attempt] = []
    lock = threading.Lock()
    reached = threading.Event()
    failures: list[BaseException] = []

    def shop(index: int, customer: Shopper) -> None:
        browser = customer.browser()
        try:
            for click in range(clicks_each):
                url = base_urls[(index + click) % len(base_urls)]
                attempt = reserve_over_http(browser, url, sale_id, item_id, user_id=customer.user_id)
                with lock:
                    attempts.append(attempt)
                    if at_response is not None and len(attempts) >= at_response:
                        reached.set()
        except BaseException as exc:  # surfaced in the main thread
            failures.append(exc)
        finally:
            browser.close()

    threads = [threading.Thread(target=shop, args=(n, s), daemon=True) for n, s in enumerate(shoppers)]
    for thread in threads:
        thread.start()
    if action is not None:
        assert reached.wait(timeout=60), "the burst never reached the point of the fault"
        action()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a shopper thread hung"
    if failures:
        raise failures[0]
    return attempts
