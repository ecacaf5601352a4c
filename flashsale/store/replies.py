"""Decoding what Redis answers: bytes to values, and Lua script replies to named dataclasses.

A script answers a flat array, its first element a result code (``"reserved"``, ``"sold_out"``...).
Each code's remaining elements are described once, by a frozen dataclass whose fields are in
the script's order and whose annotations say how to read each element
(``str``, ``int``, ``float``, ``float | None``, ``bool`` for ``"1"``/``"0"``, ``Decimal``,
``list[str]``). ``decode_reply(raw, {"code": Dataclass, ...})`` picks the class by code and fills
it by field name, so callers read ``reply.txn_id``, never ``reply[9]``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from flashsale.store.keys import USER_TXN_FIELD

T = TypeVar("T")


def as_str(value: object) -> str | None:
    """Redis replies are bytes with the cache's client; normalise to ``str`` (None stays None)."""
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def text(value: object) -> str:
    """``as_str`` for a value that is there; a missing one reads as ``""``."""
    if value.__class__ is bytes:  # what redis-py answers: the common case, checked first
        return value.decode()  # type: ignore[attr-defined,no-any-return]
    return as_str(value) or ""


def as_int(value: object, default: int = 0) -> int:
    """An integer reply or field (bytes, str or int from redis-py); ``default`` when missing or empty."""
    if value is None or value == b"" or value == "":
        return default
    if isinstance(value, int):
        return value
    return int(text(value))


def item_counts(raw: Mapping[Any, Any] | Sequence[Any]) -> dict[int, int]:
    """A user hash (``keys.user``: HGETALL as a mapping or a flat field/value list) as item id -> units.

    Only the item ids (digits) are counts: the hash also keeps the user's rate window (``rate``).
    """
    pairs = raw.items() if isinstance(raw, Mapping) else zip(raw[::2], raw[1::2], strict=True)
    return {int(name): as_int(value) for name, value in ((text(k), v) for k, v in pairs) if name.isdigit()}


def user_txn_ids(raw: Mapping[Any, Any], old_members: Iterable[Any] = ()) -> list[str]:
    """A user's TransactionIDs, sorted: the user hash's ``t:<id>`` fields (HGETALL as a mapping) and
    the members of their ``user_txns`` set, which releases before the fields existed wrote."""
    found = {name[len(USER_TXN_FIELD) :] for name in map(text, raw) if name.startswith(USER_TXN_FIELD)}
    return sorted(found | {text(member) for member in old_members})


def float_or_none(value: object) -> float | None:
    """A float from a reply or a hash field; None for a missing, empty or unreadable value."""
    raw = as_str(value)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def decode_map(raw: Mapping[Any, Any]) -> dict[str, str]:
    """An HGETALL reply as ``str -> str``."""
    return {text(k): text(v) for k, v in raw.items()}


def lua_number(value: float) -> str:
    """A number as a script argument: ``repr`` of the float, which Lua's ``tonumber`` reads back exactly."""
    return repr(float(value))


class UnexpectedReply(Exception):
    """A script answered a code its caller does not know: the script and its decoder disagree."""


def _bool(value: object) -> bool:
    return text(value) == "1"


def _str_list(value: object) -> list[str]:
    return [text(item) for item in value] if isinstance(value, list) else []


def _decimal(value: object) -> Decimal:
    return Decimal(text(value) or "0")


def _int(value: object) -> int:
    return as_int(value)


def _float(value: object) -> float:
    return float(text(value))


_READERS: dict[object, Callable[[object], Any]] = {
    str: text,
    int: _int,
    float: _float,
    bool: _bool,
    Decimal: _decimal,
    list[str]: _str_list,
}


def _reader(annotation: object) -> Callable[[object], Any]:
    if annotation in _READERS:
        return _READERS[annotation]
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) and type(None) in args and float in args:
        return float_or_none
    if typing.get_origin(annotation) is list:
        return lambda value: value if isinstance(value, list) else []
    raise TypeError(f"no reader for a reply field annotated {annotation!r}")


_readers_by_class: dict[type, tuple[tuple[str, Callable[[object], Any]], ...]] = {}


def _readers(cls: type) -> tuple[tuple[str, Callable[[object], Any]], ...]:
    readers = _readers_by_class.get(cls)
    if readers is None:
        hints = typing.get_type_hints(cls)
        fields = dataclasses.fields(cls)
        readers = _readers_by_class[cls] = tuple((field.name, _reader(hints[field.name])) for field in fields)
    return readers


def decode_fields(cls: type[T], values: Sequence[object]) -> T:
    """``cls`` (a dataclass) filled from ``values`` in field order; missing trailing values read as empty."""
    readers = _readers(cls)
    if len(values) < len(readers):
        values = [*values, *([None] * (len(readers) - len(values)))]
    return cls(**{name: read(value) for (name, read), value in zip(readers, values, strict=False)})


def decode_reply(raw: Sequence[object], by_code: Mapping[str, type[T]]) -> T:
    """The dataclass of ``raw``'s result code, filled from the elements after the code."""
    code = text(raw[0])
    cls = by_code.get(code)
    if cls is None:
        raise UnexpectedReply(f"unexpected script reply code {code!r}")
    return decode_fields(cls, raw[1:])
