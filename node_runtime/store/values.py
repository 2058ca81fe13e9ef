"""Scalar values of the document store: validation, storage text, increment arithmetic.

This module owns what a node's value may be and how it is stored. Values are JSON
scalars: ``str``, ``int``, ``float`` (finite) and ``bool``; each is stored as its JSON
text, so it reads back with its type (``True`` stays a bool, ``"42"`` stays a str, ``4.0``
stays a float). ``None`` is not a value: assigning it deletes the value. Anything else
(bytes, dict, list, NaN, ...) raises ``StoreError``; whole documents go through
``set_document``. This module is pure: no I/O.
"""

from __future__ import annotations

import json
import math

from node_runtime.store.errors import StoreError

Scalar = str | int | float | bool
Number = int | float


def dump_value(value: object, where: str) -> str:
    """The storage text of a scalar value, or StoreError naming ``where``."""
    if isinstance(value, str | bool | int):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise StoreError(f"{where}: cannot store {value!r}; values must be finite numbers")
        return json.dumps(value)
    raise StoreError(
        f"{where}: cannot store a {type(value).__name__}; a value is a str, int, float or "
        "bool (use set_document for dicts and lists, None to delete the value)"
    )


def load_value(text: str | bytes) -> Scalar:
    """The scalar a storage text holds."""
    value: Scalar = json.loads(text)
    return value


def check_increment(by: object, where: str) -> Number:
    """The step of an increment, or StoreError: an int or finite float, not a bool."""
    if isinstance(by, bool) or not isinstance(by, int | float):
        raise StoreError(f"{where}: increment step must be an int or float, not {by!r}")
    if isinstance(by, float) and not math.isfinite(by):
        raise StoreError(f"{where}: increment step must be finite, not {by!r}")
    return by


def incremented(current: str | bytes | None, by: Number, where: str) -> tuple[Number, str]:
    """The new number and its storage text after adding ``by`` to the stored ``current``.

    A missing value counts as 0. A stored value that is not a number (a str, even "42",
    or a bool) raises StoreError: values keep their type, so "42" is text.
    """
    base: Number = 0
    if current is not None:
        stored = load_value(current)
        if isinstance(stored, bool) or not isinstance(stored, int | float):
            raise StoreError(f"{where}: cannot increment the non-numeric value {stored!r}")
        base = stored
    try:
        result = base + by
    except OverflowError as exc:
        raise StoreError(f"{where}: increment overflowed: {exc}") from exc
    if isinstance(result, float) and not math.isfinite(result):
        raise StoreError(f"{where}: increment overflowed to {result!r}")
    return result, json.dumps(result)
