"""DocumentNode behaviour, run against every backend (SQLite file and real redis-server)."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from node_runtime.store import DocumentNode, DocumentStore, StoreError, open_store

MIXED_KEYS: list[Any] = ["b", 10, "10a", -3, "a", 2.5, "-1.5", "Z", "a\x00", "ab", 0, "007"]
MIXED_ORDER: list[Any] = [-3, -1.5, 0, 2.5, 10, "007", "10a", "Z", "a", "a\x00", "ab", "b"]


def fill(store: DocumentStore, keys: list[Any]) -> None:
    """Give ^t(key) a value for each key, in a shuffled order."""
    shuffled = list(keys)
    random.Random(3).shuffle(shuffled)
    for key in shuffled:
        store["t"][key].value = f"v{key}"


def test_children_come_in_m_collation_order(store: DocumentStore) -> None:
    """Numbers (numeric strings included) come first in numeric order, then strings by byte."""
    fill(store, MIXED_KEYS)
    assert store["t"].child_keys() == MIXED_ORDER
    assert [node.key for node in store["t"].children()] == MIXED_ORDER
    assert store["t"].child_keys(reverse=True) == MIXED_ORDER[::-1]


def test_numeric_string_and_number_name_the_same_node(store: DocumentStore) -> None:
    """store["p"]["42"] and store["p"][42] are one node and its key comes back as int 42."""
    store["p"]["42"]["name"].value = "Ann"
    assert store["p"][42]["name"].value == "Ann"
    assert store["p"][42.0] == store["p"]["42"]
    assert store["p"].child_keys() == [42]


def test_defined_reports_m_data_values(store: DocumentStore) -> None:
    """$DATA is 0 for nothing, 1 for a value, 10 for children only and 11 for both."""
    doc = store["d"]
    doc["leaf"].value = 1
    doc["branch"]["x"].value = 2
    doc["both"].value = 3
    doc["both"]["x"].value = 4
    assert [doc[k].defined for k in ("none", "leaf", "branch", "both")] == [0, 1, 10, 11]
    assert (doc["none"].exists, doc["leaf"].exists, doc["branch"].exists) == (False, True, True)
    assert (doc["leaf"].has_value, doc["leaf"].has_children) == (True, False)
    assert (doc["branch"].has_value, doc["branch"].has_children) == (False, True)
    assert doc.defined == 10


def test_values_round_trip_with_their_types(store: DocumentStore) -> None:
    """str, int, float and bool values read back equal and of the same type."""
    values: list[Any] = ["Ann", "", "42", "true", 42, -7, 2**80, 4.0, 0.1, -2.5e-300, True, False,
                         "naïve 中 😀", "a\x00b"]  # fmt: skip
    for index, value in enumerate(values):
        store["v"][index].value = value
    for index, value in enumerate(values):
        read = store["v"][index].value
        assert read == value
        assert type(read) is type(value)


@pytest.mark.parametrize("bad", [b"bytes", {"a": 1}, [1], math.nan, math.inf, object()])
def test_values_that_are_not_scalars_are_refused(store: DocumentStore, bad: object) -> None:
    """Assigning bytes, containers, non-finite floats or objects raises StoreError."""
    with pytest.raises(StoreError, match="cannot store"):
        store["v"]["x"].value = bad  # type: ignore[assignment]
    assert not store["v"].exists


@pytest.mark.parametrize("bad", ["", True, None, math.nan, b"x"])
def test_bad_subscripts_are_refused(store: DocumentStore, bad: object) -> None:
    """Empty strings, bools, None, NaN and bytes are not subscripts."""
    with pytest.raises(StoreError):
        store["d"][bad]


def test_setting_none_deletes_only_the_value(store: DocumentStore) -> None:
    """value = None removes the node's own value and keeps its children."""
    node = store["d"]["n"]
    node.value = "x"
    node["child"].value = "y"
    node.value = None
    assert node.value is None
    assert node.defined == 10
    assert node["child"].value == "y"


def test_children_filtered_by_prefix_match_string_keys_only(store: DocumentStore) -> None:
    """prefix selects string children that start with it; numbers never match."""
    fill(store, [*MIXED_KEYS, "abc", "b1", 1, 12])
    assert store["t"].child_keys(prefix="a") == ["a", "a\x00", "ab", "abc"]
    assert store["t"].child_keys(prefix="ab", reverse=True) == ["abc", "ab"]
    assert store["t"].child_keys(prefix="1") == ["10a"]
    assert store["t"].child_keys(prefix="a\x00") == ["a\x00"]
    assert store["t"].child_keys(prefix="q") == []
    all_strings = ["007", "10a", "Z", "a", "a\x00", "ab", "abc", "b", "b1"]
    assert store["t"].child_keys(prefix="") == all_strings


def test_children_in_an_inclusive_range(store: DocumentStore) -> None:
    """start and end bound the keys inclusively, in either direction, numbers and strings."""
    fill(store, MIXED_KEYS)
    children = store["t"]
    assert children.child_keys(start=0, end=10) == [0, 2.5, 10]
    assert children.child_keys(start=-2, end="10a") == [-1.5, 0, 2.5, 10, "007", "10a"]
    assert children.child_keys(start="a", end="ab", reverse=True) == ["ab", "a\x00", "a"]
    assert children.child_keys(start="aa") == ["ab", "b"]
    assert children.child_keys(end=-3) == [-3]
    assert children.child_keys(start="a", end="b", prefix="a") == ["a", "a\x00", "ab"]


def test_children_are_listed_once_however_deep_their_subtrees(store: DocumentStore) -> None:
    """A child with many descendants appears once; count_children counts children only."""
    for i in range(30):
        store["t"]["deep"][i]["x"].value = i
    store["t"]["shallow"].value = 1
    store["t"][5]["a"]["b"]["c"].value = 1
    assert store["t"].child_keys() == [5, "deep", "shallow"]
    assert store["t"].count_children() == 3
    assert store["t"]["deep"].count_children() == 30


def test_first_last_and_siblings_follow_collation_order(store: DocumentStore) -> None:
    """first/last child and next/previous sibling walk the children, None past the ends."""
    fill(store, MIXED_KEYS)
    doc = store["t"]
    first, last = doc.first_child, doc.last_child
    assert first is not None
    assert first.key == -3
    assert last is not None
    assert last.key == "b"
    assert first.previous_sibling is None
    assert last.next_sibling is None
    walked = []
    node: DocumentNode | None = first
    while node is not None:
        walked.append(node.key)
        node = node.next_sibling
    assert walked == MIXED_ORDER
    middle = doc[10]
    assert middle.previous_sibling == doc[2.5]
    assert doc["aa"].next_sibling == doc["ab"]
    assert doc["aa"].previous_sibling == doc["a\x00"]
    assert doc[1].next_sibling == doc[2.5]
    assert store["empty"].first_child is None


def test_document_nodes_have_documents_as_siblings(store: DocumentStore) -> None:
    """The siblings of a document node are the neighbouring documents by name."""
    for name in ("beta", "alpha", "gamma"):
        store[name]["x"].value = 1
    assert store.document_names() == ["alpha", "beta", "gamma"]
    sibling = store["beta"].next_sibling
    assert sibling is not None
    assert sibling.document_name == "gamma"
    assert store["alpha"].previous_sibling is None


def test_identity_properties(store: DocumentStore) -> None:
    """document_name, path, key and parent describe where a node is."""
    node = store["patients"]["42"]["name"]
    assert node.document_name == "patients"
    assert node.path == (42, "name")
    assert node.key == "name"
    assert node.parent == store["patients"][42]
    assert store["patients"].parent is None
    assert store["patients"].key == "patients"
    assert store["patients"][("a", 1)] == store["patients"]["a"][1]
    assert str(node) == '^patients(42,"name")'


def test_delete_removes_the_subtree_and_nothing_else(store: DocumentStore) -> None:
    """delete() removes a node's value and all descendants but not neighbours sharing bytes."""
    doc = store["t"]
    for key in ("a", "a\x00", "ab", 1, 10):
        doc[key].value = "v"
        doc[key]["child"]["grandchild"].value = "w"
    doc["a"].delete()
    assert not doc["a"].exists
    assert doc.child_keys() == [1, 10, "a\x00", "ab"]
    assert doc["ab"]["child"]["grandchild"].value == "w"
    doc[1].delete()
    assert doc[10].defined == 11
    doc.delete()
    assert not doc.exists
    assert store.document_names() == []


def test_increment_counts_from_zero_and_keeps_number_types(store: DocumentStore) -> None:
    """increment treats a missing value as 0, returns the new number, int stays int."""
    counter = store["c"]["n"]
    assert counter.increment() == 1
    assert counter.increment(41) == 42
    assert counter.value == 42
    assert type(counter.value) is int
    assert counter.increment(-50) == -8
    assert counter.increment(0.5) == -7.5
    assert counter.value == -7.5
    other = store["c"]["f"]
    assert other.increment(0.1) == 0.1
    assert other.increment(0.2) == 0.1 + 0.2
    assert isinstance(other.increment(1), float)


def test_increment_refuses_non_numeric_values_and_steps(store: DocumentStore) -> None:
    """Incrementing text or a bool, or by a bool or NaN, raises StoreError and changes nothing."""
    node = store["c"]["text"]
    node.value = "42"
    with pytest.raises(StoreError, match="non-numeric"):
        node.increment()
    assert node.value == "42"
    store["c"]["flag"].value = True
    with pytest.raises(StoreError):
        store["c"]["flag"].increment()
    with pytest.raises(StoreError):
        store["c"]["n"].increment(True)
    with pytest.raises(StoreError):
        store["c"]["n"].increment(math.nan)
    assert not store["c"]["n"].exists


def test_document_names_lists_documents_in_order(store: DocumentStore) -> None:
    """The global directory lists each document with data once, in collation order."""
    for name in ("zeta", "42", "Alpha", "alpha"):
        store[name]["x"][1].value = 1
        store[name].value = "root value"
    assert store.document_names() == ["42", "Alpha", "alpha", "zeta"]
    assert store["42"].document_name == "42"


def test_two_store_objects_see_each_others_writes(
    store: DocumentStore, store_options: dict[str, Any]
) -> None:
    """A second store opened on the same database sees writes at once."""
    with open_store(**store_options) as other:
        store["shared"]["k"].value = "from first"
        assert other["shared"]["k"].value == "from first"
        other["shared"]["k"].delete()
        assert not store["shared"].exists


def test_closed_store_raises_store_error(store_options: dict[str, Any]) -> None:
    """Using a store after close() raises StoreError, not a library exception."""
    closed = open_store(**store_options)
    node = closed["x"]["y"]
    closed.close()
    with pytest.raises(StoreError, match="closed"):
        node.value = 1
    with pytest.raises(StoreError, match="closed"):
        node.increment()


def test_increment_of_ints_beyond_64_bits(store: DocumentStore) -> None:
    """SQLite adds arbitrary-size ints exactly; Redis refuses steps beyond 64 bits."""
    node = store["c"]["big"]
    if store.backend_name == "sqlite":
        assert node.increment(2**70) == 2**70
        assert node.increment() == 2**70 + 1
    else:
        with pytest.raises(StoreError, match="64-bit"):
            node.increment(2**70)
        node.value = 2**62
        assert node.increment(2**62 - 1) == 2**63 - 1
        with pytest.raises(StoreError):
            node.increment()
        assert node.value == 2**63 - 1
