"""M collation of subscripts as an order-preserving byte encoding.

This module owns how a subscript tuple becomes bytes whose plain byte order (memcmp,
as SQLite BLOB comparison and Redis ZRANGEBYLEX use) is M collation order:

* numbers first, in numeric order (negative, zero, positive), then strings in UTF-8
  byte order (which is code point order);
* a tuple sorts before its extensions, so a node sorts before all its descendants, and
  a node plus its whole subtree is exactly the byte range ``[key, key + b"\\xff")``.

What counts as a number (the canonicalisation rule, applied by ``normalize``):

* ``int`` and finite ``float`` are numbers; an integral float is the same subscript as
  the equal int (``1.0`` is ``1``) and is returned as an int;
* a ``str`` that is the canonical form of a number is that number, as in M, where the
  string "42" *is* the number 42: an integer without leading zeros ("0", "42", "-7", not
  "-0" nor "007"), or a decimal with digits on both sides of the point, no trailing zero
  and no more digits than the shortest form of the float it parses to ("0.5", "-2.25";
  not ".5", "1.0", "1e5"). Such keys come back as int/float;
* any other non-empty string is a string; ``""``, ``bool``, NaN, infinities and other
  types are refused.

Element encodings (each is self-delimiting, and none starts with 0xFF):

* negative number: 0x10, then the positive encoding's bytes after the tag, inverted;
* zero: 0x20;
* positive number ``0.d1d2...dn x 10**E`` (d1 and dn non-zero): 0x30, ``E + 32768`` as two
  big-endian bytes, the digits in pairs (a lone last digit padded with 0) as bytes
  ``pair + 1`` (1..100), then a 0x00 terminator;
* string: 0x40, the UTF-8 bytes with 0x00 escaped as 0x00 0xFF, then 0x00.

Non-integral floats use the digits of ``repr`` (the shortest that round-trip); those
digits lie strictly inside the float's rounding interval, which holds no other float
and no integer, so numeric order against ints and other floats is exact.

This module is pure: no I/O, no store objects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from decimal import Decimal

from node_runtime.store.errors import StoreError

Subscript = str | int | float

TAG_NEGATIVE = 0x10
TAG_ZERO = 0x20
TAG_POSITIVE = 0x30
TAG_STRING = 0x40
# One past every element's first byte: key + SUBTREE_END bounds a node's subtree.
SUBTREE_END = b"\xff"

_EXPONENT_BIAS = 32768
_MAX_EXPONENT = 32767
_CANONICAL_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_CANONICAL_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]*[1-9]\Z")


def normalize(subscript: object) -> Subscript:
    """The canonical form of a subscript: numbers (and numeric strings) as int/float."""
    if isinstance(subscript, str):
        if not subscript:
            raise StoreError("a subscript cannot be the empty string")
        return _number_from_string(subscript)
    if isinstance(subscript, bool):
        raise StoreError(f"a subscript cannot be a bool ({subscript!r}); use a str or int")
    if isinstance(subscript, int):
        return int(subscript)
    if isinstance(subscript, float):
        if not math.isfinite(subscript):
            raise StoreError(f"a subscript must be a finite number, not {subscript!r}")
        return int(subscript) if subscript.is_integer() else subscript
    raise StoreError(
        f"a subscript must be str, int or float, not {type(subscript).__name__} ({subscript!r})"
    )


def _number_from_string(text: str) -> Subscript:
    first = text[0]
    if not (first.isdigit() or first == "-"):
        return text
    if _CANONICAL_INTEGER.match(text):
        if text == "-0" or len(text) > _MAX_EXPONENT:
            return text
        try:
            return int(text)
        except ValueError:  # beyond sys.get_int_max_str_digits(): keep it as text
            return text
    if _CANONICAL_DECIMAL.match(text):
        value = float(text)
        if (
            math.isfinite(value)
            and not value.is_integer()
            and Decimal(repr(value)) == Decimal(text)
        ):
            return value
    return text


def encode_string(text: str) -> bytes:
    """One string element, whatever the text looks like (document names use this)."""
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise StoreError(f"subscript {text!r} is not valid Unicode text") from exc
    return bytes((TAG_STRING,)) + raw.replace(b"\x00", b"\x00\xff") + b"\x00"


def encode_subscript(subscript: object) -> bytes:
    """One element: the subscript after ``normalize``."""
    return encode_normalized(normalize(subscript))


def encode_normalized(subscript: Subscript) -> bytes:
    """One element of a subscript that ``normalize`` already returned."""
    if isinstance(subscript, str):
        return encode_string(subscript)
    return _encode_number(subscript)


def encode(subscripts: Iterable[object]) -> bytes:
    """A whole tuple of subscripts, each normalized."""
    return b"".join(encode_subscript(subscript) for subscript in subscripts)


def _digits_and_exponent(value: int | float) -> tuple[str, int]:
    """For |value| > 0: significant digits d1..dn and E with |value| = 0.d1..dn * 10**E."""
    if isinstance(value, int):
        try:
            text = str(abs(value))
        except ValueError as exc:  # more digits than sys.get_int_max_str_digits()
            raise StoreError("numeric subscript is too large to collate") from exc
        return text.rstrip("0"), len(text)
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digit_tuple))
    stripped = text.lstrip("0")
    exponent += len(text)
    return stripped.rstrip("0"), exponent - (len(text) - len(stripped))


def _encode_number(value: int | float) -> bytes:
    if value == 0:
        return bytes((TAG_ZERO,))
    digits, exponent = _digits_and_exponent(value)
    if not -_MAX_EXPONENT <= exponent <= _MAX_EXPONENT:
        raise StoreError(f"numeric subscript {value!r} is too large to collate")
    if len(digits) % 2:
        digits += "0"
    body = bytearray((exponent + _EXPONENT_BIAS).to_bytes(2, "big"))
    body.extend(int(digits[i : i + 2]) + 1 for i in range(0, len(digits), 2))
    body.append(0)
    if value > 0:
        return bytes((TAG_POSITIVE,)) + bytes(body)
    return bytes((TAG_NEGATIVE,)) + bytes(0xFF - byte for byte in body)


def element_end(buffer: bytes, start: int) -> int:
    """Index just past the element that begins at ``start``."""
    try:
        tag = buffer[start]
    except IndexError as exc:
        raise StoreError("truncated key: no element where one was expected") from exc
    if tag == TAG_ZERO:
        return start + 1
    if tag in (TAG_POSITIVE, TAG_NEGATIVE):
        terminator = 0x00 if tag == TAG_POSITIVE else 0xFF
        end = buffer.find(bytes((terminator,)), start + 3)
        if end < 0:
            raise StoreError("truncated key: number without terminator")
        return end + 1
    if tag == TAG_STRING:
        position = start + 1
        while True:
            zero = buffer.find(b"\x00", position)
            if zero < 0:
                raise StoreError("truncated key: string without terminator")
            if zero + 1 < len(buffer) and buffer[zero + 1] == 0xFF:
                position = zero + 2
                continue
            return zero + 1
    raise StoreError(f"corrupt key: unknown element tag 0x{tag:02x}")


def decode_element(element: bytes) -> Subscript:
    """The subscript of one whole element (as produced by ``encode_subscript``)."""
    tag = element[0]
    if tag == TAG_STRING:
        return element[1:-1].replace(b"\x00\xff", b"\x00").decode("utf-8")
    if tag == TAG_ZERO:
        return 0
    body = element[1:]
    if tag == TAG_NEGATIVE:
        body = bytes(0xFF - byte for byte in body)
    exponent = int.from_bytes(body[:2], "big") - _EXPONENT_BIAS
    digits = "".join(f"{byte - 1:02d}" for byte in body[2:-1]).rstrip("0")
    sign = "-" if tag == TAG_NEGATIVE else ""
    if len(digits) <= exponent:
        return int(sign + digits + "0" * (exponent - len(digits)))
    return float(f"{sign}0.{digits}e{exponent}")


def split(buffer: bytes, start: int = 0) -> list[bytes]:
    """The elements of an encoded tuple (from ``start``), each still encoded."""
    elements = []
    position = start
    while position < len(buffer):
        end = element_end(buffer, position)
        elements.append(buffer[position:end])
        position = end
    return elements


def decode(buffer: bytes, start: int = 0) -> tuple[Subscript, ...]:
    """The subscript tuple of an encoded key (from ``start``)."""
    return tuple(decode_element(element) for element in split(buffer, start))
