"""JSON parsing for provider deliveries that turns every malformed body into a clean parse error.

The standard parser lets ``1e999`` through as infinity (which PostgreSQL cannot store) and
raises RecursionError on deeply nested arrays; here both are parse errors.
"""

from __future__ import annotations

import json
import math
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def load_json(text: str) -> Any:
    """``json.loads`` that accepts only finite numbers; raises ValueError on anything malformed."""
    try:
        return json.loads(text, parse_float=_finite_float, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ValueError("the JSON is nested too deeply") from exc


class ProviderJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            return load_json(stream.read().decode(encoding))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
