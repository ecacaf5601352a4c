"""The soak's crowd: shoppers opening sale pages, polling stock, clicking Reserve (mostly refused),
and paying through the sandbox gateway (promptly, late, with duplicate, delayed or dropped webhooks,
or never).

Every request is recorded (start, kind, status, latency, timeout or broken connection), and so is
every redirect to the gateway (the TransactionID its token carries). The pace is bounded (a target
rate over all threads) so that timeouts come from the faults, not from the crowd saturating the cores.
"""

from __future__ import annotations

import queue
import random
import re
import threading
import time
from dataclasses import asdict, dataclass, field

import requests

REQUEST_TIMEOUT = (3.0, 8.0)
FORM_RE = re.compile(
    r'<form method="post" action="(?P<action>/checkout/[^"]+/(?P<verb>pay|cancel))">\s*'
    r'<input type="hidden" name="nonce" value="(?P<nonce>[^"]+)">'
)
# What a shopper with a reservation does next, by weight.
PAYMENT_PLANS = (
    ("pay", 62),
    ("pay_duplicate_webhook", 8),
    ("pay_late_webhook", 8),
    ("pay_dropped_webhook", 3),
    ("pay_after_expiry", 6),
    ("cancel", 5),
    ("never", 8),
)
# The crowd's own actions, by weight: nearly everything is a page or a poll.
ACTIONS = (("sale_page", 30), ("stock_poll", 55), ("reserve_hot", 11), ("reserve_ordinary", 4))
GATEWAY_RETRY_SECONDS = 3.0
# How Django deletes the session cookie (SESSION_COOKIE_NAME is the default "sessionid").
SESSION_COOKIE_DELETED = 'sessionid=""'
# The gateway fault a plan sets on its order before paying.
GATEWAY_FAULTS = {
    "pay_duplicate_webhook": {"kind": "duplicate_webhook"},
    "pay_late_webhook": {"kind": "late_webhook", "delay_seconds": 5},
    "pay_dropped_webhook": {"kind": "drop_webhook"},
}


@dataclass
class Request:
    """One request as the crowd saw it; ``t`` is seconds since the crowd started."""

    t: float
    kind: str
    status: int | None
    latency_ms: float
    timeout: bool = False
    broken: bool = False
    node: int = -1

    @property
    def failed(self) -> bool:
        return self.timeout or self.broken or (self.status is not None and self.status >= 500)


@dataclass
class Redirect:
    t: float
    txn_id: str
    user_id: int
    session_id: int
    item_id: int
    units: int
    location: str
    plan: str = ""
    outcome: str = ""


@dataclass
class CrowdLog:
    requests: list[Request] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    # Answers that deleted a shopper's session cookie: the shopper was logged out by the site.
    logged_out: list[dict] = field(default_factory=list)
    gateway_requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def redirect_dicts(self) -> list[dict]:
        with self.lock:
            return [asdict(r) for r in self.redirects]


def _pick(rng: random.Random, weighted) -> str:
    names, weights = zip(*weighted, strict=True)
    return rng.choices(names, weights)[0]


class Crowd:
    """``threads`` shopper threads over ``shoppers`` and a few payer threads, until ``stop()``."""

    def __init__(
        self,
        *,
        shoppers,
        sales,
        node_urls: list[str],
        gateway,
        seed: int,
        rate: float,
        threads: int = 6,
        payers: int = 4,
        ttl_seconds: int,
    ):
        self.shoppers = shoppers
        self.by_user = {s.user_id: s for s in shoppers}
        self.sales = sales
        self.node_urls = node_urls
        self.gateway = gateway
        self.seed = seed
        self.threads = threads
        self.payers = payers
        self.interval = threads / rate
        self.ttl_seconds = ttl_seconds
        self.log = CrowdLog()
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._payments: queue.Queue = queue.Queue()
        self._workers: list[threading.Thread] = []

    def now(self) -> float:
        return time.monotonic() - self.started

    # --- requests ------------------------------------------------------------------------------

    def _send(self, browser: requests.Session, kind: str, method: str, url: str, *, node: int, into=None, **kw):
        t0 = self.now()
        status, timeout, broken = None, False, False
        response = None
        try:
            response = browser.request(method, url, timeout=REQUEST_TIMEOUT, allow_redirects=False, **kw)
            status = response.status_code
            if SESSION_COOKIE_DELETED in response.headers.get("Set-Cookie", ""):
                self.log.logged_out.append({"t": round(t0, 2), "kind": kind, "status": status})
        except requests.Timeout:
            timeout = True
        except requests.RequestException:
            broken = True
        record = Request(t0, kind, status, (self.now() - t0) * 1000, timeout, broken, node)
        (self.log.requests if into is None else into).append(record)
        return response

    # --- shoppers ------------------------------------------------------------------------------

    def start(self) -> None:
        self.started = time.monotonic()
        for n in range(self.threads):
            mine = self.shoppers[n :: self.threads]
            thread = threading.Thread(target=self._shop, args=(n, mine), name=f"crowd-{n}", daemon=True)
            self._workers.append(thread)
        for n in range(self.payers):
            self._workers.append(threading.Thread(target=self._pay_loop, name=f"payer-{n}", daemon=True))
        for thread in self._workers:
            thread.start()

    def _shop(self, n: int, shoppers) -> None:
        rng = random.Random(self.seed * 1000 + n)
        browsers = {s.user_id: s.browser() for s in shoppers}
        next_at = time.monotonic()
        while not self._stop.is_set():
            shopper = rng.choice(shoppers)
            browser = browsers[shopper.user_id]
            sale = rng.choice(self.sales)
            node = rng.randrange(len(self.node_urls))
            base = self.node_urls[node]
            action = _pick(rng, ACTIONS)
            if action == "sale_page":
                self._send(browser, "sale_page", "GET", f"{base}/sessions/{sale.id}/", node=node)
            elif action == "stock_poll":
                self._send(browser, "stock_poll", "GET", f"{base}/sessions/{sale.id}/stock.json", node=node)
            else:
                items = sale.hot if action == "reserve_hot" else sale.ordinary
                self._reserve(browser, shopper, sale, rng.choice(items), base=base, node=node, rng=rng)
            next_at += self.interval * rng.uniform(0.5, 1.5)
            self._stop.wait(max(0.0, next_at - time.monotonic()))
            next_at = max(next_at, time.monotonic() - self.interval)

    def _reserve(self, browser, shopper, sale, item, *, base: str, node: int, rng: random.Random) -> None:
        """The sale page (it mints the visit's TransactionID), then the Reserve click."""
        page = self._send(browser, "sale_page", "GET", f"{base}/sessions/{sale.id}/", node=node)
        if page is None or page.status_code != 200:
            return
        response = self._send(
            browser,
            "reserve",
            "POST",
            f"{base}/sessions/{sale.id}/items/{item.pk}/reserve/",
            node=node,
            data={"quantity": "1"},
        )
        if response is None or response.status_code != 303:
            return
        location = response.headers.get("Location", "")
        if "token=" not in location:
            return
        from tests.support.shoppers import txn_claims

        claims = txn_claims(location)
        redirect = Redirect(
            t=self.now(),
            txn_id=claims.txn_id,
            user_id=shopper.user_id,
            session_id=sale.id,
            item_id=item.pk,
            units=claims.units,
            location=location,
            plan=_pick(rng, PAYMENT_PLANS),
        )
        with self.log.lock:
            self.log.redirects.append(redirect)
        if redirect.plan != "never":
            self._payments.put((time.monotonic() + rng.uniform(0.5, 3.0), redirect, None))

    # --- payments ------------------------------------------------------------------------------

    def _pay_loop(self) -> None:
        browser = requests.Session()
        while True:
            try:
                due, redirect, page = self._payments.get(timeout=0.5)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            wait = due - time.monotonic()
            if wait > 0:
                # Not yet: back in the queue, so the payments due sooner go first.
                time.sleep(min(wait, 0.2))
                self._payments.put((due, redirect, page))
                continue
            if page is None:
                self._open_checkout(browser, redirect)
            else:
                self._press(browser, redirect, page)

    def _open_checkout(self, browser: requests.Session, redirect: Redirect) -> None:
        """Open the gateway's checkout page (retrying while the gateway is down and the hold lasts),
        set the plan's gateway fault, then press Pay or Cancel now or, paying late, after the expiry."""
        deadline = redirect.t + self.ttl_seconds - 2
        page = None
        while page is None and self.now() < deadline:
            response = self._send(
                browser, "gateway_checkout", "GET", redirect.location, node=-1, into=self.log.gateway_requests
            )
            if response is not None and response.status_code == 200:
                page = {m["verb"]: (m["action"], m["nonce"]) for m in FORM_RE.finditer(response.text)}
            elif response is not None:
                redirect.outcome = f"checkout refused {response.status_code}"
                return
            else:
                time.sleep(GATEWAY_RETRY_SECONDS)
        if not page:
            redirect.outcome = "gateway unreachable"
            return
        fault = GATEWAY_FAULTS.get(redirect.plan)
        if fault is not None:
            try:
                self.gateway.api.post(
                    f"{self.gateway.url}/api/faults", json={**fault, "txn_id": redirect.txn_id}, timeout=5
                )
            except requests.RequestException:
                redirect.plan = "pay"  # the gateway went away meanwhile: an ordinary payment then
        if redirect.plan == "pay_after_expiry":
            # The hold expires (and the expiry job returns its units) before the shopper pays.
            due = time.monotonic() + max(0.0, redirect.t + self.ttl_seconds + 8 - self.now())
            self._payments.put((due, redirect, page))
            return
        self._press(browser, redirect, page)

    def _press(self, browser: requests.Session, redirect: Redirect, page: dict) -> None:
        verb = "cancel" if redirect.plan == "cancel" else "pay"
        action, nonce = page[verb]
        for _ in range(20):
            response = self._send(
                browser, f"gateway_{verb}", "POST", f"{self.gateway.url}{action}", node=-1,
                into=self.log.gateway_requests, data={"nonce": nonce},
            )  # fmt: skip
            if response is not None:
                redirect.outcome = f"{verb} {response.status_code}"
                self._look_at_my_reservations(redirect)
                return
            time.sleep(GATEWAY_RETRY_SECONDS)
        redirect.outcome = f"{verb}: gateway unreachable"

    def _look_at_my_reservations(self, redirect: Redirect) -> None:
        """Back from the gateway, the shopper opens "My reservations" (a page that reads their session
        first: while Redis is down it must answer 503 and leave them logged in)."""
        node = len(self.log.requests) % len(self.node_urls)
        browser = self.by_user[redirect.user_id].browser()
        self._send(browser, "my_reservations", "GET", f"{self.node_urls[node]}/me/reservations/", node=node)

    def stop(self, *, payments_grace: float) -> None:
        """Stop shopping; payers finish what is queued (late payers included) within ``payments_grace``."""
        self._stop.set()
        deadline = time.monotonic() + payments_grace
        for thread in self._workers:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
