"""The subscript encoding: byte order equals M collation order, and it round-trips."""

from __future__ import annotations

import itertools
import math
import random
import sys
from fractions import Fraction

import pytest

from node_runtime.store import StoreError, collation
from node_runtime.store.collation import Subscript

ALPHABET = ["a", "b", "z", "A", "0", "1", "9", "-", ".", " ", "\x00", "\x01", "ä", "中", "😀"]


def reference_key(subscript: Subscript) -> tuple[int, Fraction | bytes]:
    """M order written independently: exact numeric value first, then UTF-8 bytes."""
    if isinstance(subscript, str):
        return (1, subscript.encode("utf-8"))
    return (0, Fraction(subscript))


def random_number(rng: random.Random) -> int | float:
    """Numbers across magnitudes, signs, subnormals and neighbours of integers."""
    kind = rng.randrange(7)
    sign = rng.choice((1, -1))
    if kind == 0:
        return sign * rng.randrange(0, 1000)
    if kind == 1:
        return sign * rng.randrange(0, 2 ** rng.randrange(1, 300))
    if kind == 2:
        return sign * rng.uniform(0, 10 ** rng.randrange(-5, 20))
    if kind == 3:
        return sign * math.ldexp(rng.random(), rng.randrange(-1074, 1000))
    if kind == 4:
        whole = rng.randrange(0, 2**53)
        return sign * math.nextafter(float(whole), rng.choice((math.inf, -math.inf)))
    if kind == 5:
        return sign * rng.randrange(1, 100) / rng.choice((2, 3, 4, 7, 10, 1000))
    return sign * rng.choice((sys.float_info.max, sys.float_info.min, 5e-324, 0.1, 1e16))


def random_string(rng: random.Random) -> str:
    """Strings that share prefixes, hold NULs and non-ASCII, and some look numeric."""
    if rng.random() < 0.2:
        return str(random_number(rng))
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 6)))


def random_subscript(rng: random.Random) -> Subscript:
    """A normalized subscript of either kind."""
    raw = random_number(rng) if rng.random() < 0.5 else random_string(rng)
    return collation.normalize(raw)


def random_tuple(rng: random.Random) -> tuple[Subscript, ...]:
    """A subscript tuple of length 0 to 3, drawn from a small pool so prefixes repeat."""
    return tuple(random_subscript(rng) for _ in range(rng.randrange(0, 4)))


def test_fixed_values_encode_in_m_collation_order() -> None:
    """Negative, zero, fractional, positive and huge numbers precede strings, in order."""
    ordered: list[Subscript] = [
        -(2**80), -1e10, -100, -2.5, -1, -0.5, -0.001, -5e-324, 0, 5e-324, 0.001, 0.1, 0.5,
        1, 1.5, 2, 10, 99.99, 100, 2**53, 2**53 + 1, 1e300,
        " ", "!", "-", "-0", ".5", "007", "1.0", "1e5", "A", "Z", "a", "a\x00", "a\x00b",
        "a\x01", "ab", "b", "é", "中", "😀",
    ]  # fmt: skip
    encoded = [collation.encode_subscript(value) for value in ordered]
    assert encoded == sorted(encoded)
    assert len(set(encoded)) == len(encoded)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42), ("-7", -7), ("0", 0), ("0.5", 0.5), ("-2.25", -2.25), ("0.00001", 1e-05),
        (1.0, 1), (-0.0, 0), (2.0**60, 2**60), ("1" + "0" * 30, 10**30),
        ("-0", "-0"), ("007", "007"), (".5", ".5"), ("1.0", "1.0"), ("1e5", "1e5"),
        ("+1", "+1"), ("0.30000000000000001", "0.30000000000000001"), (" 1", " 1"), ("abc", "abc"),
    ],
)  # fmt: skip
def test_normalize_turns_canonical_numbers_into_numbers_only(
    raw: object, expected: Subscript
) -> None:
    """Ints, integral floats and canonical numeric strings become numbers; others stay text."""
    result = collation.normalize(raw)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("bad", ["", True, False, None, math.nan, math.inf, -math.inf, b"x", (1,)])
def test_normalize_refuses_values_that_are_not_subscripts(bad: object) -> None:
    """Empty strings, bools, non-finite floats and other types raise StoreError."""
    with pytest.raises(StoreError):
        collation.normalize(bad)


def test_encode_refuses_text_that_is_not_valid_unicode() -> None:
    """A lone surrogate cannot be stored as UTF-8 and raises StoreError."""
    with pytest.raises(StoreError):
        collation.encode_subscript("\ud800")


def test_equal_numbers_in_any_form_encode_identically() -> None:
    """1, 1.0 and "1" (and 0.5 and "0.5") are one subscript, as in M."""
    assert collation.encode_subscript(1) == collation.encode_subscript(1.0)
    assert collation.encode_subscript(1) == collation.encode_subscript("1")
    assert collation.encode_subscript(0.5) == collation.encode_subscript("0.5")


def test_random_subscripts_sort_by_bytes_exactly_as_by_m_order() -> None:
    """For thousands of generated subscripts, byte order of the encoding is M order."""
    rng = random.Random(20240601)
    values = [random_subscript(rng) for _ in range(5000)]
    by_reference = sorted(set(values), key=reference_key)
    by_bytes = sorted(set(values), key=collation.encode_subscript)
    assert by_bytes == by_reference


def test_random_numbers_encode_distinctly_unless_numerically_equal() -> None:
    """Two numbers share an encoding exactly when they are equal."""
    rng = random.Random(7)
    numbers = [collation.normalize(random_number(rng)) for _ in range(3000)]
    for left, right in itertools.pairwise(numbers):
        same_bytes = collation.encode_subscript(left) == collation.encode_subscript(right)
        assert same_bytes == (Fraction(left) == Fraction(right))


def test_random_tuples_sort_by_bytes_as_m_orders_nodes() -> None:
    """A node sorts before its descendants and tuples compare element by element."""
    rng = random.Random(99)
    tuples = list({random_tuple(rng) for _ in range(4000)})
    by_reference = sorted(tuples, key=lambda t: tuple(reference_key(s) for s in t))
    by_bytes = sorted(tuples, key=collation.encode)
    assert by_bytes == by_reference


def test_random_subscripts_and_tuples_round_trip_with_their_types() -> None:
    """decode(encode(t)) gives back every subscript with its value and int/float/str type."""
    rng = random.Random(5)
    for _ in range(3000):
        subscripts = random_tuple(rng)
        decoded = collation.decode(collation.encode(subscripts))
        assert decoded == subscripts
        assert [type(s) for s in decoded] == [type(s) for s in subscripts]


def test_subtree_is_exactly_the_byte_range_after_the_node_key() -> None:
    """T is P or a descendant of P iff enc(P) <= enc(T) < enc(P) + 0xFF."""
    rng = random.Random(11)
    pool = [random_subscript(rng) for _ in range(12)] + ["a", "a\x00", "ab", 1, 10]
    for _ in range(6000):
        parent = tuple(rng.choice(pool) for _ in range(rng.randrange(0, 3)))
        other = tuple(rng.choice(pool) for _ in range(rng.randrange(0, 4)))
        low = collation.encode(parent)
        in_range = low <= collation.encode(other) < low + collation.SUBTREE_END
        assert in_range == (other[: len(parent)] == parent)


def test_string_prefix_window_holds_exactly_the_strings_with_that_prefix() -> None:
    """Strings starting with a prefix are exactly those encoded inside its prefix window."""
    rng = random.Random(13)
    for _ in range(6000):
        text, prefix = random_string(rng), random_string(rng)[: rng.randrange(0, 3)]
        low = collation.encode_string(prefix)[:-1]
        encoded = collation.encode_string(text) + collation.encode_subscript(1)
        in_window = low <= encoded < low + collation.SUBTREE_END
        assert in_window == text.startswith(prefix)


def test_split_finds_each_element_of_a_concatenated_key() -> None:
    """split() cuts a key at element boundaries, including strings holding NUL bytes."""
    subscripts = ("x\x00", -3.5, 0, "\x00", 2**70, "y")
    elements = collation.split(collation.encode(subscripts))
    assert [collation.decode_element(element) for element in elements] == list(subscripts)


def test_truncated_or_corrupt_keys_raise_store_error() -> None:
    """Decoding bytes that are not a whole encoded key raises StoreError."""
    whole = collation.encode(("abc", 12.5))
    for broken in (whole[:-1], whole[:3], b"\x99"):
        with pytest.raises(StoreError):
            collation.decode(broken)


def test_numbers_beyond_the_exponent_range_are_refused() -> None:
    """An int with more than 32767 digits cannot be collated and raises StoreError."""
    with pytest.raises(StoreError):
        collation.encode_subscript(10**40000)
