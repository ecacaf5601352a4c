"""Fetch and parse a provider's product feed (JSON array or CSV with a header row).

Fetching has a connect and a read timeout, retries connection errors, timeouts and 5xx answers
with exponential backoff, and stops reading past a size cap. Every failure is a FeedError with
a message an operator can act on.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from catalog.parsers import load_json

FORMATS = ("json", "csv")
_READ_BLOCK = 64 * 1024


class FeedError(Exception):
    """The feed could not be fetched or parsed; ``url`` says which feed."""

    def __init__(self, message: str, *, url: str = ""):
        super().__init__(message)
        self.url = url


def fetch_feed(url: str, *, fmt: str) -> list[Any]:
    """Download the feed at ``url`` and return its records (dicts, as the provider wrote them)."""
    return parse_feed(download(url), fmt=fmt, url=url)


def download(url: str) -> bytes:
    timeout = (settings.CATALOG_FEED_CONNECT_TIMEOUT, settings.CATALOG_FEED_READ_TIMEOUT)
    limit = settings.CATALOG_FEED_MAX_BYTES
    try:
        with _session() as session, session.get(url, timeout=timeout, stream=True) as response:
            if response.status_code != 200:
                raise FeedError(f"The feed answered HTTP {response.status_code} {response.reason}.", url=url)
            body = bytearray()
            for block in response.iter_content(_READ_BLOCK):
                body += block
                if len(body) > limit:
                    raise FeedError(f"The feed is larger than {limit} bytes (CATALOG_FEED_MAX_BYTES).", url=url)
            return bytes(body)
    except FeedError:
        raise
    except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
        if _is_timeout(exc):
            raise FeedError(
                f"The feed did not answer within {settings.CATALOG_FEED_READ_TIMEOUT:g}s "
                f"(connect timeout {settings.CATALOG_FEED_CONNECT_TIMEOUT:g}s) "
                f"after {settings.CATALOG_FEED_RETRIES} retries.",
                url=url,
            ) from exc
        raise FeedError(f"Could not connect to the feed: {_reason(exc)}.", url=url) from exc
    except requests.exceptions.RetryError as exc:
        raise FeedError(
            f"The feed kept failing after {settings.CATALOG_FEED_RETRIES} retries: {_reason(exc)}.", url=url
        ) from exc
    except requests.exceptions.RequestException as exc:
        raise FeedError(f"Could not fetch the feed: {type(exc).__name__}: {exc}.", url=url) from exc


def parse_feed(content: bytes, *, fmt: str, url: str = "") -> list[Any]:
    """Parse a feed body: a JSON array of objects, or CSV whose header names the record fields."""
    if fmt == "json":
        return _parse_json(content, url=url)
    if fmt == "csv":
        return _parse_csv(content, url=url)
    raise FeedError(f"Unknown feed format {fmt!r}; expected one of {', '.join(FORMATS)}.", url=url)


def _parse_json(content: bytes, *, url: str) -> list[Any]:
    try:
        data = load_json(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FeedError(f"The feed is not valid JSON: {exc}.", url=url) from exc
    # Some providers wrap the array: {"products": [...]}.
    if isinstance(data, dict) and isinstance(data.get("products"), list):
        data = data["products"]
    if not isinstance(data, list):
        raise FeedError("The JSON feed must be an array of product objects.", url=url)
    return data


def _parse_csv(content: bytes, *, url: str) -> list[dict[str, str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedError(f"The CSV feed is not UTF-8: {exc}.", url=url) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise FeedError("The CSV feed has no header row.", url=url)
    try:
        # An empty cell means "not given", so optional fields take their defaults.
        return [
            {key.strip(): value.strip() for key, value in row.items() if key and value is not None and value.strip()}
            for row in reader
        ]
    except csv.Error as exc:
        raise FeedError(f"The CSV feed is malformed at line {reader.line_num}: {exc}.", url=url) from exc


def _session() -> requests.Session:
    retry = Retry(
        total=settings.CATALOG_FEED_RETRIES,
        connect=settings.CATALOG_FEED_RETRIES,
        read=settings.CATALOG_FEED_RETRIES,
        status=settings.CATALOG_FEED_RETRIES,
        backoff_factor=settings.CATALOG_FEED_RETRY_BACKOFF,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        raise_on_status=True,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "flashsale-catalog/1.0"
    session.headers["Accept"] = "application/json, text/csv;q=0.9, */*;q=0.1"
    return session


def _is_timeout(exc: BaseException) -> bool:
    # requests reports a read timeout that exhausted its retries as a ConnectionError wrapping
    # urllib3's MaxRetryError(ReadTimeoutError), so the message is the reliable signal.
    return isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc).lower()


def _reason(exc: BaseException) -> str:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return str(reason or exc)
